/**
 * The JetStream leases through requests that get no answer: a TCP proxy between a handle and a
 * single-node nats-server loses chosen publishes or the server's answers to them, as a link that
 * drops requests or a cluster electing a leader does.
 * - Renewals: one that failed is tried again 250 ms later, each try waiting a fraction of the lease (not
 *   timeoutMs), so two lost renewals do not cost the lease: a second producer is still refused with
 *   ERR_LOG_LOCKED after the first holding would have expired, and the first goes on. A renewal stored
 *   though its answer was lost is read back by the next one, which goes on from its revision.
 * - Release: close() whose deletes are lost waits a renewal try for each, not timeoutMs; the entry
 *   left behind refuses a second producer until it expires.
 * - Opens: a lost lease create is tried again; a create stored though its answer (and the reads
 *   after it) was lost is found by a later try and taken as the open's holding, renewed at once; a
 *   lost cursor create is tried again.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, type BackendProducer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite, waitFor } from './kit.js';
import { closeAfter, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { proxyTo, type NatsProxy } from './nats-proxy.js';

const test = suite('jetstream leases ride out lost requests');
test.after(stopAllNats);

/** Runs `fn` against a fresh single-node server and a proxy in front of it; stops both after. */
async function proxied(fn: (own: NatsServer, proxy: NatsProxy) => Promise<void>): Promise<void> {
  const own = await startNats();
  const proxy = await proxyTo(own.port);
  try {
    await fn(own, proxy);
  } finally {
    await proxy.close();
    await own.stop();
  }
}

/**
 * Appends one more record through `p`, flushes and closes it; then a producer straight to the server
 * opens at once (close() released the lease, whichever try took it) and finds `count` records.
 */
async function closeAndReopen(p: BackendProducer, own: NatsServer, stream: string, count: number, leaseMs?: number): Promise<void> {
  p.append(`r${count - 1}`);
  await p.flush();
  await p.close();
  const q = await Producer.open({ backend: jetstream({ servers: own.url, stream, timeoutMs: 1_000, ...(leaseMs === undefined ? {} : { leaseMs }) }) });
  await closeAfter(q, () => assert.is(q.nextOffset, count));
}

for (const timeoutMs of [5_000, 1_000]) {
  test(`two lost renewals of a 6 s lease (timeoutMs ${timeoutMs}): the lease holds, a second producer is refused, the first goes on`, () => proxied(async (own, proxy) => {
    const stream = `lease-${timeoutMs}`;
    const leaseMs = 6_000; // renewals every 2 s, each try waiting 1 s: the third try lands 1.5 s before expiry
    const p = await Producer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs, timeoutMs }), syncPolicy: SyncPolicy.never() });
    try {
      p.append('r0');
      await p.flush();
      const renewals = `$KV.rl-${stream}-leases.producer`;
      proxy.drop(renewals, 2);
      await waitFor(() => proxy.dropped() === 2, 'two renewals lost', 4 * leaseMs);
      const base = proxy.passed(renewals);
      // Two renewals through after the lost ones: the lease was renewed past the moment the last one
      // before them would have let it expire.
      await waitFor(() => proxy.passed(renewals) >= base + 2, 'two renewals through after the lost ones', 3 * leaseMs);
      const second = Producer.open({ backend: jetstream({ servers: own.url, stream, leaseMs, timeoutMs: 1_000 }) });
      const refused = await rejectsWith(second, 'ERR_LOG_LOCKED');
      assert.match(refused.message, /held by another live handle/);
      assert.is(p.error, null);
      await closeAndReopen(p, own, stream, 2, leaseMs);
    } finally {
      await p.destroy();
    }
  }));
}

test('Producer.open whose lease create is lost on the way: the take is tried again, the open succeeds, and close() releases that holding', () => proxied(async (own, proxy) => {
  const stream = 'take-lost';
  proxy.drop(`$KV.rl-${stream}-leases.producer`, 1);
  const p = await within(Producer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: 1_000 }) }), 15_000, 'Producer.open');
  try {
    assert.is(proxy.dropped(), 1, 'the first create was lost');
    await closeAndReopen(p, own, stream, 1);
  } finally {
    await p.destroy();
  }
}));

