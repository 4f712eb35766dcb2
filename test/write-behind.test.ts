/**
 * Write-behind (src/writer/write-behind.ts): under the policies that leave fsyncs apart, the writer
 * starts an fdatasync of the active segment on libuv's thread pool every 8 MiB and goes on writing.
 * Each call opens the segment anew: a file description of its own, so that a failed writeback is
 * reported to the writer's own next fsync as well (errseq_t; the fault layer models it per thread).
 * Its calls are seen in the fault layer's trace as `fdatasyncBehind` on the writer's thread.
 */
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
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

/** Opens a producer with `plan` in force in its writer thread. */
function open(logDir: string, syncPolicy: Policy, plan: FaultPlan): Promise<Producer> {
  return withFaults(plan, () => Producer.open({ logDir, syncPolicy }));
}

function behindCalls(trace: string): number {
  return readTrace(trace).filter((l) => l.op === 'fdatasyncBehind' && !l.fired).length;
}

/** Appends records `from` to `to` - 1, waiting for ring room without blocking the event loop. */
async function appendRange(p: Producer, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    if ((i & 1023) === 0) await p.writable({ bytes: RECORD });
    p.append(record(i));
  }
}

function threads(): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
}

/** The descriptors of this process open on files under `dir`. */
function openUnder(dir: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(`${dir}/`)) out.push(target);
    } catch { /* closed meanwhile */ }
  }
  return out;
}

test('under never the writer fdatasyncs behind as the segment grows, each call on a descriptor of its own; the log reads back whole', async () => {
  const logDir = tempDir();
  const trace = join(tempDir(), 'trace');
  const before = threads();
  const p = await open(logDir, SyncPolicy.never(), { rules: [], trace });
  const withWriter = threads();
  await appendRange(p, 0, RECORDS);
  await waitFor(() => behindCalls(trace) >= 2, 'two write-behind calls');
  assert.is(threads(), withWriter, 'no thread started for them');
  assert.ok(withWriter > before, 'the writer thread counted');
  await p.flush();
  await p.close();
  const lines = readTrace(trace).filter((l) => l.path.endsWith('.seg'));
  const calls = lines.flatMap((l, i) => (l.op === 'fdatasyncBehind' ? [i] : []));
  // Each call opens the segment just before it (the writer's own descriptor was opened at its creation).
  for (const i of calls) {
    assert.is(lines[i - 1]!.op, 'open', 'the call is made on a descriptor opened for it');
    assert.is(lines[i - 1]!.path, lines[i]!.path);
  }
  const syncs = lines.filter((l) => l.op === 'fdatasync' || l.op === 'fdatasyncBehind');
  assert.is(syncs[syncs.length - 1]!.op, 'fdatasync', "the writer's own fsync comes last");
  assert.ok(lines.every((l) => l.thread === 'writer'), 'all on the writer thread');
  const back = await readRecords(logDir);
  assert.is(back.length, RECORDS);
  for (const i of [0, 1, 8191, 8192, RECORDS - 1]) assert.ok(back[i]!.text.startsWith(`r${i} `), `record ${i}`);
  assert.equal(openUnder(logDir), [], 'no descriptor left open');
});

test('under always the writer fsyncs every group itself: no call behind', async () => {
  const logDir = tempDir();
  const trace = join(tempDir(), 'trace');
  const p = await open(logDir, SyncPolicy.always(), { rules: [], trace });
  for (let i = 0; i < RECORDS; i++) p.append(record(i));
  await p.flush();
  await p.close();
  assert.is(behindCalls(trace), 0);
  assert.ok(readTrace(trace).some((l) => l.thread === 'writer' && l.op === 'fdatasync'), 'the writer fsynced');
});

for (const [name, policy] of [['periodic(60 s)', SyncPolicy.periodic(60_000)], ['everyBytes(16 MiB)', SyncPolicy.everyBytes(16 * 1024 * 1024)]] as const) {
  test(`under ${name} the writer fdatasyncs behind between its own syncs; the log reads back whole`, async () => {
    const logDir = tempDir();
    const trace = join(tempDir(), 'trace');
    const p = await open(logDir, policy, { rules: [], trace });
    await appendRange(p, 0, RECORDS);
    await p.flush();
    await p.close();
    assert.is(p.error, null);
    assert.ok(behindCalls(trace) >= 1, 'a call behind');
    assert.is((await readRecords(logDir)).length, RECORDS);
  });
}

test('under everyBytes(4 MiB) the writer fsyncs at least every 8 MiB itself: no call behind', async () => {
  const logDir = tempDir();
  const trace = join(tempDir(), 'trace');
  const p = await open(logDir, SyncPolicy.everyBytes(4 * 1024 * 1024), { rules: [], trace });
  for (let i = 0; i < RECORDS; i++) p.append(record(i));
  await p.flush();
  await p.close();
  assert.is(behindCalls(trace), 0);
  assert.ok(readTrace(trace).filter((l) => l.thread === 'writer' && l.op === 'fdatasync').length >= 4, 'the writer fsynced every 4 MiB');
});

