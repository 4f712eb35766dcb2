/**
 * producer.stats(): the writer's counters against what the files and the file layer show. Records and
 * bytes equal what the segment files hold (frames: every byte after the segment headers); fsyncs equal
 * the fdatasync calls of the writer thread on segment files after the open (counted by the
 * fault-injection layer's trace); rolls and deletions equal the segment files made and removed; the
 * latency figures are ordered and bounded by the maximum; records per frame agree with the count of
 * frames; the ring's fill is 0 once everything is written; the writer's sleeps grow with each idle
 * spell and not with each record; a read of the figures never takes them in the middle of an update
 * (the seqlock of src/writer/writer-stats.ts, with a thread updating them every microsecond), and does
 * not hang on an update a stopped thread left half done.
 */
import * as assert from 'uvu/assert';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { Producer, SyncPolicy } from '../dist/index.js';
import { CONTROL_BYTES, I32, State, controlViews } from '../src/ring/layout.js';
import { STATS_BYTES, STATS_SLOTS as SL, readStats, snapshot } from '../src/writer/writer-stats.js';
import { suite, tempDir, waitFor } from './kit.js';
import { readTrace, withFaults } from './faults.js';

const test = suite('stats');
const SEGMENT_HEADER_BYTES = 32;

function segmentFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.seg')).sort();
}

test('records, bytes, fsyncs, rolls and deletions match the files and the counted system calls', async () => {
  const logDir = tempDir();
  const trace = join(tempDir(), 'trace');
  const p = await withFaults({ rules: [], trace }, () => Producer.open({
    logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 2048, maxTotalBytes: 4096, indexIntervalBytes: 1024,
  }));
  const openCalls = readTrace(trace).length;
  const fresh = p.stats();
  assert.equal([fresh.records, fresh.bytes, fresh.frames, fresh.fsyncs, fresh.rolls, fresh.segmentsDeleted], [0, 0, 0, 0, 0, 0]);
  const baseBefore = segmentFiles(logDir);
  let appended = 0;
  for (let round = 0; round < 40; round++) {
    const n = 1 + (round % 7);
    for (let i = 0; i < n; i++) p.append(`record ${appended++} ${'x'.repeat(round * 3)}`);
    await p.flush();
  }
  const s = p.stats();
  // Every record written, and its bytes: the frames in the segments still there plus those deleted.
  assert.is(s.records, appended);
  const now = segmentFiles(logDir);
  const frameBytesNow = now.reduce((sum, n) => sum + statSync(join(logDir, n)).size - SEGMENT_HEADER_BYTES, 0);
  assert.ok(s.segmentsDeleted > 0, 'retention deleted segments');
  assert.ok(s.bytes >= frameBytesNow, `bytes ${s.bytes} below what the files hold ${frameBytesNow}`);
  assert.is(now.length + s.segmentsDeleted, baseBefore.length + s.rolls, 'one segment made per roll, and the deleted ones gone');
  assert.ok(s.rolls >= 3, `rolls ${s.rolls}`);
  // fsyncs: the writer's fdatasync calls on segment files after the open.
  const syncs = readTrace(trace).slice(openCalls).filter((l) => l.thread === 'writer' && l.op === 'fdatasync' && l.path.endsWith('.seg')).length;
  assert.is(s.fsyncs, syncs, 'fsyncs counted by the file layer');
  assert.ok(s.fsyncs >= 40, `a flush with new records fsyncs: ${s.fsyncs}`);
  assert.ok(s.frames >= 40 && s.frames <= appended, `frames ${s.frames}`);
  assert.ok(s.fsyncMs.p50 <= s.fsyncMs.p99 && s.fsyncMs.p99 <= s.fsyncMs.max && s.fsyncMs.max > 0, JSON.stringify(s.fsyncMs));
  assert.ok(Math.abs(s.batchRecords.mean - s.records / s.frames) < 1e-9);
  assert.ok(s.batchRecords.p50 >= 1 && s.batchRecords.p50 <= s.batchRecords.p99 && s.batchRecords.p99 <= s.batchRecords.max && s.batchRecords.max <= 7);
  assert.is(s.ringBytes, 0);
  assert.is(s.ringFill, 0);
  await p.close();
  const closed = p.stats();
  assert.ok(closed.records === appended && closed.fsyncs >= s.fsyncs, 'stats stay readable after close');
});

