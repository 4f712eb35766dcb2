/**
 * A log whose subject another stream already has (two logs named on one subject, or a stream made
 * outside the library, whose wildcard covers it): the open that would create its stream fails with
 * ERR_INVALID_OPTION naming `subject`, at once; the log that has the subject opens as before. Skipped
 * with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream subject taken');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

test('a second log on a subject another stream has is ERR_INVALID_OPTION naming subject', async () => {
  const subject = `shared.${process.pid}`;
  const first = jetstream({ servers: server.url, stream: `rst-${process.pid}-a`, subject, leaseMs: 5_000, timeoutMs: 2_000 });
  const p = await Producer.open({ backend: first });
  p.append('x');
  await within(p.flush(), 10_000, 'flush');
  await p.close();
  const nc = await connect({ servers: server.url });
  try {
    await (await jetstreamManager(nc)).streams.add({ name: `rst-${process.pid}-outside`, subjects: [`outside.${process.pid}.*`] });
  } finally { await nc.close(); }
  for (const taken of [subject, `outside.${process.pid}.x`]) {
    const second = jetstream({ servers: server.url, stream: `rst-${process.pid}-b`, subject: taken, leaseMs: 5_000, timeoutMs: 2_000 });
    const t0 = Date.now();
    const e = await rejectsWith(within(Producer.open({ backend: second }), 10_000, 'producer open'), 'ERR_INVALID_OPTION');
    assert.is((e as unknown as { details: { option?: string } }).details.option, 'subject');
    assert.match(e.message, /another stream/);
    assert.ok(Date.now() - t0 < 2_000, `refused in ${Date.now() - t0} ms, before timeoutMs`);
    await rejectsWith(within(Consumer.open({ backend: second, style: ConsumerStyle.nonTx(Whence.oldest()) }), 10_000, 'consumer open'), 'ERR_INVALID_OPTION');
  }
  const again = await Producer.open({ backend: first });
  assert.is(again.nextOffset, 1, 'the log that has the subject opens as before');
  await again.close();
});

runOrSkip(test, 'jetstream subject taken');
