/**
 * A transactional open refused after it took the cursor's lock (a damaged cursor file: ERR_LOG_CORRUPT;
 * retention past the cursor: ERR_POSITION_EXPIRED) leaves a lock file a dead owner left as it was
 * found (name, size, bytes, mtime), as a refused Producer.open does. An open that goes on takes it over.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { rejectsWith, suite, tempDir, listing } from './kit.js';

const test = suite('cursor-open-refused-lock-file');

const deadPid = Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim());

/** A log of 60 records over several segments whose cursor 'a' committed 2, its lock file as a dead owner leaves it. */
async function logWithStaleCursorLock(): Promise<{ logDir: string; cursor: string; lock: string }> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024 });
  for (let i = 0; i < 60; i++) p.append(`record ${i} ${'x'.repeat(40)}`);
  await p.close();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('a') });
  await c.nonblockingProcess(2, () => 'commit');
  await c.close();
  const lock = join(logDir, 'cursors', 'client.a.lock');
  writeFileSync(lock, JSON.stringify({ pid: deadPid, start: '1', host: hostname() }));
  return { logDir, cursor: join(logDir, 'cursors', 'client.a.cursor'), lock };
}

test('a damaged cursor file refuses the open; the stale lock file stays as it was', async () => {
  const { logDir, cursor } = await logWithStaleCursorLock();
  writeFileSync(cursor, Buffer.alloc(statSync(cursor).size, 0x5a));
  const before = listing(logDir);
  await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('a') }), 'ERR_LOG_CORRUPT');
  assert.equal(listing(logDir), before);
});

test('retention past the cursor refuses the open; the stale lock file stays as it was, and an open that goes on takes it over', async () => {
  const { logDir, lock } = await logWithStaleCursorLock();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024, maxTotalBytes: 2048 });
  for (let i = 0; i < 20; i++) p.append(`more ${i} ${'y'.repeat(40)}`);
  await p.close();
  const before = listing(logDir);
  await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('a') }), 'ERR_POSITION_EXPIRED');
  assert.equal(listing(logDir), before);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('a'), onPositionExpired: 'oldest' });
  try {
    assert.is(JSON.parse(readFileSync(lock, 'utf8')).pid, process.pid, 'the open that went on did not take the lock file over');
  } finally {
    await c.close();
  }
});

test.run();
