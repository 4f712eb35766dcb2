/**
 * A symbolic link at a lock's path (producer.lock, cursors/<name>.lock) is not a lock file: it is
 * refused with ERR_LOG_CORRUPT, as a directory there is, and nothing changes, neither in the log
 * directory nor in the file the link names. Before, the open followed the link, wrote its owner
 * information over the named file (anywhere, outside the log) and removed the link at close.
 */
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, unlockLog, verifyLog } from '../dist/index.js';
import { digestDir, logOf, readTexts, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('lock-symlink');

function victim(): string {
  const file = join(tempDir(), 'victim.txt');
  writeFileSync(file, 'precious data\n');
  return file;
}

test('producer.lock a symbolic link to a file elsewhere: ERR_LOG_CORRUPT, nothing changed', async () => {
  const logDir = await logOf(['a']);
  const target = victim();
  symlinkSync(target, join(logDir, 'producer.lock'));
  const before = digestDir(logDir);
  const report = await verifyLog(logDir);
  assert.not.ok(report.ok, 'verifyLog reports what stops an open');
  await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_CORRUPT');
  await rejectsWith(unlockLog(logDir), 'ERR_LOG_CORRUPT');
  assert.is(readFileSync(target, 'utf8'), 'precious data\n', 'the file the link names is untouched');
  assert.is(digestDir(logDir), before, 'the log directory is as it was');
  assert.equal(await readTexts(logDir), ['a']);
});

test('a dangling symbolic link at producer.lock: ERR_LOG_CORRUPT, no file created through it', async () => {
  const logDir = await logOf(['a']);
  const target = join(tempDir(), 'nothing-here');
  symlinkSync(target, join(logDir, 'producer.lock'));
  await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_CORRUPT');
  assert.not.ok(existsSync(target), 'nothing created where the link points');
  assert.is(readlinkSync(join(logDir, 'producer.lock')), target, 'the link is left as it was');
  rmSync(join(logDir, 'producer.lock'));
  assert.equal(await readTexts(logDir), ['a']);
});

test("a cursor's lock a symbolic link: ERR_LOG_CORRUPT, nothing changed", async () => {
  const logDir = await logOf(['a']);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.close();
  const target = victim();
  symlinkSync(target, join(logDir, 'cursors', 'client.billing.lock'));
  const before = digestDir(logDir);
  await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') }), 'ERR_LOG_CORRUPT');
  assert.is(readFileSync(target, 'utf8'), 'precious data\n', 'the file the link names is untouched');
  assert.is(digestDir(logDir), before);
});

test.run();