test('bytes equal the frames the files hold when nothing was deleted', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 2048 });
  for (let i = 0; i < 500; i++) p.append(`r${i}`);
  await p.flush();
  const s = p.stats();
  await p.close();
  const files = segmentFiles(logDir);
  const frameBytes = files.reduce((sum, n) => sum + statSync(join(logDir, n)).size - SEGMENT_HEADER_BYTES, 0);
  assert.is(s.records, 500);
  assert.is(s.bytes, frameBytes);
  assert.is(s.rolls, files.length - 1);
  assert.is(s.segmentsDeleted, 0);
});

test('a stats() read never takes figures torn by the writer\'s update of them', async () => {
  // Records of one size: every frame adds its header and trailer (44 bytes) and 4 + 20 bytes a record,
  // so records, frames and bytes, which the writer updates together, obey one equation in any figures
  // taken between two updates. A read that raced an update would take some of them before it and some
  // after, and break it.
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  const record = Buffer.alloc(20, 0x61);
  let reads = 0;
  try {
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      for (let i = 0; i < 1 + (reads % 5); i++) p.append(record);
      for (let k = 0; k < 50; k++, reads++) {
        const s = p.stats();
        if (s.bytes !== s.frames * 44 + s.records * 24) {
          assert.unreachable(`read ${reads}: ${s.records} records in ${s.frames} frames, but ${s.bytes} bytes`);
        }
      }
    }
    await p.flush();
    const s = p.stats();
    assert.ok(s.records > 1000 && s.frames > 100, `${s.records} records in ${s.frames} frames`);
  } finally {
    await p.close();
  }
});

/**
 * A thread that updates a WriterStats (src/) about every microsecond, `frame(k, 44 + 24 k)` for
 * k = 1, 2, ..., 9, 1, ... (the writer thread updates once a frame, some microseconds apart); stops at
 * stop[0] = 1.
 */