test('a lease create stored though its answer was lost, and the reads after it lost too: the next try takes that holding as its own', () => proxied(async (own, proxy) => {
  const stream = 'take-stored';
  // The create is stored and its answer lost; so are the reads nats.js's create makes after a failed
  // put, in this try and in the next (whose put is refused: the key exists).
  proxy.dropReplies(`$KV.rl-${stream}-leases.producer`, 1);
  proxy.drop(`$JS.API.STREAM.MSG.GET.KV_rl-${stream}-leases`, 2);
  const p = await within(Producer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: 2_000 }) }), 20_000, 'Producer.open');
  try {
    assert.is(proxy.repliesDropped(), 1, 'the answer to the first create was lost');
    assert.is(proxy.dropped(), 2, 'the reads after it were lost');
    // The holding is this producer's: a second one is refused, and this one appends.
    const refused = await rejectsWith(Producer.open({ backend: jetstream({ servers: own.url, stream, timeoutMs: 1_000 }) }), 'ERR_LOG_LOCKED');
    assert.match(refused.message, /held by another live handle/);
    await closeAndReopen(p, own, stream, 1);
  } finally {
    await p.destroy();
  }
}));

test('a holding taken over from an earlier try is renewed at once: written 3 s before the take of a 4.5 s lease, it does not expire', () => proxied(async (own, proxy) => {
  const stream = 'take-late';
  const leaseMs = 4_500;
  const renewals = `$KV.rl-${stream}-leases.producer`;
  // The first create is stored and its answer lost: the open waits timeoutMs (3 s) for it, then takes
  // that holding over, two thirds of a lease after it was written.
  proxy.dropReplies(renewals, 1);
  const p = await within(Producer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs, timeoutMs: 3_000 }) }), 20_000, 'Producer.open');
  try {
    assert.is(proxy.repliesDropped(), 1, 'the answer to the first create was lost');
    const opened = proxy.passed(renewals);
    await waitFor(() => proxy.passed(renewals) >= opened + 2, 'two renewals after the open', 3 * leaseMs);
    assert.is(p.error, null, 'the lease held');
    await rejectsWith(Producer.open({ backend: jetstream({ servers: own.url, stream, leaseMs, timeoutMs: 1_000 }) }), 'ERR_LOG_LOCKED');
    await closeAndReopen(p, own, stream, 1, leaseMs);
  } finally {
    await p.destroy();
  }
}));

test('a clientTx Consumer.open whose cursor create is lost on the way: it is tried again, and the consumer reads from the oldest record', () => proxied(async (own, proxy) => {
  const stream = 'cursor-lost';
  const p = await Producer.open({ backend: jetstream({ servers: own.url, stream }) });
  for (let i = 0; i < 5; i++) p.append(`r${i}`);
  await p.close();
  proxy.drop(`$KV.rl-${stream}-cursors.c`, 1);
  const c = await within(Consumer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: 1_000 }), style: ConsumerStyle.clientTx('c') }), 15_000, 'Consumer.open');
  try {
    assert.is(proxy.dropped(), 1, 'the first create of the cursor was lost');
    const got: number[] = [];
    await c.nonblockingProcess(null, (m) => { got.push(m.offset); return 'commit'; });
    await c.close();
    assert.equal(got, [0, 1, 2, 3, 4]);
  } finally {
    await c.destroy();
  }
}));

