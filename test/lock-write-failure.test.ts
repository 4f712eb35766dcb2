/**
 * Taking an owner lock creates the lock file, locks it, then writes the owner information into it.
 * When that write fails (an I/O error, or a short write and then one), the open fails with a coded
 * LogError and the lock file it locked is removed: no empty or partial producer.lock or cursor lock
 * is left, and the next open takes the lock and the log as if nothing had happened.
 */
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, verifyLog } from '../dist/index.js';
import { digestDir, logOf, readTexts, rejectsWith, suite, tempDir } from './kit.js';
import { withFaults, type FaultPlan } from './faults.js';

const test = suite('lock-write-failure');

/**
 * The first write of the lock file at a path matching `path` fails: EIO, or 5 bytes then EIO. Each
 * test's path names its own directory: the main thread counts calls again only for a plan that differs.
 */
function writeFails(path: string, partial: boolean): FaultPlan {
  const fail = { op: 'writev', path, nth: partial ? 2 : 1, effect: { errno: 'EIO' } } as const;
  return { rules: partial ? [{ op: 'writev', path, nth: 1, effect: { short: 5 } }, fail] : [fail] };
}

for (const partial of [false, true]) {
  const how = partial ? 'written in part, then EIO' : 'EIO';
  test(`producer.lock (${how}): ERR_IO, no lock file left, the next producer opens the log`, async () => {
    const logDir = await logOf(5);
    const before = digestDir(logDir);
    await withFaults(writeFails(`${basename(logDir)}/producer\\.lock$`, partial), () => rejectsWith(Producer.open({ logDir }), 'ERR_IO'));
    assert.not.ok(existsSync(join(logDir, 'producer.lock')), 'the lock file the failed open created is removed');
    assert.is(digestDir(logDir), before, 'the directory is as it was');
    const p = await Producer.open({ logDir });
    assert.is(p.append('r5'), 5);
    await p.close();
    assert.is((await readTexts(logDir)).length, 6);
    assert.ok((await verifyLog(logDir)).ok);
  });

  test(`producer.lock in a new directory (${how}): the directory stays empty`, async () => {
    const logDir = tempDir();
    await withFaults(writeFails(`${basename(logDir)}/producer\\.lock$`, partial), () => rejectsWith(Producer.open({ logDir }), 'ERR_IO'));
    assert.is(digestDir(logDir), digestDir(tempDir()), 'empty');
  });
}

test('a cursor lock (written in part, then EIO): ERR_IO, no lock file left, the next consumer takes the cursor', async () => {
  const logDir = await logOf(5);
  const lock = join(logDir, 'cursors', 'client.c.lock');
  await withFaults(writeFails(`${basename(logDir)}/cursors/client\\.c\\.lock$`, true),
    () => rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') }), 'ERR_IO'));
  assert.not.ok(existsSync(lock), 'the cursor lock file the failed open created is removed');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') });
  assert.ok(existsSync(lock));
  assert.is((await c.nonblockingProcess(5, () => 'commit')).committed, 5);
  await c.close();
  assert.not.ok(existsSync(lock));
});

test.run();
