/**
 * The leases bucket (`rl-<stream>-leases`) may exist before the first handle opens, made by the user
 * or an older version with a max_msgs or max_bytes and the "discard old" policy. The server then
 * removes a live lease on its own when another lease is taken (the oldest entry pushed out), and a
 * second producer (or a second owner of a cursor) opened beside the live one. Such a bucket is
 * refused at the open with ERR_INVALID_OPTION naming the setting. Skipped with a printed reason
 * without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { DiscardPolicy, jetstream as jsClient, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream leases bucket limits');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(async () => { await stopAllNats(); });
const LEASE_MS = 3_000;

/** Makes the leases bucket of `stream` beforehand (its max age leaseMs), then applies `limits` to its stream. */
async function leasesWith(stream: string, limits: Record<string, unknown>): Promise<void> {
  const nc = await connect({ servers: server.url });
  try {
    await new Kvm(jsClient(nc)).create(`rl-${stream}-leases`, { history: 1, ttl: LEASE_MS });
    const jsm = await jetstreamManager(nc);
    const name = `KV_rl-${stream}-leases`;
    await jsm.streams.update(name, { ...(await jsm.streams.info(name)).config, ...limits });
  } finally {
    await nc.close();
  }
}

/** Opens a producer, then a clientTx consumer, then a second producer: the codes of the refusals, or 'opened'. */
async function openThree(stream: string): Promise<string[]> {
  const backend = jetstream({ servers: server.url, stream, leaseMs: LEASE_MS, timeoutMs: 2_000 });
  const open: Array<{ close(): Promise<unknown> }> = [];
  const outcomes: string[] = [];
  const attempt = async (opening: () => Promise<{ close(): Promise<unknown> }>): Promise<void> => {
    try {
      open.push(await within(opening(), 20_000, 'open'));
      outcomes.push('opened');
    } catch (e) {
      outcomes.push(`${(e as { code?: string }).code} ${(e as Error).message}`);
    }
  };
  try {
    await attempt(() => Producer.open({ backend }));
    await attempt(() => Consumer.open({ backend, style: ConsumerStyle.clientTx('a') }));
    await attempt(() => Producer.open({ backend }));
  } finally {
    for (const h of open.reverse()) await h.close().catch(() => undefined);
  }
  return outcomes;
}

test('a leases bucket with max_msgs and discard old is refused: a new lease would push a live one out', async () => {
  const stream = `lbl-msgs-${process.pid}`;
  await leasesWith(stream, { max_msgs: 1, discard: DiscardPolicy.Old });
  const [first, consumer, second] = await openThree(stream);
  assert.ok(!(first === 'opened' && second === 'opened'), `two producers opened at once (the consumer: ${consumer})`);
  assert.match(first!, /^ERR_INVALID_OPTION .*max_msgs/);
});

test('a leases bucket with max_bytes and discard old is refused', async () => {
  const stream = `lbl-bytes-${process.pid}`;
  await leasesWith(stream, { max_bytes: 1_000_000, discard: DiscardPolicy.Old });
  const [first] = await openThree(stream);
  assert.match(first!, /^ERR_INVALID_OPTION .*max_bytes/);
});

test('a leases bucket with limits and discard new is taken', async () => {
  const stream = `lbl-new-${process.pid}`;
  await leasesWith(stream, { max_msgs: 1000, discard: DiscardPolicy.New });
  const [first, consumer, second] = await openThree(stream);
  assert.is(first, 'opened');
  assert.is(consumer, 'opened');
  assert.match(second!, /^ERR_LOG_LOCKED /);
});

runOrSkip(test, 'jetstream leases bucket limits');
