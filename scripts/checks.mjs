#!/usr/bin/env node
// The checks `npm test` runs before the tests (after the build): both type-checks, the linter, the
// import-cycle check and the ASCII check of the build, two at a time (the machine the suite is sized for has two cores). Each
// command's output is printed when it ends; the exit status is 1 when any of them failed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const bin = (pkg, name) => join('node_modules', pkg, 'bin', name);
const CHECKS = [
  ['typecheck src', [bin('typescript', 'tsc'), '-p', 'tsconfig.json', '--noEmit']],
  ['typecheck test', [bin('typescript', 'tsc'), '-p', 'test/tsconfig.json', '--noEmit']],
  ['lint', [bin('eslint', 'eslint.js'), '.']],
  ['import cycles', ['scripts/check-cycles.mjs']],
  ['ASCII build', ['scripts/check-ascii-dist.mjs']],
];

const failed = [];
async function run([name, args]) {
  const t0 = Date.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s) => { out += s; });
  child.stderr.setEncoding('utf8').on('data', (s) => { out += s; });
  const status = await new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  process.stdout.write(`${out}${status === 0 ? 'ok' : 'FAILED'}: ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  if (status !== 0) failed.push(name);
}

const queue = [...CHECKS];
await Promise.all([0, 1].map(async () => {
  for (let c = queue.shift(); c !== undefined; c = queue.shift()) await run(c);
}));
process.exit(failed.length > 0 ? 1 : 0);
