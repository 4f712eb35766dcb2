/**
 * The leases bucket keeps the max age of the handle that made it (leaseMs): a producer or a clientTx
 * consumer opened with another leaseMs on that stream is refused with ERR_INVALID_OPTION naming both
 * values (its lease, renewed every leaseMs / 3, could expire between renewals and let a second holder
 * in beside it), and nothing of it stays held; handles with the bucket's leaseMs open as before.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream lease max age');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

test('a handle whose leaseMs differs from the leases bucket\'s max age is refused', async () => {
  const stream = `rlma-${process.pid}`;
  const short = jetstream({ servers: server.url, stream, leaseMs: 5_000, timeoutMs: 2_000 });
  const long = jetstream({ servers: server.url, stream, leaseMs: 30_000, timeoutMs: 2_000 });
  const p = await Producer.open({ backend: short }); // makes the buckets, max age 5 s
  p.append('r0');
  await within(p.flush(), 10_000, 'flush');
  await p.close();

  const e = await rejectsWith(within(Producer.open({ backend: long }), 10_000, 'producer open'), 'ERR_INVALID_OPTION');
  assert.match(e.message, /30000 ms/);
  assert.match(e.message, /5000 ms/);
  assert.is((e as unknown as { details: { option?: string } }).details.option, 'leaseMs');
  const c = await rejectsWith(within(Consumer.open({ backend: long, style: ConsumerStyle.clientTx('x') }), 10_000, 'consumer open'), 'ERR_INVALID_OPTION');
  assert.match(c.message, /leaseMs/);

  // Handles with the bucket's leaseMs: the refused ones hold nothing.
  const again = await within(Producer.open({ backend: short }), 10_000, 'producer open with the bucket\'s leaseMs');
  const consumer = await within(Consumer.open({ backend: short, style: ConsumerStyle.clientTx('x') }), 10_000, 'consumer open with the bucket\'s leaseMs');
  await consumer.close();
  await again.close();
});

runOrSkip(test, 'jetstream lease max age');
