/**
 * consumer.lag() of a consumer whose log directory was replaced by another log (renamed into its
 * path) measured the other log's durable.offset and segments from the old log's offset, and answered
 * as if they were this consumer's. It fails with ERR_IO naming the directory, as a read does.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { replaceLog, twoLogs } from './dir-replaced-kit.js';
import { suite, throwsWith } from './kit.js';

const test = suite('consumer-dir-replaced-lag');

test('lag() after the directory was replaced by another log fails with ERR_IO', async () => {
  const logs = await twoLogs(6, 50);
  const { logDir } = logs;
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') });
  try {
    assert.is((await c.nonblockingProcess(3, () => 'commit')).committed, 3);
    assert.is(c.lag().records, 3);
    replaceLog(logs);
    const e = throwsWith(() => c.lag(), 'ERR_IO');
    assert.match(String(e), logDir);
  } finally {
    await c.close().catch(() => undefined);
  }
});

test.run();