/** The log reopens to a valid prefix of the `appended` records. */
async function reopensToPrefix(logDir: string, appended: number): Promise<void> {
  const q = await Producer.open({ logDir });
  const next = q.nextOffset;
  await q.close();
  assert.ok(next <= appended);
  const back = await readRecords(logDir);
  assert.is(back.length, next);
  if (next > 0) assert.ok(back[next - 1]!.text.startsWith(`r${next - 1} `));
}

for (const [errno, code] of [['EIO', 'ERR_IO'], ['ENOSPC', 'ERR_DISK_FULL']] as const) {
  test(`a call behind that fails (${errno}) while records keep coming fails the log with ${code}: nothing it covered is acknowledged`, async () => {
    const logDir = tempDir();
    const trace = join(tempDir(), 'trace');
    const p = await open(logDir, SyncPolicy.never(), { rules: [{ op: 'fdatasyncBehind', nth: 1, effect: { errno } }], trace });
    let appended = 0;
    try {
      // Up to 64 MiB: the writer learns the call's result at a turn of its event loop, 1 MiB after the call.
      for (; appended < 64 * 1024 && p.error === null; appended++) {
        if ((appended & 1023) === 0) await p.writable({ bytes: RECORD });
        p.append(record(appended));
      }
    } catch (e) {
      assert.is((e as { code?: string }).code, code, 'an append after the failure throws its code');
    }
    await waitFor(() => p.error !== null, 'the log to fail');
    const err = await rejectsWith(p.flush(), code);
    assert.match(err.message, 'write-behind');
    assert.match(err.message, errno);
    assert.is(p.error?.code, code);
    assert.is(p.durableOffset, 0, 'no record was acknowledged durable');
    throwsWith(() => p.append('more'), code);
    await rejectsWith(p.close(), code);
    await reopensToPrefix(logDir, appended);
  });
}

test('a call behind that fails while the writer idles fails the log without a flush', async () => {
  const logDir = tempDir();
  const trace = join(tempDir(), 'trace');
  const p = await open(logDir, SyncPolicy.never(), { rules: [{ op: 'fdatasyncBehind', nth: 1, effect: { errno: 'EIO', callerOnly: true } }], trace });
  await appendRange(p, 0, 8 * 1024 + 256); // one call, and less than 1 MiB after it
  await waitFor(() => p.error !== null, 'the log to fail on its own');
  assert.is(p.error?.code, 'ERR_IO');
  assert.is(p.durableOffset, 0);
  const err = await rejectsWith(p.close(), 'ERR_IO');
  assert.match(err.message, 'write-behind');
});

test("a call behind fails before the writer heard of it: the writer's own fdatasync reports the failed writeback, and flush() rejects", async () => {
  // The writer idles after the call began, so its callback has not run when flush() comes; the
  // failed writeback reaches the writer through its own descriptor (errseq_t), not through the call.
  const logDir = tempDir();
  const trace = join(tempDir(), 'trace');
  const p = await open(logDir, SyncPolicy.never(), { rules: [{ op: 'fdatasyncBehind', nth: 1, effect: { errno: 'EIO' } }], trace });
  const n = 8 * 1024 + 256; // 8.25 MiB: one call, and less than 1 MiB after it (no turn asked for)
  await appendRange(p, 0, n);
  await waitFor(() => readTrace(trace).some((l) => l.fired && l.op === 'fdatasyncBehind'), 'the failing call');
  const err = await rejectsWith(p.flush(), 'ERR_IO');
  assert.match(err.message, 'EIO');
  assert.is(p.durableOffset, 0, 'nothing acknowledged durable');
  assert.ok(readTrace(trace).some((l) => l.op === 'fdatasync' && l.path.endsWith('.seg')), "the writer's own fdatasync ran and failed");
  await rejectsWith(p.close(), 'ERR_IO');
  await reopensToPrefix(logDir, n);
});

