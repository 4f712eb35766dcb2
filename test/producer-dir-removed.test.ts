/**
 * The log directory removed, renamed or replaced under a running producer: the writer's descriptors
 * still reach the unlinked files, so writes and fdatasyncs keep succeeding. After each fdatasync of
 * the active segment (and at close) the writer checks that the segment's path still names its file;
 * when it does not, the producer fails with ERR_LOG_CORRUPT naming the file, flush() and close()
 * reject, and durableOffset stays where the records were last durable in the log's files.
 */
import * as assert from 'uvu/assert';
import diagnosticsChannel from 'node:diagnostics_channel';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { Producer, SyncPolicy } from '../dist/index.js';
import { readRecords, rejectsWith, suite, tempDir, waitFor } from './kit.js';

const test = suite('producer: log directory removed under it');

const FIRST_SEGMENT = '00000000000000000000.seg';

/** A producer with 10 records durable, then its directory removed by rm -rf. */
async function producerThenRemoved(syncPolicy: ReturnType<typeof SyncPolicy.always>): Promise<{ logDir: string; p: Producer }> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy });
  for (let i = 0; i < 10; i++) p.append(`r${i}`);
  await p.flush();
  assert.is(p.durableOffset, 10);
  rmSync(logDir, { recursive: true, force: true });
  assert.not.ok(existsSync(logDir));
  return { logDir, p };
}

test('always(): flush() after rm -rf rejects ERR_LOG_CORRUPT naming the segment; durableOffset stays; close() rejects', async () => {
  const { logDir, p } = await producerThenRemoved(SyncPolicy.always());
  const failures: { error: { code: string } }[] = [];
  const onFailure = (m: unknown): void => void failures.push(m as (typeof failures)[number]);
  diagnosticsChannel.subscribe('reactive-log:writer-failure', onFailure);
  // The writer may find the removal while these appends run (it writes each group at once under
  // always()): from then on an append throws the log's failure.
  for (let i = 10; i < 20; i++) {
    try {
      p.append(`r${i}`);
    } catch (e) {
      assert.is((e as { code?: string }).code, 'ERR_LOG_CORRUPT', 'an append after the writer failed');
      break;
    }
  }
  const err = await rejectsWith(p.flush(), 'ERR_LOG_CORRUPT');
  await waitFor(() => failures.length > 0, 'reactive-log:writer-failure');
  diagnosticsChannel.unsubscribe('reactive-log:writer-failure', onFailure);
  assert.equal(failures.map((f) => f.error.code), ['ERR_LOG_CORRUPT']);
  assert.ok(err.message.includes(FIRST_SEGMENT), err.message);
  assert.match(err.message, /removed/);
  assert.is(p.durableOffset, 10, 'records written only to unlinked files are never durable');
  assert.is(p.error?.code, 'ERR_LOG_CORRUPT');
  // The directory re-created: a second producer opens it (the lock file went with the old one), while
  // the first one accepts nothing more.
  mkdirSync(logDir);
  const q = await Producer.open({ logDir });
  assert.is(q.nextOffset, 0);
  await q.close();
  await rejectsWith(p.close(), 'ERR_LOG_CORRUPT');
});

test('never(): the fsync of flush() checks too', async () => {
  const { p } = await producerThenRemoved(SyncPolicy.never());
  p.append('lost');
  await rejectsWith(p.flush(), 'ERR_LOG_CORRUPT');
  assert.is(p.durableOffset, 10);
  await rejectsWith(p.close(), 'ERR_LOG_CORRUPT');
});

test('periodic(): the timed fsync fails the producer without a flush() call', async () => {
  const { p } = await producerThenRemoved(SyncPolicy.periodic(20));
  p.append('lost');
  await waitFor(() => p.error !== null, 'the producer fails at its next periodic fsync');
  assert.is(p.error?.code, 'ERR_LOG_CORRUPT');
  assert.is(p.durableOffset, 10);
  await rejectsWith(p.close(), 'ERR_LOG_CORRUPT');
});

test('everyBytes() above 8 MiB: the write-behind fdatasync of the unlinked file makes nothing durable', async () => {
  const { p } = await producerThenRemoved(SyncPolicy.everyBytes(64 * 1024 * 1024));
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  for (let i = 0; i < 160; i++) p.append(chunk); // 10 MiB: past the write-behind's 8 MiB
  await rejectsWith(p.flush(), 'ERR_LOG_CORRUPT');
  assert.is(p.durableOffset, 10);
  await rejectsWith(p.close(), 'ERR_LOG_CORRUPT');
});

test('an idle producer: close() after rm -rf rejects, though nothing was left to fsync', async () => {
  const { p } = await producerThenRemoved(SyncPolicy.always());
  await rejectsWith(p.close(), 'ERR_LOG_CORRUPT');
  assert.is(p.durableOffset, 10);
});

test('the directory renamed away and another put at its path: flush() rejects; the records stay in the renamed directory', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  for (let i = 0; i < 5; i++) p.append(`r${i}`);
  await p.flush();
  const moved = `${logDir}.moved`;
  renameSync(logDir, moved);
  mkdirSync(logDir);
  try {
    p.append('r5');
    await rejectsWith(p.flush(), 'ERR_LOG_CORRUPT');
    assert.is(p.durableOffset, 5);
    await rejectsWith(p.close(), 'ERR_LOG_CORRUPT');
    assert.equal((await readRecords(moved)).map((r) => r.text).slice(0, 5), ['r0', 'r1', 'r2', 'r3', 'r4']);
  } finally {
    rmSync(moved, { recursive: true, force: true });
  }
});

test('control: a producer whose directory stays flushes and closes', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  for (let i = 0; i < 10; i++) p.append(`r${i}`);
  await p.flush();
  await p.close();
  assert.is(p.durableOffset, 10);
  assert.is((await readRecords(logDir)).length, 10);
});

test.run();
