/**
 * lag() and inspectLog({ backend }) on a stream with messages deleted from its middle (`nats stream
 * rmm`): records still count the deleted messages (docs/jetstream.md), and bytes stay the share of
 * the stream's stored bytes: all of them when the whole stream is behind, never more. Skipped with a
 * printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, type StreamState } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, inspectLog } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { appendAll, runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream lag with deleted messages');
let server: NatsServer;
let n = 0;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

/** Deletes the messages at `offsets` (sequence = offset + 1) and returns the stream's state. */
async function deleteAndState(stream: string, offsets: number[]): Promise<StreamState> {
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    for (const o of offsets) await jsm.streams.deleteMessage(stream, o + 1);
    return (await jsm.streams.info(stream)).state;
  } finally {
    await nc.close();
  }
}

test('bytes behind are at most the stream\'s stored bytes, and all of them when the whole stream is behind', async () => {
  const stream = `lg-${process.pid}-${++n}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 5_000 });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  await appendAll(p, 0, 100);
  await p.close();
  // A clientTx cursor at offset 0 (never committed: it stays at the oldest record).
  const c0 = await Consumer.open({ backend, style: ConsumerStyle.clientTx('gaps') });
  await c0.close();
  const state = await deleteAndState(stream, Array.from({ length: 50 }, (_, i) => 25 + i)); // offsets 25..74 deleted
  assert.is(state.messages, 50);
  assert.is(state.num_deleted, 50);
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const lag = c.lag();
    assert.is(lag.records, 100); // the deleted messages still count (docs/jetstream.md)
    assert.is(lag.bytes, state.bytes, 'the whole stream is behind: its stored bytes, exactly');
  } finally {
    await c.close();
  }
  const info = await inspectLog({ backend });
  const cursor = info.cursors.find((x) => x.id === 'gaps');
  assert.ok(cursor !== undefined);
  assert.is(cursor.lag.records, 100);
  assert.is(cursor.lag.bytes, state.bytes, 'inspectLog: the whole stream is behind the cursor: its stored bytes');
});

runOrSkip(test, 'jetstream-lag-gaps');
