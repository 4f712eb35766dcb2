/**
 * An app bundled by esbuild with the library inside the bundle (docs/bundling.md): the app's source
 * imports 'reactive-log', esbuild resolves it to this package's dist/index.js and inlines it, with no
 * option but the banner (no external named): piscina and fs-native-extensions, which the library loads
 * with a require esbuild does not follow, stay packages of node_modules. Two bundles, ES module (with the
 * usual createRequire banner) and CommonJS, each run with node in a temporary folder that holds the
 * bundle, the user's pool handler module and a node_modules with only those two packages and
 * their dependencies (symlinks into this repository's node_modules): no other copy of the library is
 * in reach. The app runs a producer, a consumer that reads every record back, and a pool of 2 workers
 * whose handler module is the user's file; it exits 0 after its "ok:" line.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import webpack, { type Configuration } from 'webpack';
import { installedClosure, suite, tempDir } from './kit.js';

const test = suite('bundle');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXTERNAL = ['piscina', 'fs-native-extensions'];
const RECORDS = 300;
const DIST_INDEX = join(ROOT, 'dist', 'index.js');

const APP = `
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from 'reactive-log';

// One async function, not top-level await: the CommonJS output has none.
async function main() {
const here = dirname(process.argv[1]);
const logDir = join(here, 'log');
const RECORDS = ${RECORDS};

const producer = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
for (let i = 0; i < RECORDS; i++) {
  const offset = i % 2 === 0 ? producer.append('rec-' + i, { key: 'k' + i }) : producer.append('rec-' + i);
  assert.equal(offset, i);
}
await producer.flush();
assert.equal(producer.durableOffset, RECORDS);
await producer.close();

const consumer = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
let read = 0;
for (const msg of consumer.iter()) {
  assert.equal(msg.offset, read);
  assert.equal(Buffer.from(msg.data).toString(), 'rec-' + read);
  assert.equal(msg.key === null ? null : Buffer.from(msg.key).toString(), read % 2 === 0 ? 'k' + read : null);
  read++;
}
assert.equal(read, RECORDS);
await consumer.close();

const pooled = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('bundle') });
const summary = await pooled.nonblockingProcess(null, join(here, 'handler.mjs'), { workers: 2 });
assert.deepEqual(summary, { committed: RECORDS, skipped: 0, retried: 0, stoppedBy: 'end' });
assert.equal(pooled.committedOffset, RECORDS);
await pooled.close();
console.log('ok: appended ' + RECORDS + ', read ' + read + ', pool committed ' + summary.committed);
}
main().catch((e) => { console.error(e); process.exitCode = 1; });
`;

// The user's handler: it skips a record whose data is not its own, so a wrong record shows in the summary.
const HANDLER = "export default (msg) => (Buffer.from(msg.data).toString() === 'rec-' + msg.offset ? 'commit' : 'skip');\n";

/** esbuild resolves 'reactive-log' to `index` (a dist/index.js): the library goes into the bundle. */
function libraryAt(index: string): Plugin {
  return { name: 'reactive-log', setup: (b) => b.onResolve({ filter: /^reactive-log$/ }, () => ({ path: index })) };
}


