/**
 * A dead-letter log whose writer failed once (an I/O error): the call writing that dead letter
 * rejects with the error and its record is not completed; the next dead letter opens the dead-letter
 * log again instead of failing with the same error for as long as the consumer stays open, and
 * close() does not report that old failure again.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, decodeDeadLetter } from '../dist/index.js';
import { suite, logOf, tempDir, rejectsWith } from './kit.js';
import { setFaults, clearFaults } from './faults.js';

const test = suite('dead-letter-writer-failure');

test('after a failed dead letter, the next ones are written and close() resolves', async () => {
  const logDir = await logOf(4);
  const deadLetterDir = join(tempDir(), 'dl');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('d'), retry: { maxAttempts: 1, deadLetterDir } });
  // The dead-letter log's writer thread starts with the first dead letter: its second write fails.
  setFaults({ rules: [{ op: 'writev', path: '\\.seg$', thread: 'writer', nth: 2, effect: { errno: 'EIO' } }] });
  try {
    assert.equal(await c.nonblockingProcess(1, () => 'retry'), { committed: 0, skipped: 1, retried: 1, stoppedBy: 'limit' });
    await rejectsWith(c.nonblockingProcess(1, () => 'retry'), 'ERR_IO');
  } finally {
    clearFaults();
  }
  assert.is(c.committedOffset, 1, 'the record whose dead letter failed is not completed');
  const rest = await c.nonblockingProcess(null, () => 'retry').catch((e: Error & { code?: string }) => e);
  assert.equal(rest, { committed: 0, skipped: 3, retried: 3, stoppedBy: 'end' }, `the dead letters after the failed one: ${String((rest as Error).message)}`);
  await c.close();
  const d = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx({ kind: 'oldest' }) });
  const offsets = new Set([...d.iter()].map((m) => decodeDeadLetter(m.data).offset));
  await d.close();
  assert.equal([...offsets].sort(), [0, 1, 2, 3]);
});

test.run();
