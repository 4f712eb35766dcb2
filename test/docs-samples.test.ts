/**
 * Every TypeScript sample of README.md and docs/*.md compiles against the published declarations
 * (dist/*.d.ts, through the package's exports), as a user's module with strict on: each ```ts block
 * is a file of its own in a temporary project. The names a sample uses without declaring them are
 * declared once for all: the library's handles with their real types (`producer`, `consumer`,
 * `logDir`, ...), the app's own functions and data as `any`. A block that is a shape, not code (it
 * starts with `{`), is left out.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite, tempDir } from './kit.js';

const test = suite('docs-samples');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

const GLOBALS = `/// <reference types="node" />
import type * as RL from 'reactive-log';
declare global {
  var Producer: typeof RL.Producer;
  var Consumer: typeof RL.Consumer;
  var ConsumerStyle: typeof RL.ConsumerStyle;
  var Whence: typeof RL.Whence;
  type Outcome = RL.Outcome;
  var producer: RL.Producer;
  var consumer: RL.Consumer;
  var logDir: string;
  var dir: string;
  var url: URL;
  var signal: AbortSignal;
  var controller: AbortController;
  var Worker: typeof import('node:worker_threads').Worker;
  // The app's own data and functions.
  var order: any;
  var records: any;
  var workerData: any;
  var nextState: any;
  var accountId: any;
  var persistSomewhere: any;
  var bill: any;
  var debit: any;
  var credit: any;
}
export {};
`;

test('every ```ts sample of README.md and docs/ compiles against the declarations', () => {
  const dir = tempDir('rlog-docs-samples-');
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'reactive-log'), 'dir');
  symlinkSync(join(ROOT, 'node_modules', '@types'), join(dir, 'node_modules', '@types'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'esnext.disposable'], strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
    include: ['src'],
  }));
  writeFileSync(join(dir, 'src', 'globals.ts'), GLOBALS);
  const docs = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  let samples = 0;
  for (const doc of docs) {
    const text = readFileSync(join(ROOT, doc), 'utf8');
    for (const m of text.matchAll(/^```ts\n([\s\S]*?)^```/gm)) {
      if (m[1]!.trimStart().startsWith('{')) continue;
      const line = text.slice(0, m.index).split('\n').length;
      writeFileSync(join(dir, 'src', `${doc.replace(/[/.]/g, '_')}_${line}.ts`), `export {};\n${m[1]!}`);
      samples++;
    }
  }
  assert.ok(samples >= 20, `found ${samples} samples`);
  const r = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  // A file name says the doc and the line of its block's opening fence: src/docs_jetstream_md_6.ts is docs/jetstream.md:6.
  assert.is(r.status, 0, `${r.stdout}${r.stderr}`);
});

test.run();
