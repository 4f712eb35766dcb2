/**
 * Recovery on open: clean reopen, kill -9 of a child producer, torn tails written by hand, damage in the
 * middle (ERR_LOG_CORRUPT naming file and position), torn rolls, missing segments, and locks.
 */
import * as assert from 'uvu/assert';
import { appendFileSync, openSync, readSync, writeSync, closeSync, existsSync, readdirSync, statSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Producer, Consumer, ConsumerStyle, Whence } from '../dist/index.js';
import { suite, tempDir, rejectsWith, readTexts, logOf } from './kit.js';
import { expectedRecord } from './crash-record.js';
import { Child } from './child.js';

const test = suite('recovery');

const segs = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.seg')).sort();

/** Writes `frames` frames of `per` records each to a fresh log (one flush per frame under always). */
async function writeFrames(logDir: string, frames: number, per: number, extra: Record<string, unknown> = {}): Promise<number> {
  const records = Array.from({ length: frames * per }, (_, i) => expectedRecord(i));
  await logOf(records, { logDir, flushAfter: (i) => (i + 1) % per === 0, ...extra });
  return records.length;
}

test('reopen after a clean close continues the offsets and keeps every record', async () => {
  const logDir = tempDir();
  const n = await writeFrames(logDir, 5, 200, { fileRollSize: 4096 });
  const p = await Producer.open({ logDir });
  assert.is(p.nextOffset, n);
  assert.is(p.recovery.truncated, null);
  assert.is(p.append(expectedRecord(n)), n);
  await p.close();
  const all = await readTexts(logDir);
  assert.is(all.length, n + 1);
  all.forEach((r, i) => assert.is(r, expectedRecord(i)));
});

test('a torn tail written by hand is truncated to the last valid frame, and appends continue', async () => {
  const logDir = tempDir();
  const n = await writeFrames(logDir, 4, 50);
  const last = join(logDir, segs(logDir).at(-1)!);
  const before = statSync(last).size;
  // A frame header that promises more bytes than follow: what a crash mid-write leaves.
  const fd = openSync(last, 'r');
  const head = Buffer.alloc(40);
  readSync(fd, head, 0, 40, 32);
  closeSync(fd);
  appendFileSync(last, Buffer.concat([head, Buffer.alloc(100, 0xab)]));
  const p = await Producer.open({ logDir });
  assert.ok(p.recovery.truncated !== null, 'recovery reports the truncation');
  assert.is(p.recovery.truncated!.position, before);
  assert.is(p.recovery.truncated!.bytes, 140);
  assert.is(statSync(last).size, before);
  assert.is(p.nextOffset, n);
  p.append(expectedRecord(n));
  await p.close();
  const all = await readTexts(logDir);
  assert.is(all.length, n + 1);
  all.forEach((r, i) => assert.is(r, expectedRecord(i)));
});

test('zero-filled and garbage tails are truncated too', async () => {
  for (const tail of [Buffer.alloc(4096), Buffer.from('not a frame at all, just noise'.repeat(20))]) {
    const logDir = tempDir();
    const n = await writeFrames(logDir, 2, 10);
    appendFileSync(join(logDir, segs(logDir).at(-1)!), tail);
    const p = await Producer.open({ logDir });
    assert.is(p.recovery.truncated?.bytes, tail.length);
    assert.is(p.nextOffset, n);
    await p.close();
    assert.is((await readTexts(logDir)).length, n);
  }
});

test('a bad checksum in the middle of the last segment is ERR_LOG_CORRUPT naming file and position', async () => {
  const logDir = tempDir();
  await writeFrames(logDir, 5, 20);
  const name = segs(logDir).at(-1)!;
  const path = join(logDir, name);
  // Flip one byte inside the body of the first frame (the header is 32 bytes, the frame header 40).
  const fd = openSync(path, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, 32 + 40 + 6);
  b[0]! ^= 0x01;
  writeSync(fd, b, 0, 1, 32 + 40 + 6);
  closeSync(fd);
  const sizeBefore = statSync(path).size;
  const err = await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_CORRUPT');
  const details = (err as unknown as { details: { file: string; position: number } }).details;
  assert.is(details.file, name);
  assert.is(details.position, 32);
  assert.match(err.message, name);
  assert.is(statSync(path).size, sizeBefore, 'nothing was truncated');
  // The lock was released: a second attempt fails the same way, not with ERR_LOG_LOCKED.
  await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_CORRUPT');
});

