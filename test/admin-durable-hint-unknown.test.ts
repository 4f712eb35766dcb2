/**
 * inspectLog, `info`, `cursor list` and resetCursor beside a live producer when durable.offset holds
 * no readable value (empty, or a checksum that does not match): resetCursor takes the end of the
 * whole frames in the files, where a consumer in another process may open, never the log start
 * (which refused valid offsets and rewound a cursor reset to 'latest' to the log start); inspectLog
 * reports no record durable past the log start and no cursor lag, as a consumer in another process,
 * which hands out nothing new then, reads it (test/inspect-lag-hint-unknown.test.ts). And with producers opening and closing beside resetCursor in another
 * process, every reset to 'latest' lands at the durable end: a producer that opens never leaves
 * durable.offset empty or short.
 */
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, inspectLog, resetCursor } from '../dist/index.js';
import { liveLogOf, suite } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('admin-durable-hint-unknown');
test.after(killCliProcesses);

async function withCursor(logDir: string, id: string): Promise<void> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx(id) });
  await c.close();
}

test('durable.offset empty while a producer holds the log: reset takes the end of the files, never the log start; info and cursor list show no lag', async () => {
  const { logDir, p } = await liveLogOf(100);
  try {
    await withCursor(logDir, 'billing');
    truncateSync(join(logDir, 'durable.offset'), 0);
    const info = cli('info', logDir, '--json');
    assert.is(info.status, 0, info.stderr);
    const i = JSON.parse(info.stdout) as { durableOffset: number; nextOffset: number; cursors: Array<{ lag: { records: number } }> };
    console.log(`  info: nextOffset ${i.nextOffset}, durableOffset ${i.durableOffset}, cursor lag ${i.cursors[0]!.lag.records} records`);
    assert.is(i.durableOffset, 0, 'no record is proven durable');
    assert.is(i.cursors[0]!.lag.records, 0, 'a consumer in another process hands out nothing new');
    const list = cli('cursor', 'list', logDir);
    assert.is(list.status, 0, list.stderr);
    assert.match(list.stdout, /lag 0 records/);
    const mid = cli('cursor', 'reset', logDir, 'billing', '--to', '50', '--json');
    assert.is(mid.status, 0, `--to 50: ${mid.stderr}`);
    assert.equal(JSON.parse(mid.stdout), { id: 'billing', from: 0, to: 50 });
    const r = cli('cursor', 'reset', logDir, 'billing', '--to', 'latest', '--json');
    console.log(`  cursor reset --to latest: ${r.stdout.trim()}${r.stderr.trim()} (exit ${r.status})`);
    assert.equal(JSON.parse(r.stdout), { id: 'billing', from: 50, to: 100 });
  } finally {
    await p.close();
  }
});

test('durable.offset whose checksum does not match (a torn read of a rewrite) while a producer holds the log: a reset to latest does not rewind', async () => {
  const { logDir, p } = await liveLogOf(100);
  try {
    await withCursor(logDir, 'billing');
    await resetCursor(logDir, 'billing', { to: 80 });
    // 100 in its first 8 bytes, with a checksum that does not match them.
    const torn = Buffer.alloc(12);
    torn.writeUInt32LE(100, 0);
    torn.writeUInt32LE(0xdeadbeef, 8);
    writeFileSync(join(logDir, 'durable.offset'), torn);
    const info = await inspectLog(logDir);
    assert.ok(info.producer !== null, 'the producer is alive');
    assert.is(info.durableOffset, 0, 'no record is proven durable');
    assert.equal(await resetCursor(logDir, 'billing', { to: 'latest' }), { id: 'billing', from: 80, to: 100 });
  } finally {
    await p.close();
  }
});

test('resetCursor to latest in another process while producers open and close here: every reset lands at the durable end', async () => {
  const { logDir, p } = await liveLogOf(100);
  await withCursor(logDir, 'billing');
  await p.close();
  const resets = 300;
  const dist = new URL('../dist/index.js', import.meta.url).pathname;
  const script = `
    const { resetCursor } = await import(${JSON.stringify(dist)});
    const tos = new Map();
    for (let k = 0; k < ${resets}; k++) { const r = await resetCursor(${JSON.stringify(logDir)}, 'billing', { to: 'latest' }); tos.set(r.to, (tos.get(r.to) ?? 0) + 1); }
    console.log(JSON.stringify([...tos]));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
  child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
  let done = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { done = true; resolve(code); }));
  let opens = 0;
  while (!done) {
    const q = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
    await q.close();
    opens++;
  }
  const code = await exited;
  assert.is(code, 0, err);
  const counts = new Map(JSON.parse(out) as Array<[number, number]>);
  console.log(`  ${resets} resets beside ${opens} producer opens; targets (offset -> times): ${JSON.stringify([...counts])}`);
  assert.equal([...counts], [[100, resets]], 'every reset to latest lands at 100, the durable end');
});

test.run();
