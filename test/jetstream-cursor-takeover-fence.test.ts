/**
 * A JetStream cursor taken over while its owner's handler still runs (src/jetstream/cursor.ts): the
 * open that takes the lease writes the entry back (same offset and state) with the revision it read,
 * so the earlier owner's next commit fails the revision check (ERR_CURSOR_LOCKED) even though the
 * new owner has not committed yet and the earlier owner's renewal has not noticed the loss. It
 * committed at the revision the new owner had read: the new owner handed out again what the earlier
 * one committed, and its first commit failed with ERR_CURSOR_LOCKED.
 * The lease's expiry is provoked by deleting its entry; leaseMs is long, so no renewal of the
 * earlier owner runs during a test. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstream as natsJetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Consumer, ConsumerStyle, Producer, type LogBackend } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite, waitFor } from './kit.js';
import { closeAfter, runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream cursor takeover fence');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

/** `fn()`, destroying `c` when it throws (its connection would keep the process running). */
async function destroyedOnFailure(c: Consumer, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    await c.destroy().catch(() => undefined);
    throw e;
  }
}

/** The cursor lease's entry deleted, as if it expired while its holder was paused. */
async function expireLease(stream: string, key: string): Promise<void> {
  const nc = await connect({ servers: server.url });
  try {
    await (await new Kvm(natsJetstream(nc)).open(`rl-${stream}-leases`)).delete(key);
  } finally {
    await nc.close();
  }
}

/**
 * A opens the cursor (at `committedFirst` records committed) and blocks in its handler; its lease
 * expires; B opens through `bBackend`; A's handler returns. A's commit must fail, and B must hand out
 * every record from `committedFirst` on once, committing them all.
 */
async function takeover(stream: string, backend: LogBackend, bBackend: LogBackend, committedFirst: number): Promise<void> {
  const p = await Producer.open({ backend });
  await closeAfter(p, () => { for (let i = 0; i < 5; i++) p.append(`r${i}`); });
  const a = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c') });
  // A failure destroys A (and B) before it goes on: their connections would keep the process running.
  await destroyedOnFailure(a, () => aThenB(stream, a, bBackend, committedFirst));
}

/** takeover() once A is open: B takes the cursor while A's handler runs. */
async function aThenB(stream: string, a: Consumer, bBackend: LogBackend, committedFirst: number): Promise<void> {
  if (committedFirst > 0) assert.is((await a.nonblockingProcess(committedFirst, () => 'commit')).committed, committedFirst);
  let entered = false;
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const aRun = a.nonblockingProcess(1, async () => { entered = true; await gate; return 'commit' as const; })
    .then((r) => ({ ok: true as const, r }), (e: unknown) => ({ ok: false as const, e: e as Error & { code?: string } }));
  await waitFor(() => entered, 'A\'s handler to start');
  await expireLease(stream, 'cursor.client.c');
  const b = await Consumer.open({ backend: bBackend, style: ConsumerStyle.clientTx('c') });
  release();
  await destroyedOnFailure(b, async () => {
    const aResult = await aRun;
    const seen: number[] = [];
    const bResult = await b.nonblockingProcess(null, (m) => { seen.push(m.offset); return 'commit'; })
      .catch((e: unknown) => { throw new Error(`B (the lease's holder) failed after handing out ${JSON.stringify(seen)} (A's process: ${aResult.ok ? JSON.stringify(aResult.r) : aResult.e.message}): ${(e as Error).message}`); });
    assert.ok(!aResult.ok, `A's commit after B took the cursor over must be refused, got ${JSON.stringify(aResult.ok ? aResult.r : null)}`);
    assert.is(aResult.e.code, 'ERR_CURSOR_LOCKED', aResult.e.message);
    const expected = [0, 1, 2, 3, 4].slice(committedFirst);
    assert.equal(seen, expected, 'B hands out each record from the cursor on, once');
    assert.is(bResult.committed, expected.length);
    assert.is(b.committedOffset, 5);
  });
  await b.close();
  await a.destroy();
}

test('an owner whose cursor was taken over while its handler ran cannot commit: the new owner hands out nothing twice', async () => {
  const stream = `takeover-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 60_000 });
  await takeover(stream, backend, backend, 1);
});

test('the same with a cursor that never committed (the entry an open created)', async () => {
  const stream = `takeover-fresh-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 60_000 });
  await takeover(stream, backend, backend, 0);
});

test('the same when the answer to the new owner\'s fencing write is lost (it is read back)', async () => {
  const stream = `takeover-lost-${process.pid}`;
  const proxy = await proxyTo(server.port);
  try {
    const backend = jetstream({ servers: server.url, stream, leaseMs: 60_000 });
    const viaProxy = jetstream({ servers: proxy.url, stream, leaseMs: 60_000, timeoutMs: 2_000 });
    proxy.dropReplies(`$KV.rl-${stream}-cursors.client.c`, 1);
    await takeover(stream, backend, viaProxy, 1);
    assert.is(proxy.repliesDropped(), 1, 'the answer to B\'s write was lost');
  } finally {
    await proxy.close();
  }
});

test('an open of a cursor with no earlier owner and a refused open leave its offset, state and freshness as they were', async () => {
  const stream = `takeover-refused-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 60_000 });
  const p = await Producer.open({ backend });
  for (let i = 0; i < 3; i++) p.append(`r${i}`);
  await p.close();
  const a = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c') });
  await a.close();
  const b = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c') });
  assert.is(b.nextOffset, 0);
  await b.close();
  // A cursor that never committed still stands for "from the oldest record" after the opens wrote it back.
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await natsJetstream(nc).jetstreamManager();
    await jsm.streams.purge(stream, { seq: 3 });
  } finally {
    await nc.close();
  }
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c') });
  assert.is(c.nextOffset, 2, 'a cursor that never committed opens at the oldest record');
  await c.close();
  const d = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c') });
  await rejectsWith(Consumer.open({ backend, style: ConsumerStyle.clientTx('c') }), 'ERR_CURSOR_LOCKED');
  await d.close();
});

runOrSkip(test, 'jetstream cursor takeover fence');
