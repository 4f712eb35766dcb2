/**
 * The log directory removed under an idle producer whose retention (maxFileAge) deletes a segment
 * before any fsync checks the active segment's file: the unlink found nothing and the producer failed
 * with ERR_IO ("unlink ENOENT"), not with the ERR_LOG_CORRUPT that says the directory was removed
 * (docs/durability.md, "The log directory removed under a producer"). And the log directory replaced
 * by another log under an idle producer: its retention unlinked the new log's segment of the same
 * name, records the other producer had flushed, and went on without an error.
 */
import * as assert from 'uvu/assert';
import { readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, Producer, SyncPolicy } from '../dist/index.js';
import { rejectsWith, suite, tempDir, waitFor } from './kit.js';

const test = suite('retention: the log directory removed');

test('retention finds the oldest segment gone with the directory: ERR_LOG_CORRUPT naming the removal', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024, maxFileAge: 300 });
  for (let i = 0; i < 20; i++) p.append(`record-${i}-${'r'.repeat(100)}`);
  await p.flush();
  await p.roll();
  rmSync(logDir, { recursive: true, force: true });
  await waitFor(() => p.error !== null, 'the writer to fail once retention runs');
  // flush() rejects with the writer's error once its details arrived (p.error may hold the state's code alone before).
  const e = await rejectsWith(p.flush(), ErrorCode.LOG_CORRUPT);
  assert.match(e.message, /removed, renamed or replaced/);
  await p.close().catch(() => undefined);
});

test('retention finds the directory replaced by another log: ERR_LOG_CORRUPT, the other log untouched', async () => {
  const root = tempDir();
  const logDir = join(root, 'log');
  const segments = (): string[] => readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort();
  const a = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024, maxFileAge: 300 });
  let b: Producer | undefined;
  try {
    for (let i = 0; i < 20; i++) a.append(`a-${i}-${'a'.repeat(200)}`);
    await a.flush();
    renameSync(logDir, join(root, 'log.old'));
    b = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024 });
    for (let i = 0; i < 20; i++) b.append(`b-${i}-${'b'.repeat(200)}`);
    await b.flush();
    const before = segments();
    assert.ok(before.length >= 2, before.join(', '));
    await waitFor(() => a.error !== null, 'the first producer to fail once its retention runs');
    const e = await rejectsWith(a.flush(), ErrorCode.LOG_CORRUPT);
    assert.match(e.message, /removed, renamed or replaced/);
    assert.equal(segments(), before, 'the other log keeps its segments');
    assert.is(b.error, null);
    await b.close();
    b = undefined;
    const reopened = await Producer.open({ logDir });
    assert.is(reopened.nextOffset, 20);
    await reopened.close();
  } finally {
    await b?.close().catch(() => undefined);
    await a.close().catch(() => undefined);
  }
});

test.run();
