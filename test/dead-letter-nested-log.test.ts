/**
 * A log that lies inside another log's directory (moved there by hand, or made before Producer.open
 * refused to start a new log inside a log) still opens, and so do its consumers. Its default
 * dead-letter log is made beside it (`<log>.dead-letter.<cursor>`), which is inside the outer log
 * too: the first dead letter failed with ERR_INVALID_OPTION naming retry.deadLetterDir, a path the user
 * never gave, and every later call stopped at that record. The library's own place beside the log is
 * taken as it is; a retry.deadLetterDir the user gives inside a log is still refused.
 */
import * as assert from 'uvu/assert';
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { suite, logOf, readTexts, rejectsWith, tempDir } from './kit.js';

const test = suite('dead-letter-nested-log');

test('a log inside another log directory: its default dead-letter log beside it takes the dead letters', async () => {
  const root = tempDir();
  const inner = await logOf(['a', 'b', 'c'], { logDir: join(root, 'inner') });
  const outer = await logOf(2, { logDir: join(root, 'outer') });
  const logDir = join(outer, 'inner');
  renameSync(inner, logDir);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('dl'), retry: { maxAttempts: 1 } });
  try {
    const s = await c.nonblockingProcess(null, (m) => (m.offset === 1 ? 'retry' : 'commit'));
    assert.equal(s, { committed: 2, skipped: 1, retried: 1, stoppedBy: 'end' });
    assert.is(c.committedOffset, 3);
  } finally {
    await c.close();
  }
  const dl = join(outer, 'inner.dead-letter.client.dl');
  assert.ok(existsSync(dl), 'the default dead-letter log is beside the log');
  assert.is((await readTexts(dl)).length, 1, 'one dead letter');
});

test('a retry.deadLetterDir given inside a log directory is still refused', async () => {
  const root = tempDir();
  const logDir = await logOf(['a'], { logDir: join(root, 'log') });
  const other = await logOf(1, { logDir: join(root, 'other') });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('dl'), retry: { maxAttempts: 1, deadLetterDir: join(other, 'dl') } });
  try {
    await rejectsWith(c.nonblockingProcess(null, () => 'retry'), 'ERR_INVALID_OPTION');
    assert.not.ok(existsSync(join(other, 'dl')), 'nothing made in the other log');
  } finally {
    await c.close();
  }
});

test.run();
