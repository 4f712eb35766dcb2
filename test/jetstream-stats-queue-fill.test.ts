/**
 * producer.stats() on JetStream: `ringFill` stays from 0 to 1, as ProducerStats promises, when one
 * record larger than maxQueueBytes is queued alone (append takes it into an empty queue: it could
 * never be appended otherwise). `ringBytes` still tells the queue's true size. Skipped with a printed
 * reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { startNats, stopAllNats, runOrSkip, type NatsServer } from './nats-kit.js';

const test = suite('jetstream stats queue fill');
let server: NatsServer;

test.before(async () => {
  server = await startNats();
});
test.after(stopAllNats);

test('a record larger than maxQueueBytes queued alone: ringFill is 1, not past it; ringBytes counts it all', async () => {
  const maxQueueBytes = 64 * 1024;
  const p = await Producer.open({ backend: jetstream({ servers: server.url, stream: `sqf-${process.pid}`, maxQueueBytes }), syncPolicy: SyncPolicy.never() });
  try {
    p.append(new Uint8Array(200 * 1024)); // the server's max_payload (1 MiB) allows it; the queue was empty
    const s = p.stats();
    assert.is(s.queuedRecords, 1);
    assert.is(s.ringBytes, 200 * 1024 + 64, 'the queue as maxQueueBytes counts it');
    assert.ok(s.ringFill >= 0 && s.ringFill <= 1, `ringFill ${s.ringFill} is outside 0..1`);
    assert.is(s.ringFill, 1, 'the queue is full');
    await p.flush();
    assert.is(p.stats().ringFill, 0);
  } finally {
    await p.close();
  }
});

runOrSkip(test, 'jetstream stats queue fill');
