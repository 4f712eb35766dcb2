/**
 * Taking an owner lock opens the lock file, creating it when it is missing, then tries the kernel
 * lock. When that try fails with an I/O error the open fails with ERR_IO and the directory is as it
 * was: a lock file the call created is removed (locked first, as a release does), one that was there
 * stays as it was, and the next open takes the lock and the log as if nothing had happened.
 */
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { digestDir, logOf, readTexts, rejectsWith, suite, tempDir } from './kit.js';
import { withFaults, type FaultPlan } from './faults.js';

const test = suite('lock-try-failure');

/** The first lock try on a file at a path matching `path` fails with EIO. */
const tryFails = (path: string): FaultPlan => ({ rules: [{ op: 'tryLock', path, nth: 1, effect: { errno: 'EIO' } }] });

test('producer.lock, lock try EIO: ERR_IO, no lock file left, the next producer opens the log', async () => {
  const logDir = await logOf(3);
  const before = digestDir(logDir);
  await withFaults(tryFails(`${basename(logDir)}/producer\\.lock$`), () => rejectsWith(Producer.open({ logDir }), 'ERR_IO'));
  assert.not.ok(existsSync(join(logDir, 'producer.lock')), 'the lock file the failed open created is removed');
  assert.is(digestDir(logDir), before, 'the directory is as it was');
  const p = await Producer.open({ logDir });
  assert.is(p.append('r3'), 3);
  await p.close();
  assert.is((await readTexts(logDir)).length, 4);
});

test('producer.lock in a new directory, lock try EIO: the directory stays empty', async () => {
  const logDir = tempDir();
  await withFaults(tryFails(`${basename(logDir)}/producer\\.lock$`), () => rejectsWith(Producer.open({ logDir }), 'ERR_IO'));
  assert.is(digestDir(logDir), digestDir(tempDir()), 'empty');
});

test('a lock file that was there (a dead owner left it) stays as it was', async () => {
  const logDir = await logOf(3);
  const lock = join(logDir, 'producer.lock');
  writeFileSync(lock, JSON.stringify({ pid: 1, start: 'x', host: 'elsewhere.invalid' }));
  const bytes = readFileSync(lock);
  await withFaults(tryFails(`${basename(logDir)}/producer\\.lock$`), () => rejectsWith(Producer.open({ logDir }), 'ERR_IO'));
  assert.equal(readFileSync(lock), bytes);
});

test('a cursor lock, lock try EIO: ERR_IO, no cursor lock file left, the next consumer takes the cursor', async () => {
  const logDir = await logOf(3);
  const c0 = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') });
  await c0.close();
  const lock = join(logDir, 'cursors', 'client.c.lock');
  assert.not.ok(existsSync(lock));
  const before = digestDir(logDir);
  await withFaults(tryFails(`${basename(logDir)}/cursors/client\\.c\\.lock$`),
    () => rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') }), 'ERR_IO'));
  assert.not.ok(existsSync(lock), 'the cursor lock file the failed open created is removed');
  assert.is(digestDir(logDir), before, 'the directory is as it was');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') });
  assert.is((await c.nonblockingProcess(3, () => 'commit')).committed, 3);
  await c.close();
});

test.run();
