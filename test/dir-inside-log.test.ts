/**
 * A directory the library writes beside a log (retry.deadLetterDir, repairLog's backupDir) may not lie
 * inside the log directory. An entry whose name starts with '..' (such as '..dead') lies inside it
 * and is refused with ERR_INVALID_OPTION; a directory beside the log is accepted.
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Whence, repairLog } from '../dist/index.js';
import { suite, logOf, rejectsWith, tempDir } from './kit.js';

const test = suite('dir-inside-log');

test("retry.deadLetterDir '<logDir>/..dead' is refused; a directory beside the log is accepted", async () => {
  const logDir = await logOf(2);
  const inside = join(logDir, '..dead');
  const retryOnce = (deadLetterDir: string) => ({ maxAttempts: 1, deadLetterDir });
  await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()), retry: retryOnce(inside) }), 'ERR_INVALID_OPTION');
  assert.ok(!existsSync(inside), 'nothing is made inside the log directory');
  const sibling = join(tempDir(), 'dl'); // relative to the log: '../<dir>/dl'
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()), retry: retryOnce(sibling) });
  try {
    assert.equal(await c.nonblockingProcess(1, () => 'retry'), { committed: 0, skipped: 1, retried: 1, stoppedBy: 'limit' });
  } finally {
    await c.close();
  }
  assert.ok(existsSync(sibling), 'the dead letter goes to the sibling directory');
});

test("repairLog backupDir '<logDir>/..bak' is refused before anything changes", async () => {
  const logDir = await logOf(2);
  const names = readdirSync(logDir).sort();
  await rejectsWith(repairLog(logDir, { backupDir: join(logDir, '..bak') }), 'ERR_INVALID_OPTION');
  assert.equal(readdirSync(logDir).sort(), names, 'the log directory is unchanged');
});

test.run();