const UPDATER = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.tsx).then((t) => { t.register(); return import(workerData.module); }).then((m) => {
  const stats = new m.WriterStats(workerData.stats);
  const stop = new Int32Array(workerData.stop);
  parentPort.postMessage('ready');
  let n = 0;
  let x = 0;
  while (Atomics.load(stop, 0) === 0) {
    const k = 1 + (n++ % 9);
    stats.frame(k, 44 + 24 * k);
    for (let j = 0; j < 300; j++) x = (Math.imul(x, 31) + j) | 0; // the rest of a frame's work
  }
  parentPort.postMessage(n + (x & 0));
});
`;

test('the figures a read takes come from between two updates, with a thread updating them every microsecond', async () => {
  const buffer = new SharedArrayBuffer(STATS_BYTES);
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const c = controlViews(new SharedArrayBuffer(CONTROL_BYTES));
  const w = new Worker(UPDATER, {
    eval: true, execArgv: [],
    workerData: { stats: buffer, stop: stop.buffer, tsx: import.meta.resolve('tsx/esm/api'), module: new URL('../src/writer/writer-stats.ts', import.meta.url).href },
  });
  try {
    await once(w, 'message');
    let reads = 0;
    let moved = 0;
    let last = -1;
    // Each update writes records, bytes and frames (the first slots) first and a histogram bucket (the
    // last slots) last, and a read copies the slots in order: a copy that overlapped an update would
    // hold the bucket without the frame or the frame without the bucket.
    for (const until = Date.now() + 1_000; Date.now() < until; reads++) {
      const f = snapshot(buffer, () => true);
      const frames = f[SL.FRAMES]!;
      let bucketed = 0;
      for (let b = 0; b < SL.BUCKETS; b++) bucketed += f[SL.BATCH_HISTOGRAM + b]!;
      if (f[SL.BYTES] !== frames * 44 + f[SL.RECORDS]! * 24 || bucketed !== frames) {
        assert.unreachable(`read ${reads}: ${f[SL.RECORDS]} records in ${frames} frames (${bucketed} in the histogram), ${f[SL.BYTES]} bytes`);
      }
      if (frames !== last) moved++;
      last = frames;
    }
    const s = readStats(buffer, c, 1024);
    assert.ok(s.frames >= last && s.batchRecords.max === 9, JSON.stringify(s.batchRecords));
    Atomics.store(stop, 0, 1);
    const [updates] = (await once(w, 'message')) as [number];
    // Reads overlapped updates (on a busy machine the two threads run side by side less often).
    assert.ok(reads > 1_000 && moved >= 10, `${reads} reads, ${moved} saw new figures, ${updates} updates`);
  } finally {
    Atomics.store(stop, 0, 1);
    await w.terminate();
  }
});

test('a read does not hang on an update a stopped writer thread left half done', () => {
  const buffer = new SharedArrayBuffer(STATS_BYTES);
  Atomics.store(new Int32Array(buffer, 0, 1), 0, 7); // odd: an update under way, forever
  const c = controlViews(new SharedArrayBuffer(CONTROL_BYTES));
  Atomics.store(c.i32, I32.STATE, State.FAILED); // as after the writer thread died
  const s = readStats(buffer, c, 1024);
  assert.is(s.records, 0);
  // It takes the figures as they are once it sees the writer stopped, without waiting out its bound.
  let asked = 0;
  snapshot(buffer, () => { asked++; return false; });
  assert.is(asked, 1);
});

test('writerSleeps counts each spell in which the writer thread sleeps for want of records', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  try {
    // An idle writer sleeps (its wait has a budget, so it may wake and sleep again): the count rises.
    await waitFor(() => p.stats().writerSleeps >= 1, 'the idle writer slept');
    for (let round = 0; round < 5; round++) {
      p.append(`r${round}`);
      await p.flush();
      const before = p.stats().writerSleeps;
      // The record woke it (or the wait ran out its budget), and with the ring empty it sleeps again.
      await waitFor(() => p.stats().writerSleeps > before, `the writer slept again after round ${round}`);
    }
    assert.is(p.stats().records, 5);
  } finally {
    await p.close();
  }
  assert.ok(p.stats().writerSleeps >= 6, 'readable after close');
});

test('writerSleeps does not grow with each record the writer takes while records keep coming', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  try {
    const before = p.stats().writerSleeps;
    const framesBefore = p.stats().frames;
    const record = Buffer.alloc(16, 0x62);
    // Each record appended as soon as the writer published the one before: the writer finds the ring
    // empty after each frame, watches it for 50 µs and finds the next record within microseconds,
    // without sleeping, unless this thread stopped in between (preempted, or collecting). The loop
    // notes a record when the time between two of its looks around it (the append between two of
    // them) passed 20 µs: only a stop of over 40 µs lets the writer sleep.
    const n = 20_000;
    let gaps = 0;
    let look = performance.now();
    for (let i = 0; i < n; i++) {
      const offset = p.append(record);
      let longest = 0;
      for (let spins = 0; ; spins++) {
        const now = performance.now();
        longest = Math.max(longest, now - look); // the first: from the last look of the record before, across this append
        look = now;
        if (p.writtenOffset > offset) break;
        if (spins > 100_000_000) assert.unreachable(`record ${i} never written`);
      }
      if (longest > 0.02) gaps++;
    }
    await p.flush();
    const s = p.stats();
    const frames = s.frames - framesBefore;
    const sleeps = s.writerSleeps - before;
    assert.is(s.records, n);
    // One frame a record; a count per watch would be one a frame. A few more for the idle writer at
    // the start and after the flush.
    assert.ok(frames === n && sleeps <= gaps + 20, `${sleeps} sleeps for ${frames} frames, ${gaps} gaps of this thread`);
  } finally {
    await p.close();
  }
});

test.run();
