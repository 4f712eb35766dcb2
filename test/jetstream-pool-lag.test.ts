/**
 * consumer.lag() on JetStream during a worker-pool call: its position is the first record the pool
 * has not finished, and `ms` is the newest record's timestamp minus that record's, as without a pool.
 * The view of the stream refreshes once a second, and the refresh reads the timestamp at that
 * position, not at how far the call's feeder read ahead (there the view knows nothing of the pool's
 * position, and `ms` stayed measured from where the consumer opened for the whole call). Skipped
 * with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream pool lag');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);
const handler = fileURLToPath(new URL('./fixtures/held-pool-handler.mjs', import.meta.url));

test('lag().ms during a pool call is measured from the first record the pool has not finished', async () => {
  const backend = jetstream({ servers: server.url, stream: `jpl-${process.pid}`, leaseMs: 5_000, timeoutMs: 2_000 });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  /** A burst of 5 records, stored at least 300 ms after the ones before. */
  const burst = async (b: number): Promise<void> => {
    const t = Date.now();
    await waitFor(() => Date.now() > t + 300, 'the clock to move 300 ms');
    for (let i = 0; i < 5; i++) p.append(`b${b} r${i}`);
    await within(p.flush(), 10_000, 'flush');
  };
  await burst(0);
  await burst(1);
  const gate = join(tempDir(), 'gate');
  process.env.RL_TEST_GATE = gate;
  process.env.RL_TEST_HOLD_AT = '10';
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('pool-lag') });
  const stop = new AbortController();
  const call = c.blockingProcess(null, handler, { workers: 2, batchRecords: 1, signal: stop.signal });
  call.catch(() => undefined);
  try {
    await waitFor(() => c.committedOffset === 10, 'the pool to finish records 0 to 9');
    await burst(2); // records 10 to 14: the pool holds record 10
    await waitFor(() => existsSync(`${gate}.held`), 'the pool to reach record 10');
    await p.close();
    const reader = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
    const stamps: number[] = [];
    await reader.nonblockingProcess(null, (m) => { stamps.push(m.timestamp); return 'commit'; });
    await reader.close();
    assert.is(stamps.length, 15);
    assert.ok(stamps[10]! - stamps[0]! >= 600, 'the bursts lie apart');
    await waitFor(() => c.lag().records === 5, 'lag() to count from record 10');
    const want = stamps[14]! - stamps[10]!;
    // Within a few refreshes of the view (once a second), ms is the distance from record 10.
    let last = c.lag();
    await waitFor(() => {
      last = c.lag();
      return last.ms === want;
    }, 'lag().ms to be measured from record 10', 4_000).catch(() => undefined);
    assert.equal(last, { records: 5, bytes: last.bytes, ms: want }, `lag() at record 10 (from record 0, ms would be ${stamps[14]! - stamps[0]!})`);
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

runOrSkip(test, 'jetstream pool lag');
