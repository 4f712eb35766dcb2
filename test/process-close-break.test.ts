/**
 * close() while a handler function runs, and that handler answers 'break': the record stays (it is
 * handed out first after the next open), the records before it stay committed, and the call returns
 * stoppedBy 'end', as for any call close() ended (docs/consumers.md, "close() while a processing call
 * runs"). It returned 'break'.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { logOf, suite } from './kit.js';

const test = suite('process-close-break');

for (const blocking of [false, true]) {
  test(`${blocking ? 'blockingProcess' : 'nonblockingProcess'}: a 'break' answered after close() ends the call with stoppedBy 'end'; the record comes again`, async () => {
    const logDir = await logOf(4);
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('t') });
    let closing: Promise<void> | null = null;
    const handler = (msg: { offset: number }): 'commit' | 'break' => {
      if (msg.offset < 2) return 'commit';
      closing = c.close();
      return 'break';
    };
    const summary = blocking ? await c.blockingProcess(null, handler) : await c.nonblockingProcess(null, handler);
    await closing;
    assert.equal(summary, { committed: 2, skipped: 0, retried: 0, stoppedBy: 'end' });
    const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('t') });
    try {
      assert.is(again.committedOffset, 2, 'the record the handler broke on is not committed');
      assert.equal([...again.iter()].map((m) => m.offset), [2, 3]);
    } finally {
      await again.close();
    }
  });
}

test.run();
