/**
 * The package installed under a folder whose name has a space, non-ASCII letters and the characters a
 * file URL escapes or cuts at ('%', '#', '?'), loaded from ESM and from CommonJS: a producer takes the
 * lock (fs-native-extensions, required from the library's own file), a pool of 2 runs the user's
 * handler module beside the app (piscina, required the same way), and the process exits 0. The
 * installed copy is dist/ and package.json under node_modules/reactive-log, with piscina and
 * fs-native-extensions and their dependencies as symlinks into this repository's node_modules.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installedClosure, suite, tempDir } from './kit.js';

const test = suite('install-path');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RECORDS = 50;


const body = (log: string): string => `
const logDir = join(here, '${log}');
const producer = await Producer.open({ logDir });
for (let i = 0; i < ${RECORDS}; i++) producer.append('rec-' + i);
await producer.close();
const consumer = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('pool') });
const summary = await consumer.nonblockingProcess(null, join(here, 'handler.mjs'), { workers: 2 });
await consumer.close();
console.log('ok: pool committed ' + summary.committed);
`;

const APPS = {
  'app.mjs': `import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer } from 'reactive-log';
const here = dirname(fileURLToPath(import.meta.url));
${body('log-esm')}`,
  'app.cjs': `const { join } = require('node:path');
const { Consumer, ConsumerStyle, Producer } = require('reactive-log');
const here = __dirname;
(async () => {
${body('log-cjs')}
})().catch((e) => { console.error(e); process.exitCode = 1; });
`,
};

/** A project under `name` with the package installed in its node_modules. */
function project(name: string): string {
  const dir = join(tempDir('rlog-install-'), name);
  const pkg = join(dir, 'node_modules', 'reactive-log');
  mkdirSync(pkg, { recursive: true });
  cpSync(join(ROOT, 'dist'), join(pkg, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  for (const dep of installedClosure(ROOT, ['piscina', 'fs-native-extensions'])) {
    mkdirSync(join(dir, 'node_modules', dep, '..'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', dep), join(dir, 'node_modules', dep), 'dir');
  }
  writeFileSync(join(dir, 'handler.mjs'), "export default () => 'commit';\n");
  for (const [file, text] of Object.entries(APPS)) writeFileSync(join(dir, file), text);
  return dir;
}

for (const name of ['my app ü 日本', 'app #2 100%41 ?x']) {
  const dir = project(name);
  for (const app of Object.keys(APPS)) {
    test(`installed under "${name}": ${app} opens a producer and runs a pool`, () => {
      const r = spawnSync(process.execPath, [app], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      assert.is(r.status, 0, `exit ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
      assert.is(r.stdout.trim(), `ok: pool committed ${RECORDS}`);
    });
  }
}

test.run();
