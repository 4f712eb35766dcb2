/**
 * inspectLog, `info`, `cursor list` and consumer.lag() agree when durable.offset holds no readable
 * value and no producer holds the log: a transactional consumer in another process hands out no
 * record that file does not prove durable, so its lag is 0, and inspectLog reports no durable record
 * past the log start and every cursor's lag as 0 (it reported the end of the files as the durable end
 * and a lag of every record, which the consumer never took).
 */
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, inspectLog, resetCursor } from '../dist/index.js';
import { logOf, suite } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('inspect-lag-hint-unknown');
test.after(killCliProcesses);

test('durable.offset deleted, no producer: inspectLog, info and cursor list report the lag the consumer reads, and nothing it does not hand out', async () => {
  const logDir = await logOf(5);
  const c0 = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c0.close();
  rmSync(join(logDir, 'durable.offset'));
  const info = await inspectLog(logDir);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  let lag;
  let handed = 0;
  try {
    lag = c.lag();
    await c.nonblockingProcess(10, () => { handed++; return 'commit'; });
  } finally {
    await c.close();
  }
  console.log(`  inspectLog: next ${info.nextOffset}, durable ${info.durableOffset}, cursor lag ${info.cursors[0]!.lag.records}; consumer.lag() ${lag.records}, handed out ${handed}`);
  assert.is(handed, 0, 'the consumer hands out no record durable.offset does not prove durable');
  assert.equal(info.cursors[0]!.lag, lag, 'inspectLog and consumer.lag() agree');
  assert.ok(info.durableOffset <= info.cursors[0]!.committedOffset + handed, 'no record is reported durable that the consumer holds back');
  assert.is(info.nextOffset, 5);
  const json = JSON.parse(cli('info', logDir, '--json').stdout) as { durableOffset: number; cursors: Array<{ lag: { records: number } }> };
  assert.is(json.durableOffset, info.durableOffset);
  assert.is(json.cursors[0]!.lag.records, 0);
  assert.match(cli('cursor', 'list', logDir).stdout, /lag 0 records/);
  // A reset to 'latest' still never rewinds: it takes the end of the files.
  assert.equal(await resetCursor(logDir, 'billing', { to: 'latest' }), { id: 'billing', from: 0, to: 5 });
});

test.run();
