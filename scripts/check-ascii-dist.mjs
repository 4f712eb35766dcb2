#!/usr/bin/env node
// The built JavaScript (dist/*.js, *.cjs) holds ASCII only. V8 keeps a script's source as one byte per
// character only when every character fits one byte: a single '→' in a comment esbuild keeps makes the
// whole 550 KB chunk two bytes per character, which a producer's process holds from its import on
// (about 1 MiB more resident memory, measured with process.resourceUsage().maxRSS). esbuild escapes
// strings and identifiers; comments it keeps are this check's.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const bad = [];
for (const name of readdirSync('dist').filter((n) => /\.(c?js)$/.test(n)).sort()) {
  const text = readFileSync(join('dist', name), 'utf8');
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const at = line.search(/[^\t\n\r\x20-\x7e]/); // tabs and printable ASCII only
    if (at >= 0) bad.push(`dist/${name}:${i + 1}: ${JSON.stringify(line.slice(Math.max(0, at - 30), at + 30))}`);
  });
}
if (bad.length > 0) {
  process.stdout.write(`non-ASCII characters in the build (write them as ASCII in the sources: a comment esbuild keeps):\n${bad.slice(0, 20).join('\n')}\n`);
  process.exit(1);
}
