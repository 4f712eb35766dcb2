/**
 * inspectLog of a stream deleted and created again under its name, its cursors bucket left from the
 * earlier one: a cursor whose entry names the earlier stream (it committed there) has handed out none
 * of the new stream's records, so its lag is every record the new stream holds. It read as caught up
 * (lag 0) when its old offset lay at or past the new stream's end, and as behind by too few records
 * otherwise, though its next open fails with ERR_POSITION_EXPIRED (or starts at the new stream's
 * oldest record with onPositionExpired 'oldest'). Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, inspectLog, type LogBackend } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite } from './kit.js';
import { closeAfter, runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream inspect recreated stream');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

async function append(backend: LogBackend, n: number): Promise<void> {
  const p = await Producer.open({ backend });
  await closeAfter(p, () => { for (let i = 0; i < n; i++) p.append(`r${i}`); });
}

test('a cursor committed on the earlier stream lags by every record of the new one', async () => {
  const stream = `inspect-recreated-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 3_000 });
  await append(backend, 6);
  for (const [id, n] of [['far', 6], ['near', 1]] as const) {
    const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx(id) });
    await c.nonblockingProcess(n, () => 'commit');
    await c.close();
  }
  const nc = await connect({ servers: server.url });
  try {
    await (await jetstreamManager(nc)).streams.delete(stream);
  } finally {
    await nc.close();
  }
  await append(backend, 4);
  const info = await inspectLog({ backend });
  const lagOf = (id: string): number | undefined => info.cursors.find((c) => c.id === id)?.lag.records;
  assert.is(lagOf('far'), 4, 'the cursor committed at offset 6 of the earlier stream has read none of the new stream\'s 4 records');
  assert.is(lagOf('near'), 4, 'the cursor committed at offset 1 of the earlier stream has read none of them either');
  await rejectsWith(Consumer.open({ backend, style: ConsumerStyle.clientTx('near') }), 'ERR_POSITION_EXPIRED');
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('near'), onPositionExpired: 'oldest' });
  try {
    assert.is(c.lag().records, 4, 'the consumer, opened, agrees');
  } finally {
    await c.close();
  }
});

runOrSkip(test, 'jetstream inspect recreated stream');
