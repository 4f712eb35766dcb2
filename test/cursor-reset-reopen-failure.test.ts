/**
 * A cursor reset is done once its new file is renamed over the old one and cursors/ is fsynced. An
 * open of the cursor file after that point (to keep committing through the new file) that failed made
 * resetCursor reject with ERR_IO although the cursor had moved, durably: a failure that read as "not
 * done". The new file's descriptor is now the one it was written with, opened before the rename, so
 * nothing can fail after the point of no return: the reset resolves with what it did.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, inspectLog, resetCursor } from '../dist/index.js';
import { logOf, suite } from './kit.js';
import { clearFaults, setFaults } from './faults.js';

const test = suite('cursor-reset-reopen-failure');

test('resetCursor: no open of the cursor file after its rename; the reset resolves with what it did', async () => {
  const logDir = await logOf(10);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.nonblockingProcess(null, () => 'commit');
  await c.close();
  // Every open of the cursor file from the fourth on fails: the look, the look under the lock and the
  // open for writing come first; a fourth would be an open after the rename.
  setFaults({ rules: [{ op: 'open', path: 'client\\.billing\\.cursor$', thread: 'main', nth: 4, persistent: true, effect: { errno: 'EMFILE' } }] });
  let r: Awaited<ReturnType<typeof resetCursor>>;
  try {
    r = await resetCursor(logDir, 'billing', { to: 3 });
  } finally {
    clearFaults();
  }
  assert.equal(r, { id: 'billing', from: 10, to: 3 });
  assert.is((await inspectLog(logDir)).cursors[0]!.committedOffset, 3);
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  try {
    assert.is(again.committedOffset, 3);
  } finally {
    await again.close();
  }
});

test.run();
