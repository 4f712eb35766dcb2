/**
 * A worker-pool call on a JetStream consumer whose stream had messages deleted from its middle (or a
 * purge past the records it holds): as without a pool, the records before the deleted range are
 * handled and committed, then the call fails with ERR_POSITION_EXPIRED naming the range. The pool's
 * feeder met the range as soon as it had fed those records, and the call used to stop its lanes at
 * once, before they began: nothing was committed, each later call did the same, and opening the
 * consumer again with onPositionExpired 'oldest' did not help (its cursor pointed at a stored record):
 * a dead end. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream pool over deleted messages');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);
const TIMEOUT_MS = 2_000;
const handler = fileURLToPath(new URL('./fixtures/pool-handler.mjs', import.meta.url)); // "rec-<n>": commits after a short delay

test('a pool call commits the records before a deleted range, then ERR_POSITION_EXPIRED; \'oldest\' goes on past it', async () => {
  const stream = `jpdm-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, timeoutMs: TIMEOUT_MS, leaseMs: 1_000 });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  for (let i = 0; i < 10; i++) p.append(`rec-${i}`);
  await p.close();
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    for (const offset of [4, 5]) await jsm.streams.deleteMessage(stream, offset + 1);
  } finally {
    await nc.close();
  }
  const style = ConsumerStyle.clientTx('pool-dm');
  const c = await Consumer.open({ backend, style });
  try {
    const e = await rejectsWith(within(c.nonblockingProcess(null, handler, { workers: 2 }), 4 * TIMEOUT_MS, 'the call'), 'ERR_POSITION_EXPIRED');
    assert.match(e.message, /offsets 4 to 5/);
    assert.is(c.committedOffset, 4, 'the records before the deleted ones were handled and committed');
    await rejectsWith(within(c.nonblockingProcess(null, handler, { workers: 2 }), 4 * TIMEOUT_MS, 'the call'), 'ERR_POSITION_EXPIRED');
  } finally {
    await c.close();
  }
  const past = await Consumer.open({ backend, style, onPositionExpired: 'oldest' });
  try {
    assert.is(past.nextOffset, 6, 'opened past the deleted records');
    const summary = await within(past.nonblockingProcess(null, handler, { workers: 2 }), 4 * TIMEOUT_MS, 'the call');
    assert.is(summary.committed, 4);
    assert.is(past.committedOffset, 10);
  } finally {
    await past.close();
  }
});

runOrSkip(test, 'jetstream pool over deleted messages');
