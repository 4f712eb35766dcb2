/**
 * destroy() commits nothing, so a close(2) of the cursor file that reports an error (EIO, as NFS may)
 * changes nothing it promised: it resolves, the cursor's lock is released, and the consumer's
 * dead-letter log is stopped (its producer lock free) as after any destroy().
 */
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { logOf, suite, tempDir } from './kit.js';
import { clearFaults, setFaults } from './faults.js';

const test = suite('destroy-cursor-close-error');

test('destroy() with a failing close of the cursor file resolves and stops the dead-letter log', async () => {
  const logDir = await logOf(['retry-0', 'rec-1', 'rec-2']);
  const deadLetterDir = join(tempDir(), 'dl');
  const arm = join(tempDir(), 'arm');
  // The plan is in force until destroy() returned; its close fault fires once `arm` exists.
  setFaults({ arm, rules: [{ op: 'close', path: 'client\\.k\\.cursor$', thread: 'main', nth: 1, effect: { errno: 'EIO' } }] });
  let outcome: string;
  try {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('k'), retry: { maxAttempts: 1, deadLetterDir } });
    // The first record goes to the dead-letter log, whose producer stays open until close() or destroy().
    assert.equal(await c.nonblockingProcess(1, () => 'retry'), { committed: 0, skipped: 1, retried: 1, stoppedBy: 'limit' });
    assert.equal(await c.nonblockingProcess(1, () => 'commit'), { committed: 1, skipped: 0, retried: 0, stoppedBy: 'limit' });
    writeFileSync(arm, '');
    outcome = await c.destroy().then(() => 'resolved', (e: Error & { code?: string }) => `${e.code}: ${e.message}`);
  } finally {
    clearFaults();
  }
  assert.is(outcome, 'resolved');
  // The dead-letter log's producer was stopped: its lock is free.
  const p = await Producer.open({ logDir: deadLetterDir });
  await p.close();
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('k') });
  try {
    assert.is(again.committedOffset, 2);
  } finally {
    await again.close();
  }
});

test.run();
