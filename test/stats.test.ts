/**
 * producer.stats(): the writer's counters against what the files and the file layer show. Records and
 * bytes equal what the segment files hold (frames: every byte after the segment headers); fsyncs equal
 * the fdatasync calls of the writer thread on segment files after the open (counted by the
 * fault-injection layer's trace); rolls and deletions equal the segment files made and removed; the
 * latency figures are ordered and bounded by the maximum; records per frame agree with the count of
 * frames; the ring's fill is 0 once everything is written; the writer's sleeps grow with each idle
 * spell.
 */
import * as assert from 'uvu/assert';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';
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

test.run();
