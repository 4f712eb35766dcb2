/**
 * producer.stats() on JetStream once the producer stopped: `inFlight` counts the publishes awaiting
 * their acknowledgement now, and a destroyed producer awaits none (its connection is closed, and an
 * answer that still came would count for nothing). Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { startNats, stopAllNats, runOrSkip, type NatsServer } from './nats-kit.js';

const test = suite('jetstream stats after stop');
let server: NatsServer;
let n = 0;

test.before(async () => {
  server = await startNats();
});
test.after(stopAllNats);

test('a producer destroyed with publishes in flight: stats() says none is in flight any more', async () => {
  const p = await Producer.open({ backend: jetstream({ servers: server.url, stream: `sas-${process.pid}-${++n}` }), syncPolicy: SyncPolicy.never() });
  for (let i = 0; i < 500; i++) p.append(`record ${i}`);
  await Promise.resolve(); // append queues; the publishes go out on the next microtask
  assert.ok(p.stats().inFlight > 0, 'published, awaiting acknowledgements');
  await p.destroy();
  const s = p.stats();
  assert.is(s.inFlight, 0, `inFlight ${s.inFlight} after destroy()`);
  assert.ok(s.records + s.queuedRecords === 500, JSON.stringify(s));
});

runOrSkip(test, 'jetstream stats after stop');
