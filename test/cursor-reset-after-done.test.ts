/**
 * A cursor reset is done once its new file is renamed over the old one and cursors/ is fsynced.
 * resetCursor reported two failures after that point as ERR_IO, though the cursor had moved, durably:
 * failures that read as "not done".
 * - An open of the cursor file after the rename (to keep committing through the new file) that
 *   failed: the new file's descriptor is now the one it was written with, opened before the rename.
 * - A close of that descriptor reporting EIO: every write through it was fdatasynced, and close(2)
 *   frees it anyway, so the failure is not reported.
 * Either way the reset resolves with what it did.
 */
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { Consumer, ConsumerStyle, inspectLog, resetCursor } from '../dist/index.js';
import { logOf, suite } from './kit.js';
import { clearFaults, setFaults, type FaultRule } from './faults.js';

const test = suite('cursor-reset-after-done');

/** A log of 10 records whose cursor `billing` committed them all, reset to 3 under `rule`: the reset resolves and holds. */
async function resetUnder(rule: FaultRule): Promise<void> {
  const logDir = await logOf(10);
  try {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
    await c.nonblockingProcess(null, () => 'commit');
    await c.close();
    setFaults({ rules: [rule] });
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
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
}

test('resetCursor: no open of the cursor file after its rename; the reset resolves with what it did', async () => {
  // Every open of the cursor file from the fourth on fails: the look, the look under the lock and the
  // open for writing come first; a fourth would be an open after the rename.
  await resetUnder({ op: 'open', path: 'client\\.billing\\.cursor$', thread: 'main', nth: 4, persistent: true, effect: { errno: 'EMFILE' } });
});

test('resetCursor: a failed close of the cursor file after the reset does not read as a failed reset', async () => {
  await resetUnder({ op: 'close', path: 'client\\.billing\\.cursor', thread: 'main', nth: 1, persistent: true, effect: { errno: 'EIO' } });
});

test.run();