test('damage in a sealed segment is ERR_LOG_CORRUPT for a reader, never a skipped record', async () => {
  const logDir = tempDir();
  await writeFrames(logDir, 6, 100, { fileRollSize: 2048 });
  const first = join(logDir, segs(logDir)[0]!);
  const fd = openSync(first, 'r+');
  writeSync(fd, Buffer.from([0xff, 0xfe]), 0, 2, 32 + 40 + 1); // inside the first frame's first length field
  closeSync(fd);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  let delivered = 0;
  try {
    for (const _ of c.iter()) delivered++;
    assert.unreachable('the damaged frame must stop the reader');
  } catch (e) {
    assert.is((e as { code: string }).code, 'ERR_LOG_CORRUPT');
  } finally {
    await c.close();
  }
  assert.is(delivered, 0, 'no record of the damaged first frame, and none after it');
});

test('a missing middle segment is ERR_LOG_CORRUPT on open', async () => {
  const logDir = tempDir();
  await writeFrames(logDir, 6, 100, { fileRollSize: 2048 });
  const names = segs(logDir);
  assert.ok(names.length >= 3);
  unlinkSync(join(logDir, names[1]!));
  const err = await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_CORRUPT');
  assert.match(err.message, 'do not chain');
});

test('a torn roll (a new segment without a whole header) is removed on open', async () => {
  const logDir = tempDir();
  const n = await writeFrames(logDir, 3, 10);
  const torn = `${String(n).padStart(20, '0')}.seg`;
  writeFileSync(join(logDir, torn), Buffer.from([0x52, 0x4c]));
  const p = await Producer.open({ logDir });
  assert.equal(p.recovery.removed, [torn]);
  assert.is(p.nextOffset, n);
  await p.close();
  assert.is((await readTexts(logDir)).length, n);
});

test('a kill between retention\'s two unlinks: recovery removes the index left without its segment', async () => {
  const logDir = tempDir();
  const hook = fileURLToPath(new URL('./fixtures/kill-at-io.mjs', import.meta.url));
  const cfg = {
    dir: logDir, run: 1, inc: 0, policy: 'never', roll: 1024, maxTotalBytes: 2048, maxFileAge: null,
    ringBytes: 65536, indexIntervalBytes: 512, burstMax: 20, ack: 'flush', seed: 7,
  };
  const child = Child.fork('crash-producer.mjs', [JSON.stringify(cfg)], {
    execArgv: [],
    env: { ...process.env, REACTIVE_LOG_TEST_FILE_IO: hook, REACTIVE_LOG_KILL_AT: JSON.stringify({ op: 'unlink', file: 'idx', n: 1, mode: 'before' }) },
  });
  await child.exited;
  const errors = child.pending.filter((m) => m.type === 'error').map((m) => String(m.message));
  assert.is(child.exitInfo?.signal, 'SIGKILL', `the child died at the point (${JSON.stringify(child.exitInfo)}): ${errors.join('; ')} ${child.stderr}`);
  const orphans = (): string[] => readdirSync(logDir).filter((n) => n.endsWith('.idx') && !existsSync(join(logDir, n.replace(/\.idx$/, '.seg'))));
  const left = orphans();
  assert.is(left.length, 1, 'the kill left an index without its segment');
  const p = await Producer.open({ logDir, maxTotalBytes: null });
  try {
    assert.equal(orphans(), []);
    assert.ok(p.recovery.removed.includes(left[0]!), JSON.stringify(p.recovery.removed));
  } finally {
    await p.close();
  }
});

// Process crashes (SIGKILL at random and at targeted points, every policy) are test/crash.test.ts and
// test/crash-points.test.ts, checked by the oracle of test/oracle.ts.

test('one producer per directory: same process and stale lock takeover', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_LOCKED');
  await p.close();
  // A lock left by a process that no longer exists is taken over.
  writeFileSync(join(logDir, 'producer.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, start: '1', host: (await import('node:os')).hostname() }));
  const q = await Producer.open({ logDir });
  await q.close();
});

test.run();
