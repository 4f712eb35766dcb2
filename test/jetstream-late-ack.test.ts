/**
 * Acknowledgements that overtake each other (the answer to one publish arrives after the answer to
 * the publish after it, as answers from two servers of a cluster can around a leader change): the
 * later answer already counted the earlier record acknowledged, so the earlier answer counts
 * nothing more. The producer's count of publishes in flight stays right, and the next records are
 * published and flushed (they were never published: the count said every queued record was).
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream late acknowledgement');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

const TIMEOUT_MS = 20_000;

test('an acknowledgement that arrives after the next one: nothing is counted twice, the next records are published', async () => {
  const stream = `late-ack-${process.pid}`;
  const proxy = await proxyTo(server.port);
  const p = await Producer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: TIMEOUT_MS }) });
  try {
    proxy.lateReply(`rl.${stream}`);
    p.append('r0'); // its answer arrives after r1's
    p.append('r1');
    p.append('r2');
    await within(p.flush(), TIMEOUT_MS / 2, 'flush of r0..r2');
    assert.is(proxy.repliesLate(), 1, 'the answer to r0 came after the answer to r1');
    assert.is(p.append('r3'), 3);
    await within(p.flush(), 5_000, 'flush of r3 (never published while the count of publishes in flight was one too high)');
    assert.is(p.stats().inFlight, 0, 'no publish awaits an answer');
    assert.is(p.append('r4'), 4);
    await within(p.flush(), 5_000, 'flush of r4');
    assert.is(p.stats().resyncs, 0, 'no resync: nothing was in doubt');
  } finally {
    await p.destroy();
    await proxy.close();
  }
  const c = await Consumer.open({ backend: jetstream({ servers: server.url, stream }), style: ConsumerStyle.nonTx(Whence.oldest()) });
  const texts: string[] = [];
  await c.nonblockingProcess(null, (m) => { texts.push(Buffer.from(m.data).toString()); return 'commit'; });
  await c.close();
  assert.equal(texts, ['r0', 'r1', 'r2', 'r3', 'r4']);
});

runOrSkip(test, 'jetstream late acknowledgement');
