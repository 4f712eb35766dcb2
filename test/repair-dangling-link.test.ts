/**
 * repairLog decides what to remove from the directory listing: a file named like a segment that is a
 * symbolic link to nothing (Producer.open fails with ERR_LOG_CORRUPT naming it, as a reader does; it
 * said ERR_IO, which reads as a passing failure of the disk, not as damage that repair mends) is
 * planned, reported (dry run too) and removed, the link itself with nothing copied; after the repair
 * resolves, the log opens. A sealed segment in the middle that is such a link fails the open the same way.
 */
import * as assert from 'uvu/assert';
import { existsSync, lstatSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, repairLog } from '../dist/index.js';
import { logOf, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('repair-dangling-link');

const LINK = '00000000000000099999.seg';

test('a dangling link named like a segment past the newest: repair removes it and the log opens at its end', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, fileRollSize: 1024 });
  for (let i = 0; i < 40; i++) p.append(`record ${i} ${'x'.repeat(60)}`);
  await p.close();
  symlinkSync(join(tempDir(), 'gone'), join(logDir, LINK));
  const e = await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_CORRUPT');
  assert.match(e.message, LINK);
  const plan = await repairLog(logDir, { dryRun: true });
  assert.equal(plan.actions.map((a) => [a.action, a.file, a.bytes]), [['remove', LINK, 0]]);
  assert.ok(lstatSync(join(logDir, LINK)).isSymbolicLink(), 'the dry run changed nothing');
  const backupDir = join(tempDir(), 'b');
  const r = await repairLog(logDir, { backupDir });
  assert.is(r.cut?.file, LINK);
  assert.equal(r.actions.map((a) => [a.action, a.file]), [['remove', LINK]]);
  assert.not.ok(readdirSync(logDir).includes(LINK), 'the link is gone');
  assert.not.ok(existsSync(join(backupDir, LINK)), 'nothing was copied for it');
  const q = await Producer.open({ logDir });
  try {
    assert.is(q.nextOffset, 40);
  } finally {
    await q.close();
  }
});

test('a sealed segment in the middle that is a link to nothing: Producer.open fails with ERR_LOG_CORRUPT naming it', async () => {
  // Flushed every 5 records: frames of 5, so that segments of 1 KiB roll (one frame of all 60 would fill one).
  const logDir = await logOf(Array.from({ length: 60 }, (_, i) => `record ${i} ${'x'.repeat(60)}`), { fileRollSize: 1024, flushAfter: (i) => i % 5 === 4 });
  const segments = readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort();
  assert.ok(segments.length >= 3, segments.join(' '));
  const middle = segments[1]!;
  rmSync(join(logDir, middle));
  symlinkSync(join(tempDir(), 'gone'), join(logDir, middle));
  const e = await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_CORRUPT');
  assert.match(e.message, middle);
});

test.run();
