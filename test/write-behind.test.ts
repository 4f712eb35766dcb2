/**
 * Write-behind (src/writer/write-behind.ts): under the policies that leave fsyncs apart, a helper
 * thread fdatasyncs the active segment every 8 MiB while the writer goes on. Its calls are seen in the
 * fault layer's trace (thread "worker"); its failure is the writer's failure, since Linux reports a
 * failed writeback to one fsync only and a later fsync of the writer may then return 0.
 */
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy, type SyncPolicy as Policy } from '../dist/index.js';
import { suite, tempDir, rejectsWith, throwsWith, waitFor, readRecords } from './kit.js';
import { readTrace, withFaults, type FaultPlan } from './faults.js';

const test = suite('write-behind');

const RECORD = 1024;
/** 24 MiB of 1 KiB records: at least two write-behind calls. */
const RECORDS = 24 * 1024;

function record(i: number): Buffer {
  const b = Buffer.alloc(RECORD, 0x61 + (i % 26));
  b.write(`r${i} `);
  return b;
}

/** Opens a producer with `plan` in force in its threads (the writer, and the helper it starts). */
function open(logDir: string, syncPolicy: Policy, plan: FaultPlan): Promise<Producer> {
  return withFaults(plan, () => Producer.open({ logDir, syncPolicy }));
}

function helperSyncs(trace: string): number {
  return readTrace(trace).filter((l) => l.thread === 'worker' && l.op === 'fdatasync' && !l.fired).length;
}

/** Appends `count` records, then waits until the helper has begun `calls` fdatasyncs (the trace line comes first). */
async function appendUntilHelperCalls(p: Producer, count: number, trace: string, calls = 1): Promise<void> {
  for (let i = 0; i < count; i++) p.append(record(i));
  // A bound, not a sleep: 24 MiB and a thread's start take seconds on a loaded 2-core machine.
  await waitFor(() => helperSyncs(trace) >= calls || p.error !== null, `${calls} write-behind call(s) to begin`, 30_000);
}

function threads(): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
}

test('under never the helper fdatasyncs as the segment grows; the log reads back whole', async () => {
  const logDir = tempDir();
  const trace = join(tempDir(), 'trace');
  const p = await open(logDir, SyncPolicy.never(), { rules: [], trace });
  // The helper starts at the first call and takes tens of milliseconds to run: a second call comes
  // with the next 8 MiB written after the first was taken.
  await appendUntilHelperCalls(p, RECORDS / 2, trace, 1);
  for (let i = RECORDS / 2; i < RECORDS; i++) p.append(record(i));
  await waitFor(() => helperSyncs(trace) >= 2, 'a second write-behind call');
  await p.flush();
  await p.close();
  // The segment's fdatasyncs went to the helper's thread, with the writer's own after them.
  const syncs = readTrace(trace).filter((l) => l.op === 'fdatasync' && l.path.endsWith('.seg'));
  assert.ok(syncs.some((l) => l.thread === 'worker'), 'the helper fdatasynced the segment');
  assert.is(syncs[syncs.length - 1]!.thread, 'writer', "the writer's own fsync comes last");
  const back = await readRecords(logDir);
  assert.is(back.length, RECORDS);
  for (const i of [0, 1, 8191, 8192, RECORDS - 1]) assert.ok(back[i]!.text.startsWith(`r${i} `), `record ${i}`);
});

test('under always the writer fsyncs every group itself: no helper call', async () => {
  const logDir = tempDir();
  const trace = join(tempDir(), 'trace');
  const p = await open(logDir, SyncPolicy.always(), { rules: [], trace });
  for (let i = 0; i < RECORDS; i++) p.append(record(i));
  await p.flush();
  await p.close();
  assert.is(helperSyncs(trace), 0);
  assert.ok(readTrace(trace).some((l) => l.thread === 'writer' && l.op === 'fdatasync'), 'the writer fsynced');
});

for (const [name, policy] of [['periodic(60 s)', SyncPolicy.periodic(60_000)], ['everyBytes(16 MiB)', SyncPolicy.everyBytes(16 * 1024 * 1024)]] as const) {
  test(`under ${name} the helper fdatasyncs between the writer's own syncs; the log reads back whole`, async () => {
    const logDir = tempDir();
    const trace = join(tempDir(), 'trace');
    const p = await open(logDir, policy, { rules: [], trace });
    // 12 MiB, then wait: the writer's own next sync (at 16 MiB, or the flush) cancels a call the
    // helper, still starting, has not taken yet.
    await appendUntilHelperCalls(p, RECORDS / 2, trace, 1);
    for (let i = RECORDS / 2; i < RECORDS; i++) p.append(record(i));
    await p.flush();
    await p.close();
    assert.is(p.error, null);
    assert.is((await readRecords(logDir)).length, RECORDS);
  });
}