/** A folder holding the bundled app (app.mjs or app.cjs), the user's handler module and the externals only. */
async function bundledApp(format: 'esm' | 'cjs', index: string, banner = format === 'esm'): Promise<{ dir: string; app: string }> {
  const dir = tempDir('rlog-bundle-');
  writeFileSync(join(dir, 'app-source.mjs'), APP);
  const run = join(dir, 'run');
  mkdirSync(run);
  const app = join(run, format === 'esm' ? 'app.mjs' : 'app.cjs');
  await build({
    entryPoints: [join(dir, 'app-source.mjs')],
    outfile: app,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format,
    // No external named: the library loads piscina and fs-native-extensions with a require of its
    // own, which esbuild does not follow, so both stay packages of node_modules.
    plugins: [libraryAt(index)],
    // The usual banner of a Node ESM bundle, under a name of its own (a bundled module may import createRequire too).
    banner: banner ? { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" } : {},
    logLevel: 'error',
  });
  writeFileSync(join(run, 'handler.mjs'), HANDLER);
  for (const name of installedClosure(ROOT, EXTERNAL)) {
    mkdirSync(join(run, 'node_modules', name, '..'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', name), join(run, 'node_modules', name), 'dir');
  }
  return { dir: run, app };
}

/** The same app bundled by webpack 5 (target node), as docs/bundling.md says: no external named. */
async function webpackApp(format: 'esm' | 'cjs'): Promise<{ dir: string; app: string }> {
  const dir = tempDir('rlog-webpack-');
  writeFileSync(join(dir, 'app-source.mjs'), APP);
  const run = join(dir, 'run');
  const file = format === 'esm' ? 'app.mjs' : 'app.cjs';
  const config: Configuration = {
    mode: 'production', target: 'node', entry: join(dir, 'app-source.mjs'), optimization: { minimize: false },
    resolve: { alias: { 'reactive-log$': DIST_INDEX } },
    output: format === 'esm'
      ? { path: run, filename: file, module: true, chunkFormat: 'module', library: { type: 'module' } }
      : { path: run, filename: file },
    experiments: format === 'esm' ? { outputModule: true } : {},
  };
  await new Promise<void>((resolve, reject) => webpack(config, (err, stats) => {
    if (err) reject(err);
    else if (stats?.hasErrors() === true) reject(new Error(stats.toString('errors-only')));
    else resolve();
  }));
  writeFileSync(join(run, 'handler.mjs'), HANDLER);
  for (const name of installedClosure(ROOT, EXTERNAL)) {
    mkdirSync(join(run, 'node_modules', name, '..'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', name), join(run, 'node_modules', name), 'dir');
  }
  return { dir: run, app: join(run, file) };
}

function runApp(dir: string, app: string): ReturnType<typeof spawnSync> & { stdout: string; stderr: string } {
  return spawnSync(process.execPath, [app], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
}


for (const [format, banner] of [['esm', true], ['esm', false], ['cjs', false]] as const) {
  test(`an app bundled as ${format}${banner ? ' (createRequire banner)' : ''} runs a producer, a consumer and a pool with nothing copied`, async () => {
    const { dir, app } = await bundledApp(format, DIST_INDEX, banner);
    const bundle = readFileSync(app, 'utf8');
    assert.ok(bundle.includes('reactive-log writer'), 'the library (its embedded writer) is in the bundle');
    assert.not.ok(bundle.includes('class Piscina'), 'piscina is not inlined');
    assert.equal(readdirSync(dir).sort(), [format === 'esm' ? 'app.mjs' : 'app.cjs', 'handler.mjs', 'node_modules']);
    assert.not.ok(existsSync(join(dir, 'node_modules', 'reactive-log')), 'no other copy of the library');
    const r = runApp(dir, app);
    assert.is(r.status, 0, `exit ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
    assert.is(r.stdout.trim(), `ok: appended ${RECORDS}, read ${RECORDS}, pool committed ${RECORDS}`);
  });
}

// webpack rewrote the library's createRequire call into undefined (every Producer.open: ERR_IO, "install
// fs-native-extensions"), and its ES module output puts the build's path in import.meta.url.
for (const format of ['cjs', 'esm'] as const) {
  test(`an app bundled by webpack as ${format} runs a producer, a consumer and a pool`, async () => {
    const { dir, app } = await webpackApp(format);
    assert.ok(readFileSync(app, 'utf8').includes('reactive-log writer'), 'the library (its embedded writer) is in the bundle');
    const r = runApp(dir, app);
    assert.is(r.status, 0, `exit ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
    assert.is(r.stdout.trim(), `ok: appended ${RECORDS}, read ${RECORDS}, pool committed ${RECORDS}`);
  });
}

// The @nats-io packages are CommonJS, and one of their dependencies requires 'crypto': an ES module
// bundle that inlines them needs the createRequire banner. Without it the open said "install them".
const JS_APP = `
import { Producer } from 'reactive-log';
import { jetstream } from 'reactive-log/jetstream';
try {
  await Producer.open({ backend: jetstream({ servers: 'nats://127.0.0.1:1', stream: 'bundled', timeoutMs: 500 }) });
  console.log('opened');
} catch (e) {
  console.log(JSON.stringify({ code: e.code, message: e.message }));
}
`;

for (const banner of [true, false]) {
  test(`reactive-log/jetstream in an ES module bundle ${banner ? 'with' : 'without'} the createRequire banner`, async () => {
    const dir = tempDir('rlog-bundle-js-');
    writeFileSync(join(dir, 'app-source.mjs'), JS_APP);
    const app = join(dir, 'app.mjs');
    const paths: Record<string, string> = { 'reactive-log': DIST_INDEX, 'reactive-log/jetstream': join(ROOT, 'dist', 'jetstream.js') };
    await build({
      entryPoints: [join(dir, 'app-source.mjs')], outfile: app, bundle: true, platform: 'node', target: 'node20', format: 'esm',
      plugins: [{ name: 'reactive-log', setup: (b) => b.onResolve({ filter: /^reactive-log(\/jetstream)?$/ }, (a) => ({ path: paths[a.path]! })) }],
      banner: banner ? { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" } : {},
      logLevel: 'error',
    });
    const r = runApp(dir, app);
    assert.is(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout.trim()) as { code: string; message: string };
    if (banner) {
      assert.is(got.code, 'ERR_IO', got.message); // the packages loaded: nothing listens there
    } else {
      assert.is(got.code, 'ERR_INVALID_OPTION', got.message);
      assert.match(got.message, /could not load the packages .*createRequire banner/);
      assert.not.match(got.message, /install them/);
    }
  });
}

test('the bundle runs the writer it embeds: with that code broken, the producer fails to open', async () => {
  // A copy of dist/ whose embedded writer throws on its first line (its banner comment replaced).
  const copy = join(tempDir('rlog-bundle-dist-'), 'dist');
  cpSync(join(ROOT, 'dist'), copy, { recursive: true });
  let replaced = 0;
  for (const f of readdirSync(copy).filter((n) => n.endsWith('.js'))) {
    const text = readFileSync(join(copy, f), 'utf8');
    if (!text.includes('// reactive-log writer')) continue;
    writeFileSync(join(copy, f), text.replace('// reactive-log writer', 'throw RangeError();//'));
    replaced++;
  }
  assert.is(replaced, 1, 'the embedded writer is in one ESM file of dist/');
  const { dir, app } = await bundledApp('esm', join(copy, 'index.js'));
  const r = runApp(dir, app);
  assert.is.not(r.status, 0, r.stdout);
  assert.match(r.stderr, /ERR_WRITER_FAILED/);
});

test.run();
