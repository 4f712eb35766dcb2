/**
 * An app bundled by esbuild and deployed without fs-native-extensions (the mistake docs/bundling.md
 * warns about: the lock's prebuilt addon must stay a package of node_modules). Producer.open fails
 * with a coded LogError that names the package, and writes nothing: a new logDir is not created, an
 * existing empty one stays empty, an existing log gets no producer.lock.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { suite, tempDir } from './kit.js';

const test = suite('lock-addon-missing');
const DIST_INDEX = fileURLToPath(new URL('../dist/index.js', import.meta.url));

// Opens a producer on argv[2]; prints the error's code and message as JSON, or "opened".
const APP = `
import { Producer, isLogError } from 'reactive-log';
try {
  const p = await Producer.open({ logDir: process.argv[2] });
  await p.close();
  console.log('opened');
} catch (e) {
  console.log(JSON.stringify({ logError: isLogError(e), code: e.code, message: e.message }));
}
`;

async function bundledApp(): Promise<string> {
  const dir = tempDir('rlog-no-addon-');
  writeFileSync(join(dir, 'app-source.mjs'), APP);
  const app = join(dir, 'run', 'app.mjs');
  await build({
    entryPoints: [join(dir, 'app-source.mjs')],
    outfile: app,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    plugins: [{ name: 'reactive-log', setup: (b) => b.onResolve({ filter: /^reactive-log$/ }, () => ({ path: DIST_INDEX })) }],
    logLevel: 'error',
  });
  return app;
}

function openWith(app: string, logDir: string): { logError: boolean; code: string; message: string } {
  const r = spawnSync(process.execPath, [app, logDir], { cwd: join(app, '..'), encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, `exit ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  assert.is.not(r.stdout.trim(), 'opened', 'the producer opened without its lock addon');
  return JSON.parse(r.stdout) as { logError: boolean; code: string; message: string };
}

test('Producer.open without fs-native-extensions: a coded LogError naming it, and nothing written', async () => {
  const app = await bundledApp();
  assert.not.ok(existsSync(join(app, '..', 'node_modules')), 'no node_modules beside the bundle');
  const root = tempDir('rlog-no-addon-logs-');

  const fresh = join(root, 'new-log');
  const e1 = openWith(app, fresh);
  assert.ok(e1.logError, JSON.stringify(e1));
  assert.is(e1.code, 'ERR_IO');
  assert.match(e1.message, /fs-native-extensions/);
  assert.not.ok(existsSync(fresh), 'the log directory was created');

  const empty = join(root, 'empty');
  mkdirSync(empty);
  const e2 = openWith(app, empty);
  assert.is(e2.code, 'ERR_IO');
  assert.equal(readdirSync(empty), [], 'files were left in the empty directory');
});

test.run();
