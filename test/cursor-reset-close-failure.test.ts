/**
 * A cursor reset is done once its new file is renamed over the old one and cursors/ is fsynced.
 * resetCursor closed the new file's descriptor last and reported a failure of that close (close(2)
 * reporting EIO) as ERR_IO, though the cursor had moved, durably, and every write through that
 * descriptor was fdatasynced: a failure that read as "not done". The reset resolves with what it did.
 */
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { Consumer, ConsumerStyle, resetCursor } from '../dist/index.js';
import { logOf, suite } from './kit.js';
import { clearFaults, setFaults } from './faults.js';

const test = suite('cursor-reset-close-failure');

test('resetCursor: a failed close of the cursor file after the reset does not read as a failed reset', async () => {
  const logDir = await logOf(10);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.nonblockingProcess(null, () => 'commit');
  await c.close();
  setFaults({ rules: [{ op: 'close', path: 'client\\.billing\\.cursor', thread: 'main', nth: 1, persistent: true, effect: { errno: 'EIO' } }] });
  let r: Awaited<ReturnType<typeof resetCursor>>;
  try {
    r = await resetCursor(logDir, 'billing', { to: 3 });
  } finally {
    clearFaults();
  }
  assert.equal(r, { id: 'billing', from: 10, to: 3 });
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  try {
    assert.is(again.committedOffset, 3);
  } finally {
    await again.close();
    rmSync(logDir, { recursive: true, force: true });
  }
});

test.run();
