/**
 * A consumer that creates durable.offset to hold the readers lock gives the file the directory's owner,
 * group and rw bits (readers-lock.ts adopt). Until it has, the log's producer, run by the directory's
 * user, must not meet the file with the consumer's owner: its open for writing would be refused
 * (EACCES). The consumer runs as root in a child whose fchown is held back until the test lets it go;
 * meanwhile the producer opens as `nobody`. Needs root; otherwise it is skipped.
 */
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, tempDir, waitFor } from './kit.js';

const test = suite('readers-lock-adopt-window');
const NOBODY = 65534;
const DIST = new URL('../dist/index.js', import.meta.url).href;

function produceAsNobody(logDir: string): string {
  const script = `import { Producer } from ${JSON.stringify(DIST)};
try {
  const p = await Producer.open({ logDir: ${JSON.stringify(logDir)} });
  p.append('record-0'); await p.flush(); await p.close(); console.log('ok');
} catch (e) { console.log(String(e.code) + ' ' + e.message); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, uid: NOBODY, gid: NOBODY });
  return `${r.stdout.trim()}${r.stderr.trim() === '' ? '' : ` (stderr: ${r.stderr.trim().split('\n')[0]})`}`;
}

/** A consumer (as root) whose first fchown waits for `go`, after it made `paused`; prints the first record or the error. */
function consumerScript(logDir: string, paused: string, go: string): string {
  return `import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const orig = fs.fchownSync;
const nap = new Int32Array(new SharedArrayBuffer(4));
fs.fchownSync = (fd, uid, gid) => {
  fs.fchownSync = orig; syncBuiltinESMExports();
  fs.writeFileSync(${JSON.stringify(paused)}, '');
  const until = Date.now() + 30000;
  while (!fs.existsSync(${JSON.stringify(go)}) && Date.now() < until) Atomics.wait(nap, 0, 0, 5);
  return orig(fd, uid, gid);
};
syncBuiltinESMExports();
const { Consumer, ConsumerStyle, Whence } = await import(${JSON.stringify(DIST)});
try {
  const c = await Consumer.open({ logDir: ${JSON.stringify(logDir)}, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const m = c.iter().next();
  console.log(m.done ? 'none' : Buffer.from(m.value.data).toString());
  await c.close();
} catch (e) { console.log(String(e.code) + ' ' + e.message); }`;
}

test('a producer run by the directory\'s user opens while a root consumer is still giving durable.offset that owner', async () => {
  if (process.getuid?.() !== 0) {
    console.log('readers-lock-adopt-window: SKIPPED: needs root to run the producer as another user');
    return;
  }
  const logDir = tempDir();
  chmodSync(logDir, 0o755);
  chownSync(logDir, NOBODY, NOBODY);
  const signals = tempDir();
  const paused = join(signals, 'paused');
  const go = join(signals, 'go');
  const child = spawn(process.execPath, ['--input-type=module', '-e', consumerScript(logDir, paused, go)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    await waitFor(() => existsSync(paused) || child.exitCode !== null, 'the consumer to create durable.offset', 30_000);
    assert.ok(existsSync(paused), `the consumer reached its fchown: ${out}`);
    assert.is(produceAsNobody(logDir), 'ok', 'the producer opens while the consumer has not yet changed the file\'s owner');
  } finally {
    writeFileSync(go, '');
    await exited;
  }
  assert.is(out.trim(), 'record-0', 'the consumer opens and reads the producer\'s record');
  const st = statSync(join(logDir, 'durable.offset'));
  assert.equal([st.uid, st.gid], [NOBODY, NOBODY], 'durable.offset has the directory\'s owner and group');
  assert.equal(readdirSync(logDir).filter((n) => n.startsWith('durable.offset')), ['durable.offset'], 'no other file left beside it');
});

test('a directory holding only the file a consumer that died was making is a log\'s', async () => {
  const { Producer } = await import('../dist/index.js');
  const logDir = tempDir();
  writeFileSync(join(logDir, 'durable.offset.4242-0-0.adopt'), '');
  const p = await Producer.open({ logDir });
  await p.close();
});

test.run();
