/**
 * The readers lock where the kernel lock has no byte ranges. fs-native-extensions locks with flock
 * on macOS, which takes the whole file: a lock on a byte range is refused there (EINVAL). The
 * readers lock holds two bytes of durable.offset (readers-lock.ts); on such a platform every
 * Consumer.open of a log that had a producer failed with ERR_IO 'locking durable.offset'. Simulated
 * here by an addon that refuses ranges as the macOS one does.
 */
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Whence, repairLog } from '../dist/index.js';
import { digestDir, logOf, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('readers-lock-whole-file');

// The addon the package loads (resolved from dist/, as src/package-require.ts does): its tryLock refuses ranges, as on macOS.
type TryLock = (fd: number, offset?: unknown, length?: unknown, opts?: unknown) => boolean;
const addon = createRequire(fileURLToPath(new URL('../dist/index.js', import.meta.url)))('fs-native-extensions') as { tryLock: TryLock };
const realTryLock = addon.tryLock;
addon.tryLock = (fd, offset, length, opts) => {
  if ((typeof offset === 'number' && offset !== 0) || (typeof length === 'number' && length !== 0)) {
    throw Object.assign(new Error('EINVAL: invalid argument'), { code: 'EINVAL' });
  }
  return realTryLock(fd, offset, length, opts);
};

test('a consumer opens, and holds repair off while open, where locks cover whole files', async () => {
  const logDir = await logOf(20);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    assert.is([...c.iter()].length, 20);
    const before = digestDir(logDir);
    await rejectsWith(repairLog(logDir, { backupDir: join(tempDir(), 'backup') }), 'ERR_LOG_LOCKED');
    assert.is(digestDir(logDir), before, 'the refused repair changed nothing');
    // A dry run while it is open: it says so, and does not take the log from the consumer.
    await rejectsWith(repairLog(logDir, { dryRun: true }), 'ERR_LOG_LOCKED');
    const again = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    await again.close();
  } finally {
    await c.close();
  }
  // Closed: a dry run and a repair go on.
  await repairLog(logDir, { dryRun: true });
  await repairLog(logDir, { backupDir: join(tempDir(), 'backup') });
});

test.run();
