/**
 * Records removed under a JetStream reader (a purge, the stream's limits): the reader hands out the
 * records before the removed range, then ERR_POSITION_EXPIRED naming it, never a silent skip; and the
 * Whence of an open against a stream whose oldest records were removed, or that was emptied.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, type Message } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite, waitFor } from './kit.js';
import { closeAfter, appendAll, consumerCount, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream purge under readers');
let server: NatsServer;
let n = 0;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);
const TIMEOUT_MS = 2_000;
const fresh = () => {
  const stream = `pr-${process.pid}-${++n}`;
  return { stream, backend: jetstream({ servers: server.url, stream, timeoutMs: TIMEOUT_MS, leaseMs: 5_000 }) };
};

/** Runs `fn` with a JetStream manager on a connection of its own, closed after. */
async function withJsm<T>(fn: (jsm: JetStreamManager) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: server.url });
  try {
    return await fn(await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

/** Purges `stream` as an operator would: `seq` keeps the messages from that sequence on; none: all. */
async function purge(stream: string, seq?: number): Promise<void> {
  await withJsm((jsm) => jsm.streams.purge(stream, seq === undefined ? undefined : { seq }));
}

/** The records the consumer's JetStream reader holds not handed out (its buffer: 4,096 at most, then the pull pauses). */
function bufferedOf(c: Consumer): number {
  const seen = new Set<unknown>();
  const find = (o: unknown): number | null => {
    if (o === null || typeof o !== 'object' || seen.has(o)) return null;
    seen.add(o);
    if (o.constructor?.name === 'JsReader') return (o as { buffered: number }).buffered;
    for (const v of Object.values(o)) {
      const r = find(v);
      if (r !== null) return r;
    }
    return null;
  };
  return find(c) ?? -1;
}

async function filled(backend: ReturnType<typeof jetstream>, count: number): Promise<void> {
  await closeAfter(await Producer.open({ backend, syncPolicy: SyncPolicy.never() }), (p) => appendAll(p, 0, count));
}

test('a purge below a reader that has read nothing: ERR_POSITION_EXPIRED naming the removed range', async () => {
  const { stream, backend } = fresh();
  await filled(backend, 10);
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  await purge(stream, 6); // offsets 0..4 removed
  const got: number[] = [];
  try {
    const e = await rejectsWith(within(c.nonblockingProcess(null, (m) => { got.push(m.offset); return 'commit'; }), 4 * TIMEOUT_MS, 'the call'), 'ERR_POSITION_EXPIRED');
    assert.match(e.message, /offsets 0 to 4/);
    assert.equal(got, []);
  } finally {
    await c.close();
  }
});

test('the stream purged empty under a reader: ERR_POSITION_EXPIRED naming the whole range, nonblocking and blocking', async () => {
  const { stream, backend } = fresh();
  await filled(backend, 10);
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.position(3)) });
  const d = await Consumer.open({ backend, style: ConsumerStyle.clientTx('b') });
  await purge(stream);
  const got: number[] = [];
  try {
    const e = await rejectsWith(within(c.nonblockingProcess(null, (m) => { got.push(m.offset); return 'commit'; }), 4 * TIMEOUT_MS, 'the call'), 'ERR_POSITION_EXPIRED');
    assert.match(e.message, /offsets 3 to 9/);
    const e2 = await rejectsWith(within(d.blockingProcess(null, (m) => { got.push(m.offset); return 'commit'; }), 4 * TIMEOUT_MS, 'the blocking call'), 'ERR_POSITION_EXPIRED');
    assert.match(e2.message, /offsets 0 to 9/);
    assert.equal(got, []);
  } finally {
    await c.close();
    await d.close();
  }
});

test('a purge while the pull is paused on a full buffer: the buffered records, then ERR_POSITION_EXPIRED naming the rest removed', async () => {
  const { stream, backend } = fresh();
  await filled(backend, 6000);
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('paused') });
  const got: number[] = [];
  let gate!: () => void;
  const gated = new Promise<void>((r) => { gate = r; });
  try {
    const call = within(c.blockingProcess(null, async (m: Message) => {
      if (m.offset === 0) await gated;
      got.push(m.offset);
      return 'commit' as const;
    }), 60_000, 'the call');
    call.catch(() => undefined);
    await waitFor(() => got.length === 0 && bufferedOf(c) >= 4096, 'the pull to fill its buffer and pause', 30_000);
    // Paused: the pull stopped and deleted its consumer, so no delivery is under way at the purge.
    await waitFor(async () => (await withJsm((jsm) => consumerCount(jsm, stream))) === 0, 'the paused pull to delete its consumer', 30_000);
    await purge(stream, 5901); // offsets 0..5899 removed
    gate();
    const e = await rejectsWith(call, 'ERR_POSITION_EXPIRED');
    process.stdout.write(`# ${got.length} handed out, then: ${e.message}\n`);
    for (let i = 0; i < got.length; i++) assert.is(got[i], i);
    assert.match(e.message, new RegExp(`offsets ${got.length} to 5899`));
  } finally {
    await c.close();
  }
});

test('Whence against a stream whose oldest records were purged: oldest, position inside the range, timestamp inside it', async () => {
  const { stream, backend } = fresh();
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  await appendAll(p, 0, 10);
  await p.close();
  const all: Message[] = [];
  const c0 = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  await c0.nonblockingProcess(null, (m) => { all.push(m); return 'commit'; });
  await c0.close();
  await purge(stream, 6);
  const offsets = async (w: ReturnType<typeof Whence.oldest>, toOldest = false): Promise<number[]> => {
    const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(w), ...(toOldest ? { onPositionExpired: 'oldest' as const } : {}) });
    const out: number[] = [];
    try {
      await c.nonblockingProcess(null, (m) => { out.push(m.offset); return 'commit'; });
    } finally {
      await c.close();
    }
    return out;
  };
  assert.equal(await offsets(Whence.oldest()), [5, 6, 7, 8, 9]);
  await rejectsWith(offsets(Whence.position(2)), 'ERR_POSITION_EXPIRED');
  assert.equal(await offsets(Whence.position(2), true), [5, 6, 7, 8, 9]);
  assert.equal(await offsets(Whence.timestamp(all[2]!.timestamp)), [5, 6, 7, 8, 9]);
  assert.equal(await offsets(Whence.timestamp(all[7]!.timestamp)), all.filter((m) => m.offset >= 5 && m.timestamp >= all[7]!.timestamp).map((m) => m.offset));
  assert.equal(await offsets(Whence.latest()), []);
  await purge(stream);
  assert.equal(await offsets(Whence.oldest()), []);
  assert.equal(await offsets(Whence.timestamp(0)), []);
  assert.equal(await offsets(Whence.latest()), []);
  await rejectsWith(offsets(Whence.position(9)), 'ERR_POSITION_EXPIRED');
  assert.equal(await offsets(Whence.position(10)), []);
  // Appended after the purge: each start finds the new records.
  const q = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  await appendAll(q, 10, 3);
  await q.close();
  assert.equal(await offsets(Whence.oldest()), [10, 11, 12]);
  assert.equal(await offsets(Whence.timestamp(0)), [10, 11, 12]);
  assert.equal(await offsets(Whence.position(11)), [11, 12]);
});

runOrSkip(test, 'jetstream purge under readers');
