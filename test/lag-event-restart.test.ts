/**
 * reactive-log:lag across a consumer's restart in one process: a consumer that passed its threshold
 * (`above: true`) and closed, then opened again under it (its cursor reset to the end meanwhile, as
 * an operator does to drop a backlog), publishes `above: false`, so a subscriber that raised an alert
 * on the first event sees it cleared. While still above, the new consumer publishes nothing new.
 */
import * as assert from 'uvu/assert';
import diagnosticsChannel from 'node:diagnostics_channel';
import { Consumer, ConsumerStyle, resetCursor } from '../dist/index.js';
import { logOf, suite, waitFor } from './kit.js';

const test = suite('lag event: restart');

test('a consumer reopened under its threshold clears the above its previous run published', async () => {
  const logDir = await logOf(50);
  const seen: { consumer: string | null; above: boolean }[] = [];
  const onLag = (m: unknown): void => void seen.push(m as (typeof seen)[number]);
  diagnosticsChannel.subscribe('reactive-log:lag', onLag);
  try {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing'), lagThreshold: { records: 10 } });
    await waitFor(() => seen.length === 1, 'the event that the consumer is above its threshold');
    await c.close();
    // Reopened still above: the same state, nothing new published (its next event is a change).
    const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing'), lagThreshold: { records: 10 } });
    let checks = 0;
    const lag = again.lag.bind(again);
    again.lag = () => { checks++; return lag(); }; // what the watch measures with, once a second
    await waitFor(() => checks >= 2, 'two lag checks of the reopened consumer', 15_000);
    await again.close();
    assert.is(seen.length, 1, JSON.stringify(seen));
    await resetCursor(logDir, 'billing', { to: 'latest' });
    const d = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing'), lagThreshold: { records: 10 } });
    try {
      assert.is(d.lag().records, 0);
      await waitFor(() => seen.length === 2, 'the event that the reopened consumer is back under its threshold', 15_000);
    } finally {
      await d.close();
    }
  } finally {
    diagnosticsChannel.unsubscribe('reactive-log:lag', onLag);
  }
  assert.equal(seen.map((e) => [e.consumer, e.above]), [['billing', true], ['billing', false]]);
});

test.run();