test('Consumer.open\'s signal ends the tries at its cursor\'s lease: ERR_ABORTED, not ERR_IO at the bound', () => proxied(async (_own, proxy) => {
  const stream = 'take-abort';
  const p = await Producer.open({ backend: jetstream({ servers: proxy.url, stream }) });
  await p.close();
  proxy.drop(`$KV.rl-${stream}-leases.cursor.c`, 1_000); // every try at the cursor's lease is lost
  const ac = new AbortController();
  const opening = Consumer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: 3_000 }), style: ConsumerStyle.clientTx('c'), signal: ac.signal });
  opening.then((c) => c.destroy(), () => undefined);
  await waitFor(() => proxy.dropped() >= 1, 'a try at the lease lost', 10_000);
  ac.abort(new Error('the caller gave up'));
  const e = await rejectsWith(within(opening, 15_000, 'Consumer.open'), 'ERR_ABORTED');
  assert.match((e.cause as Error).message, /the caller gave up/);
}));

test('a renewal stored though its answer was lost: the next renewal is refused for its revision, reads its own token back and goes on from there', () => proxied(async (own, proxy) => {
  const stream = 'renew-stored';
  const leaseMs = 3_000;
  const renewals = `$KV.rl-${stream}-leases.producer`;
  const p = await Producer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs, timeoutMs: 1_000 }) });
  try {
    proxy.dropReplies(renewals, 1);
    await waitFor(() => proxy.repliesDropped() === 1, 'a renewal whose answer was lost', 3 * leaseMs);
    const base = proxy.passed(renewals);
    // The try after it (refused: the revision moved), then one from the adopted revision, then another.
    await waitFor(() => proxy.passed(renewals) >= base + 3, 'three renewals after the lost answer', 3 * leaseMs);
    assert.is(p.error, null, 'the lease held');
    await rejectsWith(Producer.open({ backend: jetstream({ servers: own.url, stream, leaseMs, timeoutMs: 1_000 }) }), 'ERR_LOG_LOCKED');
    await closeAndReopen(p, own, stream, 1, leaseMs);
  } finally {
    await p.destroy();
  }
}));

test('close() whose lease deletes are lost: each waits a renewal try, not timeoutMs; the entry left behind expires leaseMs after its last write', () => proxied(async (own, proxy) => {
  const stream = 'release-lost';
  const leaseMs = 9_000; // renewals every 3 s, each request of the release waiting 1.5 s
  const timeoutMs = 8_000;
  const renewals = `$KV.rl-${stream}-leases.producer`;
  const p = await Producer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs, timeoutMs }) });
  try {
    p.append('r0');
    await p.flush();
    // Just after a renewal, so that the next two publishes to the lease's key are close()'s deletes.
    const base = proxy.passed(renewals);
    await waitFor(() => proxy.passed(renewals) > base, 'a renewal through', 2 * leaseMs);
    proxy.drop(renewals, 2);
    const t0 = Date.now();
    await p.close();
    const closeMs = Date.now() - t0;
    assert.is(proxy.dropped(), 2, 'both deletes were lost (the read between them was answered)');
    // Each request waiting timeoutMs, the first delete alone would take 8 s.
    assert.ok(closeMs < timeoutMs, `close() took ${closeMs} ms`);
  } finally {
    await p.destroy();
  }
  const direct = { servers: own.url, stream, leaseMs, timeoutMs: 1_000 };
  await rejectsWith(Producer.open({ backend: jetstream(direct) }), 'ERR_LOG_LOCKED');
  const q = await waitForOpen(() => Producer.open({ backend: jetstream(direct) }), 3 * leaseMs);
  assert.is(q.nextOffset, 1);
  await q.close();
}));

/** Opens with `open` once a try stops being refused with ERR_LOG_LOCKED (other errors fail at once). */
async function waitForOpen<T>(open: () => Promise<T>, boundMs: number): Promise<T> {
  let opened: T | null = null;
  await waitFor(async () => {
    try {
      opened = await open();
      return true;
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_LOG_LOCKED') throw e;
      await new Promise((r) => setTimeout(r, 250)); // the pace of the tries, each a new connection
      return false;
    }
  }, 'the lease left behind expired', boundMs);
  return opened!;
}

runOrSkip(test, 'jetstream leases ride out lost requests');
