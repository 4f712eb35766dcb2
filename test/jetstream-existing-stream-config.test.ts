/**
 * A stream or bucket that exists before the backend opens it (made by an operator, or another tool)
 * was taken with its subject checked only. With interest retention the server removed every record as
 * it was stored (flush() resolved, and a consumer from the oldest saw nothing, without an error); with
 * workqueue retention every consumer call failed with ERR_IO; with memory storage a restart of the
 * server lost the records, or (the cursors bucket) the committed cursors, whose records were then
 * handed out again. Each is now refused at the open with ERR_INVALID_OPTION, nothing created.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstream as natsJetstream, jetstreamManager, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Consumer, ConsumerStyle, ErrorCode, Producer, Whence, inspectLog } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream: a stream or bucket made beforehand with settings a log cannot keep');
let server: NatsServer;
let n = 0;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

const LEASE_MS = 5_000;
const backendOf = (stream: string): ReturnType<typeof jetstream> => jetstream({ servers: server.url, stream, leaseMs: LEASE_MS, timeoutMs: 1_000 });

async function withNats<T>(fn: (nc: Awaited<ReturnType<typeof connect>>) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: server.url });
  try { return await fn(nc); } finally { await nc.close(); }
}

async function streamNames(): Promise<string[]> {
  return withNats(async (nc) => {
    const names: string[] = [];
    for await (const name of (await jetstreamManager(nc)).streams.names()) names.push(name);
    return names;
  });
}

const CASES: Array<[string, Partial<StreamConfig>, RegExp]> = [
  ['interest retention', { retention: RetentionPolicy.Interest }, /retention interest/],
  ['workqueue retention', { retention: RetentionPolicy.Workqueue }, /retention workqueue/],
  ['memory storage', { storage: StorageType.Memory }, /memory storage/],
  ['no_ack', { no_ack: true }, /no_ack/],
];

for (const [what, config, message] of CASES) {
  test(`a stream with ${what}: the producer, a consumer and inspectLog are refused, nothing made`, async () => {
    const stream = `esc-${process.pid}-${++n}`;
    await withNats(async (nc) => (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [`rl.${stream}`], ...config }));
    const backend = backendOf(stream);
    const e1 = await rejectsWith(Producer.open({ backend }), ErrorCode.INVALID_OPTION);
    assert.match(e1.message, message);
    await rejectsWith(Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) }), ErrorCode.INVALID_OPTION);
    await rejectsWith(Consumer.open({ backend, style: ConsumerStyle.clientTx('billing') }), ErrorCode.INVALID_OPTION);
    await rejectsWith(inspectLog({ backend }), ErrorCode.INVALID_OPTION);
    const names = await streamNames();
    assert.not.ok(names.includes(`KV_rl-${stream}-leases`) || names.includes(`KV_rl-${stream}-cursors`), 'no bucket was made');
  });
}

test('a cursors bucket in memory: a transactional consumer is refused (a restart would hand committed records out again)', async () => {
  const stream = `esc-${process.pid}-${++n}`;
  const backend = backendOf(stream);
  const p = await Producer.open({ backend });
  p.append('x');
  await p.flush();
  await p.close();
  await withNats(async (nc) => new Kvm(natsJetstream(nc)).create(`rl-${stream}-cursors`, { history: 1, storage: StorageType.Memory }));
  const e = await rejectsWith(Consumer.open({ backend, style: ConsumerStyle.clientTx('billing') }), ErrorCode.INVALID_OPTION);
  assert.match(e.message, /cursors bucket .* memory storage/);
});

test('a leases bucket in memory: the producer is refused (a restart would let a second owner in)', async () => {
  const stream = `esc-${process.pid}-${++n}`;
  await withNats(async (nc) => new Kvm(natsJetstream(nc)).create(`rl-${stream}-leases`, { history: 1, ttl: LEASE_MS, storage: StorageType.Memory }));
  const e = await rejectsWith(Producer.open({ backend: backendOf(stream) }), ErrorCode.INVALID_OPTION);
  assert.match(e.message, /leases bucket .* memory storage/);
});

runOrSkip(test, 'jetstream: a stream or bucket made beforehand with settings a log cannot keep');
