/**
 * reactive-log:lag names a transactional consumer by its cursor's admin id, as inspectLog and
 * resetCursor do: the consumer id for clientTx(id), GLOBAL_CURSOR_ID ('@global') for globalTx(). A
 * clientTx consumer may be called 'global', so the globalTx cursor cannot be named that way too.
 */
import * as assert from 'uvu/assert';
import diagnosticsChannel from 'node:diagnostics_channel';
import { Consumer, ConsumerStyle, GLOBAL_CURSOR_ID, inspectLog } from '../dist/index.js';
import { logOf, suite, waitFor } from './kit.js';

const test = suite('lag event: cursor ids');

test("the globalTx consumer and a clientTx consumer called 'global' publish different ids, the ones inspectLog lists", async () => {
  const logDir = await logOf(50);
  const seen: { consumer: string | null; above: boolean }[] = [];
  const onLag = (m: unknown): void => void seen.push(m as (typeof seen)[number]);
  diagnosticsChannel.subscribe('reactive-log:lag', onLag);
  const g = await Consumer.open({ logDir, style: ConsumerStyle.globalTx(), lagThreshold: { records: 10 } });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('global'), lagThreshold: { records: 10 } });
  try {
    await waitFor(() => seen.length === 2, 'a lag event from each consumer');
  } finally {
    diagnosticsChannel.unsubscribe('reactive-log:lag', onLag);
    await g.close();
    await c.close();
  }
  assert.ok(seen.every((e) => e.above), 'both 50 records behind');
  assert.equal(seen.map((e) => e.consumer).sort(), [GLOBAL_CURSOR_ID, 'global'].sort());
  const ids = (await inspectLog(logDir)).cursors.map((x) => x.id).sort();
  assert.equal(ids, seen.map((e) => e.consumer).sort(), 'the ids inspectLog gives the two cursors');
});

test("a subscriber that changes an event's threshold changes no later check", async () => {
  const logDir = await logOf(50);
  const seen: { above: boolean; threshold: { records?: number } }[] = [];
  const onLag = (m: unknown): void => {
    const e = m as (typeof seen)[number];
    seen.push({ above: e.above, threshold: { ...e.threshold } });
    e.threshold.records = -1; // a consumer at the end would still read as above a threshold of -1
  };
  diagnosticsChannel.subscribe('reactive-log:lag', onLag);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('edited'), lagThreshold: { records: 10 } });
  try {
    await waitFor(() => seen.length === 1, 'the event that the consumer is above its threshold');
    await c.nonblockingProcess(50, () => 'commit');
    assert.is(c.lag().records, 0);
    await waitFor(() => seen.length === 2, 'the event that the consumer is back under its threshold of 10 records');
  } finally {
    diagnosticsChannel.unsubscribe('reactive-log:lag', onLag);
    await c.close();
  }
  assert.equal(seen, [{ above: true, threshold: { records: 10 } }, { above: false, threshold: { records: 10 } }]);
});

test.run();
