/**
 * The one-off scans of a JetStream stream leave no consumer on the server: opening a consumer at
 * Whence.timestamp (the scan for the first record at or after a time), and opening a producer with a
 * dedup window over stored records (the scan that rebuilds the window from the newest records), each
 * with the scan's ordered consumer deleted once the scan ends. Also when the scan's consumers.get()
 * fails after the server made its consumer (forced here: a timeout thrown once the real get returned,
 * as when the answer comes after the request timed out on a loaded machine): the open tries the scan
 * again within its ride, and the consumer that get made is deleted. And inspectLog({ backend }), which reads the cursors bucket's
 * keys (a deleted key is no cursor), leaves no consumer on the stream or its buckets.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { jetstream as natsJetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, inspectLog, type LogBackend } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream scan consumers');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

/** The names of the stream's consumers on the server. */
async function consumerNames(stream: string): Promise<string[]> {
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    const out: string[] = [];
    for await (const ci of jsm.consumers.list(stream)) out.push(ci.name);
    return out;
  } finally {
    await nc.close();
  }
}

test('a consumer opened at Whence.timestamp leaves no server consumer once closed', async () => {
  const stream = `scan-ts-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  p.append('a');
  await p.flush();
  const t = Date.now() + 2;
  await waitFor(() => Date.now() > t + 2, 'the clock passes t');
  p.append('b');
  p.append('c');
  await p.close();
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.timestamp(t)) });
  const got: number[] = [];
  await c.nonblockingProcess(null, (m) => { got.push(m.offset); return 'commit'; });
  await c.close();
  assert.equal(got, [1, 2]);
  assert.equal(await consumerNames(stream), []);
});

for (const window of [{ records: 10 }, { ms: 120_000 }]) {
  test(`a producer opened with dedupWindow ${JSON.stringify(window)} over stored records leaves no server consumer`, async () => {
    const stream = `scan-dd-${Object.keys(window)[0]}-${process.pid}`;
    const backend = jetstream({ servers: server.url, stream });
    const p = await Producer.open({ backend, dedupWindow: window });
    for (let i = 0; i < 5; i++) p.append(`r${i}`, { dedupKey: `k${i}` });
    await p.close();
    const q = await Producer.open({ backend, dedupWindow: window });
    assert.is(q.append('again', { dedupKey: 'k3' }), 3, 'the window was rebuilt from the stored records');
    await q.close();
    assert.equal(await consumerNames(stream), []);
  });
}

/**
 * Runs `open` with the first consumers.get() of the nats.js client (the same module instance
 * dist/jetstream.js loads) failing after the server made its consumer; returns how many gets ran.
 */
async function withLostGet(open: () => Promise<unknown>): Promise<{ gets: number; error: unknown }> {
  const nc = await connect({ servers: server.url });
  const proto = Object.getPrototypeOf(natsJetstream(nc).consumers) as { get: (...args: unknown[]) => Promise<unknown> };
  await nc.close();
  const original = proto.get;
  let gets = 0;
  proto.get = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const made = await original.apply(this, args); // the consumer exists on the server now
    if (gets++ === 0) throw new Error('TimeoutError: timeout');
    return made;
  };
  try {
    await open();
    return { gets, error: null };
  } catch (e) {
    return { gets, error: e };
  } finally {
    proto.get = original;
  }
}

/** What opens with a lost get, and whether the open tries the scan again (the opens' reads ride: docs/jetstream.md). */
const lostGetOpens: Array<[string, string, (backend: LogBackend) => Promise<void>, boolean]> = [
  ['Consumer.open at Whence.timestamp', 'ts', async (backend) => { await (await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.timestamp(0)) })).close(); }, true],
  ['Producer.open with a dedupWindow', 'dd', async (backend) => { await (await Producer.open({ backend, dedupWindow: { records: 10 } })).close(); }, true],
];
for (const [what, tag, open, rides] of lostGetOpens) {
  test(`${what} whose scan's consumers.get() fails after the server made its consumer leaves no server consumer`, async () => {
    const stream = `scan-lost-${tag}-${process.pid}`;
    const backend = jetstream({ servers: server.url, stream, timeoutMs: 2_000 });
    const p = await Producer.open({ backend, dedupWindow: { records: 10 } });
    for (let i = 0; i < 5; i++) p.append(`r${i}`, { dedupKey: `k${i}` });
    await p.close();
    const { gets, error } = await withLostGet(() => open(backend));
    if (rides) {
      // The scan is tried again within the open's ride, and its second get succeeds.
      assert.is(gets, 2, 'the scan\'s get ran again');
      assert.is(error, null, `${what} rode out the lost get`);
    } else {
      assert.is(gets, 1, 'the scan\'s get ran once');
      assert.ok(error instanceof Error, `${what} failed with the get`);
    }
    let left: string[] = [];
    await waitFor(async () => (left = await consumerNames(stream)).length === 0, 'no consumer left on the server', 5_000)
      .catch((e: Error) => { throw new Error(`${e.message}; left: ${left.join(', ')}`); });
  });
}

test('inspectLog({ backend }) reads the cursors and leaves no server consumer on the stream or its buckets', async () => {
  const stream = `scan-insp-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream });
  const p = await Producer.open({ backend });
  for (let i = 0; i < 5; i++) p.append(`r${i}`);
  await p.close();
  for (const id of ['a', 'b', 'c']) {
    const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx(id) });
    await c.nonblockingProcess(id === 'a' ? 2 : 5, () => 'commit');
    await c.close();
  }
  const nc = await connect({ servers: server.url });
  try {
    await (await new Kvm(nc).open(`rl-${stream}-cursors`)).delete('client.c'); // a deleted key: no cursor
  } finally {
    await nc.close();
  }
  const info = await inspectLog({ backend });
  assert.equal(info.cursors.map((c) => [c.id, c.committedOffset]), [['a', 2], ['b', 5]]);
  // The stream and its buckets (KV_rl-<stream>-leases, KV_rl-<stream>-cursors).
  const names = [stream, `KV_rl-${stream}-leases`, `KV_rl-${stream}-cursors`];
  let left: string[] = [];
  await waitFor(async () => (left = (await Promise.all(names.map(consumerNames))).flat()).length === 0, 'no consumer left on the stream or its buckets', 5_000)
    .catch((e: Error) => { throw new Error(`${e.message}; left: ${left.join(', ')}`); });
});

runOrSkip(test, 'jetstream scan consumers');
