/**
 * consumer.lag() during a worker-pool call whose position (the first record the pool has not
 * finished) a purge removed from the stream while the pool still holds it: the records it holds are
 * still handed out, so lag() counts them, and `ms` was 0 (the view knew no timestamp at or before the
 * position, and fell back to the newest record's own) though records were pending: a consumer
 * behind read as caught up in time. `ms` is now measured from the nearest earlier record the pull
 * delivered (the view keeps the timestamp of one record in 64 it delivers), never below the true
 * figure. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream pool lag after a purge');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);
/** The first offset the consumer's view of the stream (its StreamLag) knows stored. */
function viewStart(c: Consumer): number {
  const seen = new Set<unknown>();
  const find = (o: unknown): number | null => {
    if (o === null || typeof o !== 'object' || seen.has(o)) return null;
    seen.add(o);
    if (o.constructor?.name === 'StreamLag') return (o as unknown as { start: number }).start;
    for (const v of Object.values(o)) {
      const r = find(v);
      if (r !== null) return r;
    }
    return null;
  };
  const found = find(c);
  if (found === null) throw new Error('no StreamLag in the consumer');
  return found;
}
const handler = fileURLToPath(new URL('./fixtures/held-pool-handler.mjs', import.meta.url));

test('lag().ms during a pool call whose held record a purge removed is not 0 while records are pending', async () => {
  const stream = `jplp-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 5_000, timeoutMs: 2_000 });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  /** A burst of `count` records, stored at least 300 ms after the ones before. */
  const burst = async (b: number, count = 5): Promise<void> => {
    const t = Date.now();
    await waitFor(() => Date.now() > t + 300, 'the clock to move 300 ms');
    for (let i = 0; i < count; i++) p.append(`b${b} r${i}`);
    await within(p.flush(), 10_000, 'flush');
  };
  await burst(0);
  await burst(1);
  const gate = join(tempDir(), 'gate');
  process.env.RL_TEST_GATE = gate;
  process.env.RL_TEST_HOLD_AT = '10';
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('pool-lag-purged') });
  const stop = new AbortController();
  const call = c.blockingProcess(null, handler, { workers: 2, batchRecords: 1, signal: stop.signal });
  call.catch(() => undefined);
  try {
    await waitFor(() => c.committedOffset === 10, 'the pool to finish records 0 to 9');
    await burst(2, 2); // records 10 and 11: the pool holds record 10
    await waitFor(() => existsSync(`${gate}.held`), 'the pool to reach record 10');
    await burst(3, 3); // records 12 to 14
    await p.close();
    const stamps: number[] = [];
    const reader = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
    await reader.nonblockingProcess(null, (m) => { stamps.push(m.timestamp); return 'commit'; });
    await reader.close();
    assert.is(stamps.length, 15);
    const nc = await connect({ servers: server.url });
    try {
      await (await jetstreamManager(nc)).streams.purge(stream, { keep: 2 }); // offsets 0..12 removed: record 10 is held by the pool only
    } finally {
      await nc.close();
    }
    // The view reads the purge (its first record now 13) within a second: until then it knows no better.
    await waitFor(() => viewStart(c) === 13, 'the lag view to read the purge');
    const lag = c.lag();
    assert.is(lag.records, 5);
    assert.ok(stamps[14]! - stamps[10]! >= 300, 'record 10 lies 300 ms before the newest');
    assert.ok(lag.ms >= stamps[14]! - stamps[10]!, `lag().ms ${lag.ms} with 5 records pending, record 10 ${stamps[14]! - stamps[10]!} ms behind the newest`);
    assert.ok(lag.ms <= stamps[14]! - stamps[0]!, `lag().ms ${lag.ms} at most from the first record delivered`);
  } finally {
    writeFileSync(gate, '');
    await waitFor(() => c.lag().records === 0, 'the call to finish the records').catch(() => undefined);
    stop.abort();
    await within(call, 10_000, 'the call ends on its signal').catch(() => undefined);
    await c.close();
    delete process.env.RL_TEST_GATE;
    delete process.env.RL_TEST_HOLD_AT;
  }
});

runOrSkip(test, 'jetstream pool lag after a purge');