test("a call behind whose error only it is told (the writer's own fdatasync returns 0): nothing is published while it runs, and its error fails flush()", async () => {
  // An error the file system hands to the caller that started the writeback only (errseq_t does not
  // carry it): the writer's fsync succeeds, and only the call's result tells the pages were dropped.
  const logDir = tempDir();
  const trace = join(tempDir(), 'trace');
  const p = await open(logDir, SyncPolicy.never(), { rules: [{ op: 'fdatasyncBehind', nth: 1, effect: { errno: 'EIO', callerOnly: true, delayMs: 1000 } }], trace });
  const n = 8 * 1024 + 256; // one call, and less than 1 MiB after it
  await appendRange(p, 0, n);
  await waitFor(() => readTrace(trace).some((l) => l.fired && l.op === 'fdatasyncBehind'), 'the failing call');
  const flushed = p.flush();
  // The writer's own fdatasync ran and succeeded while the call's result was still unknown.
  await waitFor(() => readTrace(trace).some((l) => !l.fired && l.op === 'fdatasync' && l.path.endsWith('.seg')), "the writer's own fdatasync");
  assert.is(p.durableOffset, 0, 'not published while the call runs');
  const err = await rejectsWith(flushed, 'ERR_IO');
  assert.match(err.message, 'write-behind');
  assert.is(p.durableOffset, 0, 'nothing acknowledged durable');
  await rejectsWith(p.close(), 'ERR_IO');
  await reopensToPrefix(logDir, n);
});

test('a call behind that ends well: the offset its run held back is published then, and flush() resolves', async () => {
  const logDir = tempDir();
  const trace = join(tempDir(), 'trace');
  const p = await open(logDir, SyncPolicy.never(), { rules: [{ op: 'fdatasyncBehind', nth: 1, effect: { delayMs: 500 } }], trace });
  const n = 8 * 1024 + 256;
  await appendRange(p, 0, n);
  await waitFor(() => behindCalls(trace) >= 1, 'a call behind');
  await p.flush();
  assert.is(p.durableOffset, n);
  await p.close();
  assert.is((await readRecords(logDir)).length, n);
});

test('a roll while a call behind runs: retention deletes nothing until the roll is published (the log start never passes the durable offset)', async () => {
  // One segment past maxTotalBytes under blockingMinimumRetention: the writer seals it to let it go.
  // The call's result comes 1.5 s after it began, so the roll's publication waits for it.
  const logDir = tempDir();
  const trace = join(tempDir(), 'trace');
  const p = await withFaults({ rules: [{ op: 'fdatasyncBehind', nth: 1, effect: { delayMs: 1500 } }], trace }, () =>
    Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 12 * 1024 * 1024, maxTotalBytes: 12 * 1024 * 1024, blockingMinimumRetention: 0 }));
  try {
    await appendRange(p, 0, 8 * 1024 + 256);
    await waitFor(() => behindCalls(trace) >= 1, 'a call behind');
    const n = 14 * 1024; // past 12 MiB: the roll, then retention
    const appending = appendRange(p, 8 * 1024 + 256, n);
    let seen = 0;
    let passed = '';
    await waitFor(() => {
      const start = p.logStartOffset;
      const durable = p.durableOffset;
      seen = Math.max(seen, start);
      if (start > durable && passed === '') passed = `log start ${start} past the durable offset ${durable}`;
      return start > 0 && start <= durable;
    }, 'retention after the roll', 30_000);
    await appending;
    assert.is(passed, '', passed);
    assert.ok(seen > 0, 'retention deleted the sealed segment in the end');
    await p.flush();
    assert.is(p.durableOffset, n);
  } finally {
    await p.close();
  }
});

test("close() while a call behind runs: it waits for the call's result and rejects with its error", async () => {
  const logDir = tempDir();
  const trace = join(tempDir(), 'trace');
  const p = await open(logDir, SyncPolicy.never(), { rules: [{ op: 'fdatasyncBehind', nth: 1, effect: { errno: 'EIO', callerOnly: true, delayMs: 1000 } }], trace });
  const n = 8 * 1024 + 256;
  await appendRange(p, 0, n);
  await waitFor(() => readTrace(trace).some((l) => l.fired && l.op === 'fdatasyncBehind'), 'the failing call');
  const err = await rejectsWith(p.close(), 'ERR_IO');
  assert.match(err.message, 'write-behind');
  assert.is(p.durableOffset, 0, 'nothing acknowledged durable');
  await reopensToPrefix(logDir, n);
});

test('destroy() while a call behind runs: the thread ends, its descriptors are closed, and the log reopens', async () => {
  const before = threads();
  for (let round = 0; round < 3; round++) {
    const logDir = tempDir();
    const trace = join(tempDir(), 'trace');
    // The call's result comes 2 s after it began: destroy() comes in between.
    const p = await open(logDir, SyncPolicy.never(), { rules: [{ op: 'fdatasyncBehind', nth: 1, effect: { delayMs: 2000 } }], trace });
    await appendRange(p, 0, 12 * 1024);
    await waitFor(() => behindCalls(trace) >= 1, 'a call behind');
    await p.destroy();
    assert.equal(openUnder(logDir), [], 'no descriptor left open');
    const q = await Producer.open({ logDir });
    assert.ok(q.nextOffset <= 12 * 1024);
    await q.close();
  }
  await waitFor(() => threads() <= before, `the thread count to come back to ${before} (now ${threads()})`);
});

test.run();
