/**
 * The log directory removed under an idle producer whose retention (maxFileAge) deletes a segment
 * before any fsync checks the active segment's file: the unlink found nothing and the producer failed
 * with ERR_IO ("unlink ENOENT"), not with the ERR_LOG_CORRUPT that says the directory was removed
 * (docs/durability.md, "The log directory removed under a producer").
 */
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { ErrorCode, Producer, SyncPolicy } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';

const test = suite('retention: the log directory removed');

test('retention finds the oldest segment gone with the directory: ERR_LOG_CORRUPT naming the removal', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024, maxFileAge: 300 });
  for (let i = 0; i < 20; i++) p.append(`record-${i}-${'r'.repeat(100)}`);
  await p.flush();
  await p.roll();
  rmSync(logDir, { recursive: true, force: true });
  await waitFor(() => p.error !== null, 'the writer to fail once retention runs');
  assert.is(p.error?.code, ErrorCode.LOG_CORRUPT, p.error?.message);
  assert.match(p.error!.message, /removed, renamed or replaced/);
  await p.close().catch(() => undefined);
});

test.run();
