/**
 * consumer.lag() of a consumer whose log directory was replaced by another log (renamed into its
 * path) measured the other log's durable.offset and segments from the old log's offset, and answered
 * as if they were this consumer's. It fails with ERR_IO naming the directory, as a read does.
 */
import * as assert from 'uvu/assert';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { suite, tempDir, throwsWith } from './kit.js';

const test = suite('consumer-dir-replaced-lag');

async function makeLog(dir: string, n: number): Promise<void> {
  const p = await Producer.open({ logDir: dir });
  for (let i = 0; i < n; i++) p.append(`r${i}`);
  await p.close();
}

test('lag() after the directory was replaced by another log fails with ERR_IO', async () => {
  const root = tempDir();
  const logDir = join(root, 'log');
  const other = join(root, 'other');
  await makeLog(logDir, 6);
  await makeLog(other, 50);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') });
  try {
    assert.is((await c.nonblockingProcess(3, () => 'commit')).committed, 3);
    assert.is(c.lag().records, 3);
    renameSync(logDir, join(root, 'away'));
    renameSync(other, logDir);
    const e = throwsWith(() => c.lag(), 'ERR_IO');
    assert.match(String(e), logDir);
  } finally {
    await c.close().catch(() => undefined);
  }
});

test.run();
