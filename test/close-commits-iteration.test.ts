/**
 * close() makes the cursor durable, with group commit too: records an iteration completed (the loop
 * asked for the next one) before close() ended it are committed by close(), and the next open starts
 * after them. TxCursor.close() marked the cursor closed before its last sync, which then returned at
 * once: close() committed nothing, the iteration's leave() found the cursor released, and every
 * record completed since the last group commit was delivered again after the reopen.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { logOf, suite } from './kit.js';

const test = suite('close-commits-iteration');

const STYLES = [['globalTx', () => ConsumerStyle.globalTx()], ['clientTx', () => ConsumerStyle.clientTx('billing')]] as const;

for (const [name, style] of STYLES) {
  test(`${name}, commit every 100 records: close() during for await commits the 10 records the loop completed`, async () => {
    const logDir = await logOf(20);
    const c = await Consumer.open({ logDir, style: style(), commit: { everyRecords: 100 } });
    let closing: Promise<void> | null = null;
    for await (const m of c) {
      if (m.offset === 10) closing = c.close(); // records 0-9 were completed when the loop asked for 10
    }
    await closing;
    const again = await Consumer.open({ logDir, style: style() });
    try {
      assert.is(again.committedOffset, 10, 'the records completed before close() were not committed');
      assert.is(again.nextOffset, 10);
    } finally {
      await again.close();
    }
  });

  test(`${name}, commit every 1 s: close() during iter() commits the 5 records the loop completed`, async () => {
    const logDir = await logOf(20);
    const c = await Consumer.open({ logDir, style: style(), commit: { everyMs: 1000 } });
    let closing: Promise<void> | null = null;
    for (const m of c.iter()) {
      if (m.offset === 5) closing = c.close();
    }
    await closing;
    const again = await Consumer.open({ logDir, style: style() });
    try {
      assert.is(again.nextOffset, 5, 'the records completed before close() were delivered again');
    } finally {
      await again.close();
    }
  });
}

test.run();
