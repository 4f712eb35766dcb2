/**
 * destroy() while a processing call runs: the call rejects once its handler returned and its
 * dead-letter log is stopped, so the next owner of the cursor, opened right after, can write its dead
 * letters to the same directory (it failed with ERR_LOG_LOCKED, "held by another producer", while the
 * destroyed consumer's dead-letter producer was still being stopped).
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { suite, logOf, tempDir, waitFor, rejectsWith } from './kit.js';

const test = suite('destroy-dead-letter-lock');

test('after destroy() and the rejected call, the next owner dead-letters into the same directory', async () => {
  const logDir = await logOf(3);
  const deadLetterDir = join(tempDir(), 'dl');
  const retry = { maxAttempts: 1, deadLetterDir };
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('z'), retry });
  let running = false;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => { release = r; });
  // Record 0 is dead-lettered (the dead-letter log's producer opens); the handler of record 1 waits.
  const call = c.nonblockingProcess(null, async (m) => {
    if (m.offset === 0) return 'retry' as const;
    running = true;
    await gate;
    return 'commit' as const;
  });
  await waitFor(() => running, 'the handler of record 1 to run');
  await c.destroy();
  release();
  await rejectsWith(call, 'ERR_LOG_CLOSED');
  const d = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('z'), retry });
  const s = await d.nonblockingProcess(null, () => 'retry').catch((e: Error & { code?: string }) => `${e.code}: ${e.message}`);
  await d.close();
  assert.equal(s, { committed: 0, skipped: 2, retried: 2, stoppedBy: 'end' });
});

test.run();
