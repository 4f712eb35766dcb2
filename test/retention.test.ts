/**
 * Retention by total bytes and by age, ERR_POSITION_EXPIRED for deleted records, and backpressure
 * under blockingMinimumRetention (block, then ERR_LOG_FULL; never delete protected records; with
 * nothing protected, a frame that needs the room of the segment a roll just sealed never blocks, nor
 * one larger than maxTotalBytes).
 */
import * as assert from 'uvu/assert';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { Producer, Consumer, ConsumerStyle, Whence, SyncPolicy, type ProducerOptions } from '../dist/index.js';
import { suite, tempDir, waitFor, throwsWith, rejectsWith } from './kit.js';
import { clearFaults, setFaults } from './faults.js';

const test = suite('retention');

const segs = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.seg')).sort();
const bytesOnDisk = (dir: string) => segs(dir).reduce((s, n) => s + statSync(join(dir, n)).size, 0);
const rec = (i: number) => `record-${i}-${'r'.repeat(60)}`;

test('retention by bytes keeps the total near maxTotalBytes and the rest readable in order', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 4096, maxTotalBytes: 16384 });
  for (let i = 0; i < 3000; i++) {
    p.append(rec(i));
    if (i % 100 === 99) await p.flush();
  }
  await p.flush();
  await waitFor(() => p.logStartOffset > 0, 'old segments to be deleted');
  // Whole segments go: at most maxTotalBytes plus the active segment (and one batch past roll size).
  assert.ok(bytesOnDisk(logDir) <= 16384 + 4096 + 1024 * 1024, `bytes on disk ${bytesOnDisk(logDir)}`);
  const start = p.logStartOffset;
  assert.is(segs(logDir)[0], `${String(start).padStart(20, '0')}.seg`);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const got = [...c.iter()];
  assert.is(got[0]!.offset, start);
  got.forEach((m, k) => {
    assert.is(m.offset, start + k);
    assert.is(Buffer.from(m.data).toString(), rec(start + k));
  });
  assert.is(got.at(-1)!.offset, 2999);
  await c.close();
  await p.close();
});

test('retention by age deletes segments whose newest record is older than maxFileAge', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 2048, maxTotalBytes: null, maxFileAge: 100 });
  for (let i = 0; i < 200; i++) {
    p.append(rec(i));
    if (i % 20 === 19) await p.flush(); // several frames, so several segments
  }
  await waitFor(() => segs(logDir).length >= 2, 'segments to roll');
  await waitFor(() => segs(logDir).length === 1, 'aged segments to be deleted', 10_000);
  assert.ok(p.logStartOffset > 0);
  p.append(rec(200));
  await p.flush();
  await p.close();
});

test('a reader whose next segment was deleted gets ERR_POSITION_EXPIRED with the range', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 2048, maxTotalBytes: 8192 });
  for (let i = 0; i < 20; i++) p.append(rec(i));
  await p.flush();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const it = c.iter();
  const first = it.next();
  assert.is(first.done, false);
  // Retention now deletes the segments after the one the reader has open.
  for (let i = 20; i < 2000; i++) {
    p.append(rec(i));
    if (i % 50 === 0) await p.flush();
  }
  await p.flush();
  await waitFor(() => p.logStartOffset > 100, 'retention to delete the segments after the reader');
  let last = 0;
  // iter() hands out what the log held when it started; a new one goes on from there.
  const err = throwsWith(() => {
    for (const m of it) last = m.offset;
    for (const m of c.iter()) last = m.offset;
  }, 'ERR_POSITION_EXPIRED');
  const d = (err as unknown as { details: { offset: number; logStartOffset: number } }).details;
  assert.is(d.offset, last + 1, `the first offset it could not read (got ${JSON.stringify(d)}, last read ${last})`);
  // The start it names was true when it was raised; retention may have moved on since.
  assert.ok(d.logStartOffset > d.offset && d.logStartOffset <= p.logStartOffset, JSON.stringify(d));
  await c.close();
  // Opening at a deleted position fails the same way.
  await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(0)) }), 'ERR_POSITION_EXPIRED');
  await p.close();
});

test('blockingMinimumRetention: the producer blocks, then ERR_LOG_FULL; nothing protected is deleted', async () => {
  const logDir = tempDir();
  const p = await Producer.open({
    logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 4096, maxTotalBytes: 16384,
    blockingMinimumRetention: 600_000, appendTimeoutMs: 200, ringBytes: 65536, maxBatchBytes: 1024,
  });
  let appended = 0;
  throwsWith(() => { for (;;) { p.append(rec(appended)); appended++; } }, 'ERR_LOG_FULL');
  assert.ok(appended > 100);
  assert.is(p.logStartOffset, 0, 'no segment was deleted');
  assert.ok(bytesOnDisk(logDir) <= 16384, `bytes on disk ${bytesOnDisk(logDir)} stay within maxTotalBytes`);
  await p.close();
  // Close wrote whatever append had accepted; every one of them is there, in order.
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const got = [...c.iter()].map((m) => Buffer.from(m.data).toString());
  assert.is(got.length, appended);
  got.forEach((r, i) => assert.is(r, rec(i)));
  await c.close();
});

test('blockingMinimumRetention with nothing protected: a frame that needs the segment just sealed is written at once', async () => {
  // maxTotalBytes == fileRollSize: each frame that does not fit beside the only segment makes the
  // writer roll; the sealed segment is deleted for the frame, with no block and no ERR_LOG_FULL.
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: 1024, blockingMinimumRetention: 0, appendTimeoutMs: 5 });
  try {
    const errors: string[] = [];
    for (let i = 0; i < 12; i++) {
      p.append('x'.repeat(300));
      await p.flush().catch((e: unknown) => { errors.push(`flush ${i}: ${(e as { code?: string }).code}`); });
    }
    assert.equal(errors, []);
    assert.is(p.stats().retentionBlockedMs, 0);
  } finally {
    await p.close();
  }
});

