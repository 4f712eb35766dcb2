/**
 * A publish whose acknowledgement is lost on the way back while the publishes after it are
 * acknowledged: their acknowledgements say it is stored (each publish lands only right after the one
 * before it), so the producer counts it acknowledged with them and goes on publishing at once, in
 * order: no record is held back until the lost answer's timeout, no resync, and `stats().inFlight`
 * counts the publishes really awaiting an answer. And publishes whose answers are all lost, their
 * records removed by the stream's max_age before the resync reads them back: they cannot be checked
 * for the producer's token, and count as its own while its lease is (nobody else publishes), not as
 * another producer's (ERR_LOG_LOCKED). And acknowledgements that overtake each other (the answer to
 * one publish arrives after the answer to the publish after it, as answers from two servers of a
 * cluster can around a leader change): the later answer already counted the earlier record, so the
 * earlier answer counts nothing more, and the next records are published and flushed.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, textsOf, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream lost acknowledgement');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

const TIMEOUT_MS = 20_000;

test('an acknowledgement lost while later ones come: the records after it are published and flushed at once', async () => {
  const stream = `lost-ack-${process.pid}`;
  const proxy = await proxyTo(server.port);
  const p = await Producer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: TIMEOUT_MS }) });
  try {
    proxy.dropReplies(`rl.${stream}`, 1);
    p.append('r0'); // its answer is lost
    p.append('r1');
    p.append('r2');
    await within(p.flush(), TIMEOUT_MS / 2, 'flush of r0..r2 (r1 and r2 acknowledged)');
    assert.is(proxy.repliesDropped(), 1, 'the answer to r0 was lost');
    assert.is(p.stats().inFlight, 0, 'no publish awaits an answer');
    assert.is(p.append('r3'), 3);
    assert.is(p.append('r4'), 4);
    await within(p.flush(), TIMEOUT_MS / 2, 'flush of r3 and r4, well before the lost answer\'s timeout');
    assert.is(p.stats().resyncs, 0, 'no resync: nothing was in doubt');
  } finally {
    await p.destroy();
    await proxy.close();
  }
  assert.equal(await textsOf(jetstream({ servers: server.url, stream })), ['r0', 'r1', 'r2', 'r3', 'r4']);
});

test('records in doubt that the stream\'s max_age removed before the resync read them back: the producer goes on', async () => {
  const stream = `lost-ack-aged-${process.pid}`;
  const proxy = await proxyTo(server.port);
  const p = await Producer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: 1_000 }), maxFileAge: 200 });
  try {
    p.append('r0');
    await p.flush();
    proxy.dropReplies(`rl.${stream}`, 3); // stored; their answers lost: a resync 1 s on, the records gone after 200 ms
    p.append('r1');
    p.append('r2');
    p.append('r3');
    await within(p.flush(), 10_000, 'flush of r1..r3, whose records the stream removed');
    assert.is(proxy.repliesDropped(), 3);
    assert.ok(p.stats().resyncs >= 1, 'the lost answers started a resync');
    assert.is(p.append('r4'), 4);
    await within(p.flush(), 10_000, 'flush of r4');
  } finally {
    await p.destroy();
    await proxy.close();
  }
});

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
  assert.equal(await textsOf(jetstream({ servers: server.url, stream })), ['r0', 'r1', 'r2', 'r3', 'r4']);
});

runOrSkip(test, 'jetstream lost acknowledgement');
