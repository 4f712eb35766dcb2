/**
 * Conformance, lag, on every backend: consumer.lag() (records, bytes and ms behind the log's end,
 * shrinking as the consumer reads, growing with new appends, zero when caught up, ERR_LOG_CLOSED
 * after close) and the `lagThreshold` option (reactive-log:lag published past the threshold and back
 * under it). Local figures in detail: test/lag.test.ts; what each one means on JetStream:
 * docs/jetstream.md.
 */
import * as assert from 'uvu/assert';
import diagnosticsChannel from 'node:diagnostics_channel';
import { ConsumerStyle, channels, type LagEvent } from '../dist/index.js';
import { conformance, readAll, type LogUnderTest } from './conformance-kit.js';
import { throwsWith, waitFor } from './kit.js';

/** Appends `n` records of one size in two bursts a few ms apart (so the oldest and newest timestamps differ). */
async function twoBursts(log: LogUnderTest, n: number): Promise<number[]> {
  const p = await log.producer();
  for (let i = 0; i < n / 2; i++) p.append(`r${String(i).padStart(4, '0')}`);
  await p.flush();
  const t0 = Date.now();
  await waitFor(() => Date.now() > t0 + 5, 'the clock to move');
  for (let i = n / 2; i < n; i++) p.append(`r${String(i).padStart(4, '0')}`);
  await p.flush();
  await p.close();
  return (await readAll(log)).map((r) => r.timestamp);
}

conformance('conformance: lag', (test, b) => {
  test('lag(): records, bytes and ms behind the end; shrinking as the consumer reads, growing with appends, zero at the end', async () => {
    const log = await b.fresh();
    const stamps = await twoBursts(log, 100);
    assert.ok(stamps[99]! > stamps[0]!, 'two bursts, two timestamps');
    const c = await log.consumer(ConsumerStyle.clientTx('lagging'));
    const first = c.lag();
    assert.is(first.records, 100);
    assert.ok(first.bytes >= 100 * 5, `bytes ${first.bytes}`);
    assert.is(first.ms, stamps[99]! - stamps[0]!);
    await c.nonblockingProcess(30, () => 'commit');
    const mid = c.lag();
    assert.is(mid.records, 70);
    // Locally bytes count from the frame holding the next record: a frame may hold all 30 read.
    assert.ok(mid.bytes > 0 && mid.bytes <= first.bytes, JSON.stringify({ first, mid }));
    assert.is(mid.ms, stamps[99]! - stamps[30]!);
    const p = await log.producer();
    for (let i = 0; i < 20; i++) p.append(`late ${i}`);
    await p.flush();
    // A new record on JetStream shows once the consumer's view of the stream is refreshed (docs/jetstream.md).
    await waitFor(() => c.lag().records === 90, `lag to count the 20 new records (${JSON.stringify(c.lag())})`);
    await c.nonblockingProcess(null, () => 'commit');
    assert.equal(c.lag(), { records: 0, bytes: 0, ms: 0 });
    await p.close();
    await c.close();
    throwsWith(() => c.lag(), 'ERR_LOG_CLOSED');
  });

  test('lagThreshold: reactive-log:lag says when the lag passes the threshold and when it is back under it', async () => {
    const log = await b.fresh();
    await twoBursts(log, 40);
    const events: LagEvent[] = [];
    const onLag = (e: unknown): void => { events.push(e as LagEvent); };
    diagnosticsChannel.subscribe(channels.lag.name, onLag);
    const c = await log.consumer(ConsumerStyle.clientTx('watched'), { lagThreshold: { records: 10 } });
    try {
      const mine = (): LagEvent[] => events.filter((e) => e.logDir === c.logId);
      await waitFor(() => mine().length >= 1, 'the event past the threshold');
      const [above] = mine();
      assert.is(above!.above, true);
      assert.is(above!.consumer, 'watched');
      assert.is(above!.lag.records, 40);
      assert.equal(above!.threshold, { records: 10 });
      await c.nonblockingProcess(35, () => 'commit');
      await waitFor(() => mine().length >= 2, 'the event back under the threshold');
      assert.is(mine()[1]!.above, false);
      assert.is(mine()[1]!.lag.records, 5);
    } finally {
      diagnosticsChannel.unsubscribe(channels.lag.name, onLag);
      await c.close();
    }
  });
});
