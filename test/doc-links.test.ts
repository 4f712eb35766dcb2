/**
 * The relative links of README.md, CHANGELOG.md and docs/*.md: each names a file of the repository
 * and, after a `#`, a heading of that page (GitHub's anchors); and the pages the npm package ships
 * (README.md, CHANGELOG.md and the docs of package.json's "files") link only to files it ships, so
 * a reader of the installed package (or of its npm page) never follows a link to nothing.
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from './kit.js';

const test = suite('doc-links');
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The markdown text outside fenced code blocks. */
function prose(file: string): string {
  return readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
}

/** The relative links of a page: [text](target), without web or mail addresses. */
function links(file: string): string[] {
  const out: string[] = [];
  for (const m of prose(file).matchAll(/\]\(([^)\s]+)\)/g)) {
    if (!/^(https?:|mailto:)/.test(m[1]!)) out.push(m[1]!);
  }
  return out;
}

/** GitHub's anchors of a page's headings (a repeated heading gets -1, -2, ...). */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(file).matchAll(/^#{1,6}\s+(.*)$/gm)) {
    const text = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '');
    const base = text.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

const pages = ['README.md', 'CHANGELOG.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

test('every relative link names a file of the repository and a heading of that page', () => {
  const broken: string[] = [];
  for (const page of pages) {
    const file = join(ROOT, page);
    for (const link of links(file)) {
      const [path, anchor] = link.split('#');
      const target = path ? resolve(dirname(file), path) : file;
      if (!existsSync(target)) broken.push(`${page}: ${link} (no such file)`);
      else if (anchor && target.endsWith('.md') && !anchors(target).has(anchor)) broken.push(`${page}: ${link} (no such heading)`);
    }
  }
  assert.equal(broken, []);
});

test('the pages the package ships link only to files it ships', () => {
  const files = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] }).files;
  // npm always packs package.json, README and LICENSE besides the "files" entries (a file or a folder).
  const shippedPath = (p: string): boolean => ['package.json', 'README.md', 'LICENSE'].includes(p)
    || files.some((f) => p === f || p.startsWith(`${f}/`));
  const shippedPages = pages.filter(shippedPath);
  assert.ok(shippedPages.includes('README.md') && shippedPages.includes('docs/cli.md'), shippedPages.join(', '));
  const outside: string[] = [];
  for (const page of shippedPages) {
    const file = join(ROOT, page);
    for (const link of links(file)) {
      const path = link.split('#')[0]!;
      const target = relative(ROOT, path ? resolve(dirname(file), path) : file).replace(/\\/g, '/');
      if (!shippedPath(target)) outside.push(`${page}: ${link} (${target} is not in the package)`);
    }
  }
  assert.equal(outside, []);
});

test.run();
