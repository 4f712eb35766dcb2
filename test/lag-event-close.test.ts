/**
 * reactive-log:lag when a nonTx consumer closes while above its threshold: it reads nothing more and
 * no cursor keeps its position, so nothing lags any longer; its close publishes `above: false`, so a
 * subscriber that raised an alert on its `above: true` sees it cleared (before, the alert stayed
 * raised for good: no later check of that consumer could clear it). A transactional consumer's
 * cursor still lags after its close: that alert stays, and a reopen goes on from it
 * (lag-event-restart).
 */
import * as assert from 'uvu/assert';
import diagnosticsChannel from 'node:diagnostics_channel';
import { Consumer, ConsumerStyle, Whence } from '../dist/index.js';
import { logOf, suite, waitFor } from './kit.js';

const test = suite('lag event: close');

type Seen = Array<{ consumer: string | null; above: boolean; lag: { records: number } }>;

async function aboveThenEnd(end: (c: Consumer) => Promise<void>): Promise<Seen> {
  const logDir = await logOf(50);
  const seen: Seen = [];
  const onLag = (m: unknown): void => void seen.push(m as Seen[number]);
  diagnosticsChannel.subscribe('reactive-log:lag', onLag);
  try {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()), lagThreshold: { records: 10 } });
    await waitFor(() => seen.length === 1, 'the event that the consumer is above its threshold');
    await end(c);
  } finally {
    diagnosticsChannel.unsubscribe('reactive-log:lag', onLag);
  }
  return seen;
}

test('a nonTx consumer closed above its threshold clears its alert', async () => {
  const seen = await aboveThenEnd((c) => c.close());
  assert.equal(seen.map((e) => [e.consumer, e.above]), [[null, true], [null, false]], JSON.stringify(seen));
  assert.is(seen[1]!.lag.records, 50, 'the lag it left: the records it had not read');
});

test('a nonTx consumer destroyed above its threshold clears its alert', async () => {
  const seen = await aboveThenEnd((c) => c.destroy());
  assert.equal(seen.map((e) => [e.consumer, e.above]), [[null, true], [null, false]], JSON.stringify(seen));
});

test('a nonTx consumer closed under its threshold publishes nothing', async () => {
  const logDir = await logOf(5);
  const seen: Seen = [];
  const onLag = (m: unknown): void => void seen.push(m as Seen[number]);
  diagnosticsChannel.subscribe('reactive-log:lag', onLag);
  try {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()), lagThreshold: { records: 10 } });
    let checks = 0;
    const lag = c.lag.bind(c);
    c.lag = () => { checks++; return lag(); };
    await waitFor(() => checks >= 1, 'a lag check', 15_000);
    await c.close();
  } finally {
    diagnosticsChannel.unsubscribe('reactive-log:lag', onLag);
  }
  assert.equal(seen, []);
});

test.run();
