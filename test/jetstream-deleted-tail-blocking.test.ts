/**
 * A blocking call on a JetStream stream whose newest message was deleted (`nats stream rmm`) stops
 * as a nonblocking one does (test/jetstream-deleted-tail.test.ts): it hands out the records before
 * the deleted one, then rejects with ERR_POSITION_EXPIRED naming it, without waiting for a record
 * appended after it. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite } from './kit.js';
import { closeAfter, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream deleted tail, blocking');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);
const TIMEOUT_MS = 2_000;

/** A stream of records r0..r4 whose newest message (offset 4) was deleted. */
async function streamWithDeletedTail(stream: string): Promise<ReturnType<typeof jetstream>> {
  const backend = jetstream({ servers: server.url, stream, timeoutMs: TIMEOUT_MS });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  await closeAfter(p, () => { for (let i = 0; i < 5; i++) p.append(`r${i}`); });
  const nc = await connect({ servers: server.url });
  try {
    await (await jetstreamManager(nc)).streams.deleteMessage(stream, 5);
  } finally {
    await nc.close();
  }
  return backend;
}

test('a blocking call: the records before the deleted newest message, then ERR_POSITION_EXPIRED', async () => {
  const backend = await streamWithDeletedTail(`dtb-${process.pid}`);
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const got: number[] = [];
  try {
    const e = await rejectsWith(within(c.blockingProcess(null, (m) => { got.push(m.offset); return 'commit'; }), 4 * TIMEOUT_MS, 'the call'), 'ERR_POSITION_EXPIRED');
    assert.match(e.message, /offsets 4 to 4/);
  } finally {
    await c.close();
  }
  assert.equal(got, [0, 1, 2, 3]);
});

test('a blocking call at the deleted newest record: ERR_POSITION_EXPIRED within 2 x timeoutMs', async () => {
  const backend = await streamWithDeletedTail(`dtb-at-${process.pid}`);
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.position(4)) });
  const got: number[] = [];
  const t0 = Date.now();
  try {
    const e = await rejectsWith(within(c.blockingProcess(null, (m) => { got.push(m.offset); return 'commit'; }), 4 * TIMEOUT_MS, 'the call'), 'ERR_POSITION_EXPIRED');
    assert.match(e.message, /offsets 4 to 4/);
    assert.ok(Date.now() - t0 < 2 * TIMEOUT_MS, `ended after ${Date.now() - t0} ms`);
  } finally {
    await c.close();
  }
  assert.equal(got, []);
});

runOrSkip(test, 'jetstream deleted tail, blocking');