test('blockingMinimumRetention with nothing protected: a record larger than maxTotalBytes is written at once', async () => {
  // It cannot fit even beside an empty segment: once everything older is deleted it is written, the
  // log past maxTotalBytes by that frame, with no wait for retention and no ERR_LOG_FULL.
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: 1024, blockingMinimumRetention: 0, appendTimeoutMs: 50 });
  try {
    const errors: string[] = [];
    for (let i = 0; i < 6; i++) {
      p.append('x'.repeat(300));
      await p.flush().catch((e: unknown) => { errors.push(`flush after a small record ${i}: ${(e as { code?: string }).code}`); });
      p.append('y'.repeat(3000));
      await p.flush().catch((e: unknown) => { errors.push(`flush after a large record ${i}: ${(e as { code?: string }).code}`); });
    }
    assert.equal(errors, []);
    assert.is(p.stats().retentionBlockedMs, 0);
  } finally {
    await p.close();
  }
});

test('blockingMinimumRetention: appends resume once protected segments age out', async () => {
  const logDir = tempDir();
  const p = await Producer.open({
    logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 4096, maxTotalBytes: 16384,
    blockingMinimumRetention: 150, appendTimeoutMs: 20_000, ringBytes: 65536, maxBatchBytes: 1024,
  });
  // Roughly 5x maxTotalBytes: without aging out this would have to fail.
  for (let i = 0; i < 1200; i++) p.append(rec(i));
  await p.flush();
  assert.ok(p.logStartOffset > 0);
  assert.ok(bytesOnDisk(logDir) <= 16384);
  await p.close();
});

/** Options of a log that retention blocks after a few KiB (a cursor, or age, holds every segment). */
const blocking = (logDir: string): ProducerOptions => ({
  logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 4096, maxTotalBytes: 16384,
  blockingMinimumRetention: 600_000, appendTimeoutMs: 200, ringBytes: 65536, maxBatchBytes: 1024,
});

/** Appends until ERR_LOG_FULL; returns how many were taken. */
function fill(p: Producer): number {
  let n = 0;
  throwsWith(() => { for (;;) { p.append(`rec-${n}-${'r'.repeat(60)}`); n++; } }, 'ERR_LOG_FULL');
  return n;
}

test('a cursors folder the writer cannot list holds everything back (ERR_LOG_FULL), as an unreadable cursor file does', async () => {
  const logDir = tempDir();
  const opts = { logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: 4096, blockingMinimumRetention: 0, appendTimeoutMs: 300, ringBytes: 65536, maxBatchBytes: 1024 };
  // The writer thread's listings of cursors/ fail (EMFILE: too many open files) once it is open (a
  // recovery that cannot list them fails the open with ERR_IO: recovery-lost-segments-cursor.test.ts).
  const arm = join(tempDir(), 'arm');
  setFaults({ arm, rules: [{ op: 'readdir', path: 'cursors$', thread: 'writer', nth: 1, persistent: true, effect: { errno: 'EMFILE' } }] });
  let p: Producer;
  try {
    p = await Producer.open(opts);
  } finally {
    clearFaults();
  }
  writeFileSync(arm, '');
  p.append('rec-0');
  await p.flush();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('slow') });
  await c.nonblockingProcess(1, () => 'commit');
  let code: string | null = null;
  try {
    for (let i = 1; i < 2000; i++) p.append(`rec-${i}-${'x'.repeat(80)}`);
    await p.flush(); // or the appends all went into the ring, and the writer holds them
  } catch (e) {
    code = (e as { code?: string }).code ?? null;
  }
  assert.is(code, 'ERR_LOG_FULL', 'retention held the records back');
  assert.is(p.logStartOffset, 0, 'the segment the cursor needs is kept');
  await c.close();
  await p.close();
});

test('close() after ERR_PRODUCER_STALLED while retention holds records in the ring: they are written, close settles', async () => {
  const logDir = tempDir();
  const p = await Producer.open(blocking(logDir));
  fill(p);
  const holder = new Worker(new URL('./fixtures/attached-producer.mjs', import.meta.url), { workerData: { mode: 'hold', token: p.share() }, execArgv: [] });
  await new Promise<void>((resolve) => holder.on('message', (m) => { if ('holding' in m) resolve(); }));
  await holder.terminate(); // dies holding the append lock
  throwsWith(() => p.append('after'), 'ERR_PRODUCER_STALLED');
  const closed = p.close().then(() => 'resolved', (e: { code?: string }) => e.code ?? 'rejected');
  let outcome: string | null = null;
  void closed.then((o) => { outcome = o; });
  await waitFor(() => outcome !== null, 'close() to settle');
  assert.is(outcome, 'ERR_PRODUCER_STALLED');
});

test('a writer that retention blocks sleeps, also once a flush has asked for the records it holds', async () => {
  const p = await Producer.open(blocking(tempDir()));
  fill(p);
  await rejectsWith(p.flush(), 'ERR_LOG_FULL');
  // retentionBlockedMs counts the time the writer spends asleep while blocked: a writer that sleeps
  // gathers it as fast as the clock runs; one that comes back at once (a spin) gathers a fraction.
  const blocked0 = p.stats().retentionBlockedMs;
  const t0 = performance.now();
  await waitFor(() => p.stats().retentionBlockedMs - blocked0 >= 1000, 'a second asleep, blocked by retention', 20_000);
  const wall = performance.now() - t0;
  assert.ok(wall < 3000, `a second asleep took ${Math.round(wall)} ms: the writer is mostly awake, not waiting`);
  await p.close();
});

test.run();
