/**
 * A consumer opened on a log that had no durable.offset yet (a directory no producer had written)
 * creates the file, empty, and holds the readers lock from its open: a repair is refused while it is
 * open, as for any other reader (its position past a cut would pass over the records appended there
 * next). A repair on a log without the file creates it to hold the lock: a consumer opened while it
 * runs is refused; a repair that changes nothing removes it again.
 */
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, Whence, repairLog, verifyLog } from '../dist/index.js';
import { digestDir, rejectsWith, suite, tempDir } from './kit.js';
import { damageThirdSegment } from './repair-kit.js';

const test = suite('readers-lock-late');
const N = 400;


/** N records written to `logDir` by a producer, in several segments; closed. */
async function fill(logDir: string): Promise<void> {
  const p = await Producer.open({ logDir, fileRollSize: 2048, indexIntervalBytes: 512 });
  for (let i = 0; i < N; i++) {
    p.append(`record-${i}-${'y'.repeat(i % 40)}`);
    if (i % 7 === 6) await p.flush(); // several segments
  }
  await p.close();
}

test('a nonTx consumer opened on an empty directory holds the readers lock from its open', async () => {
  const logDir = tempDir();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    assert.is(readFileSync(join(logDir, 'durable.offset')).length, 0, 'an empty durable.offset created by the consumer');
    await fill(logDir);
    damageThirdSegment(logDir);
    const before = digestDir(logDir);
    await rejectsWith(repairLog(logDir, { backupDir: join(tempDir(), 'backup') }), 'ERR_LOG_LOCKED');
    assert.is(digestDir(logDir), before, 'the repair changed nothing');
  } finally {
    await c.close();
  }
  // Closed: the lock is gone, and the repair goes on.
  const report = await repairLog(logDir, { backupDir: join(tempDir(), 'backup') });
  assert.ok(report.cut !== null && report.cut.offset < N);
});

test('a consumer opened while a repair runs on a log without durable.offset is refused (ERR_LOG_LOCKED), and opens after it', async () => {
  const logDir = tempDir();
  await fill(logDir);
  rmSync(join(logDir, 'durable.offset')); // lost in an OS crash
  damageThirdSegment(logDir);
  let open: Promise<unknown> | null = null;
  const report = await repairLog(logDir, {
    backupDir: join(tempDir(), 'backup'),
    onProgress: () => {
      open ??= Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.latest()) });
    },
  });
  assert.ok(open !== null, 'the repair copied bytes');
  const during = await (open as Promise<unknown>).catch((e: unknown) => e);
  if (during instanceof Consumer) await during.close();
  assert.is((during as { code?: string }).code, 'ERR_LOG_LOCKED', String(during));
  // The repair is done: a consumer opens, at the cut.
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.latest()) });
  try {
    assert.is(c.position, report.cut!.offset);
  } finally {
    await c.close();
  }
  assert.ok((await verifyLog(logDir)).ok, 'the empty durable.offset the repair created reads as no hint');
});

test('a repair that changes nothing on a log without durable.offset leaves the directory as it was', async () => {
  const logDir = tempDir();
  await fill(logDir);
  rmSync(join(logDir, 'durable.offset'));
  const before = digestDir(logDir);
  const report = await repairLog(logDir, { backupDir: join(tempDir(), 'backup') });
  assert.is(report.cut, null);
  assert.is(digestDir(logDir), before);
  assert.ok(!existsSync(join(logDir, 'durable.offset')));
});

test.run();