test('under everyBytes(4 MiB) the writer fsyncs at least every 8 MiB itself: no helper call', async () => {
  const logDir = tempDir();
  const trace = join(tempDir(), 'trace');
  const p = await open(logDir, SyncPolicy.everyBytes(4 * 1024 * 1024), { rules: [], trace });
  for (let i = 0; i < RECORDS; i++) p.append(record(i));
  await p.flush();
  await p.close();
  assert.is(helperSyncs(trace), 0);
  assert.ok(readTrace(trace).filter((l) => l.thread === 'writer' && l.op === 'fdatasync').length >= 4, 'the writer fsynced every 4 MiB');
});

for (const [errno, code] of [['EIO', 'ERR_IO'], ['ENOSPC', 'ERR_DISK_FULL']] as const) {
  test(`a failed helper fdatasync (${errno}) fails the log with ${code}: nothing it covered is acknowledged`, async () => {
    const logDir = tempDir();
    // The helper's first call fails; the writer's own fsyncs succeed, as a later fsync does on Linux
    // once the failed writeback's pages are marked clean.
    const trace = join(tempDir(), 'trace');
    const p = await open(logDir, SyncPolicy.never(), { rules: [{ op: 'fdatasync', thread: 'worker', nth: 1, effect: { errno } }], trace });
    let appended = 0;
    try {
      for (; appended < RECORDS; appended++) p.append(record(appended));
    } catch (e) {
      assert.is((e as { code?: string }).code, code, 'an append after the failure throws its code');
    }
    await waitFor(() => readTrace(trace).some((l) => l.fired && l.thread === 'worker'), "the helper's failing call");
    const err = await rejectsWith(p.flush(), code);
    assert.match(err.message, 'write-behind');
    assert.match(err.message, errno);
    assert.is(p.durableOffset, 0, 'no record was acknowledged durable');
    assert.is(p.error?.code, code);
    throwsWith(() => p.append('more'), code);
    await rejectsWith(p.close(), code);
    // The log reopens to a valid prefix of what was appended.
    const q = await Producer.open({ logDir });
    const next = q.nextOffset;
    await q.close();
    assert.ok(next <= appended);
    const back = await readRecords(logDir);
    assert.is(back.length, next);
    if (next > 0) assert.ok(back[next - 1]!.text.startsWith(`r${next - 1} `));
  });
}

test('a helper call that fails while the writer flushes: the writer waits for it and takes its error', async () => {
  // The errseq hazard: the failed writeback is reported to the helper's fdatasync only; the writer's
  // own fsync after it succeeds. A writer that did not wait for the running call would publish.
  const logDir = tempDir();
  const trace = join(tempDir(), 'trace');
  const p = await open(logDir, SyncPolicy.never(), { rules: [{ op: 'fdatasync', thread: 'worker', nth: 1, effect: { delayMs: 800, errno: 'EIO' } }], trace });
  await appendUntilHelperCalls(p, 12 * 1024, trace);
  // The call began and sleeps 800 ms before it fails: this flush comes while it runs.
  const err = await rejectsWith(p.flush(), 'ERR_IO');
  assert.match(err.message, 'write-behind');
  assert.is(p.durableOffset, 0);
  await rejectsWith(p.close(), 'ERR_IO');
});

test('destroy() while a helper call runs: the threads end, and the log reopens', async () => {
  const before = threads();
  for (let round = 0; round < 3; round++) {
    const logDir = tempDir();
    const trace = join(tempDir(), 'trace');
    const p = await open(logDir, SyncPolicy.never(), { rules: [{ op: 'fdatasync', thread: 'worker', nth: 1, effect: { delayMs: 2000 } }], trace });
    await appendUntilHelperCalls(p, 12 * 1024, trace);
    await p.destroy();
    const q = await Producer.open({ logDir });
    assert.ok(q.nextOffset <= 12 * 1024);
    await q.close();
  }
  await waitFor(() => threads() <= before, `the thread count to come back to ${before} (now ${threads()})`);
});

test.run();
