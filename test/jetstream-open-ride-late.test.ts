/**
 * An open rides out a server that answers again within its bound (ride.ts) at each step, as a
 * consumer's reads do: a connect try or a lease take sent in the bound's last timeoutMs and lost
 * (no answer: the server away, a cluster without a leader) is followed by one more try, so the open
 * succeeds when the server answers again within 2 x timeoutMs of the first failure. Before the fix
 * the open's connect and lease-take retries gave the ride no send time, and such an open failed
 * with ERR_IO although the server had answered again well within the bound.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { createServer, connect as tcpConnect, type Socket } from 'node:net';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { startNats, stopAllNats, runOrSkip, within } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream open: a server answering within the bound is heard');
test.after(stopAllNats);

const T = 1_000;

/** Outcome of an open: 'opened' (the handle destroyed again) or its error code. */
async function opened(open: Promise<{ destroy(): Promise<void> }>): Promise<string> {
  return within(open.then(async (h) => { await h.destroy(); return 'opened'; }, (e: { code?: string }) => e.code ?? String(e)), 12 * T, 'the open');
}

test('a lease take lost until the bound\'s last timeoutMs, then answered: the clientTx open succeeds', async () => {
  const own = await startNats();
  const proxy = await proxyTo(own.port);
  const stream = 'late-take';
  try {
    const p = await Producer.open({ backend: jetstream({ servers: own.url, stream, leaseMs: 30_000 }), syncPolicy: SyncPolicy.never() });
    await p.close();
    const prefix = `$KV.rl-${stream}-leases.`;
    proxy.drop(prefix, 1_000_000); // every create of the lease lost: its tries at 0, 1.25 x T, 2.5 x T
    const open = opened(Consumer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs: 30_000, timeoutMs: T }), style: ConsumerStyle.clientTx('c') }));
    await waitFor(() => proxy.dropped() >= 1, 'a take lost', 10 * T);
    const first = performance.now();
    await waitFor(() => proxy.dropped() >= 3, 'the third take lost', 10 * T); // sent 1.5 x T after the first failure
    proxy.drop(prefix, 0); // the server answers again
    const answeredAfter = performance.now() - first - T;
    assert.ok(answeredAfter < 2 * T, `the server answered again ${answeredAfter} ms after the first failure, within the bound`);
    assert.is(await open, 'opened', `the take heard the server, which answered again ${Math.round(answeredAfter)} ms after the first failure`);
  } finally {
    await proxy.close();
    await own.stop();
  }
});

test('connects lost until the bound\'s last timeoutMs, then answered: the open succeeds', async () => {
  const own = await startNats();
  const stream = 'late-connect';
  // Accepts connections and loses what they send (no INFO comes: the connect times out) until
  // `lose` is false; from then on a new connection is forwarded to the server.
  let lose = true;
  const accepted: number[] = [];
  const sockets = new Set<Socket>();
  const blackhole = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    accepted.push(performance.now());
    if (lose) return;
    const up = tcpConnect(own.port, '127.0.0.1');
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    up.on('error', () => s.destroy());
    s.on('error', () => up.destroy());
    s.pipe(up).pipe(s);
  });
  await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
  const url = `nats://127.0.0.1:${(blackhole.address() as { port: number }).port}`;
  try {
    const p = await Producer.open({ backend: jetstream({ servers: own.url, stream, leaseMs: 30_000 }), syncPolicy: SyncPolicy.never() });
    await p.close();
    const open = opened(Consumer.open({ backend: jetstream({ servers: url, stream, leaseMs: 30_000, timeoutMs: T }), style: ConsumerStyle.nonTx(Whence.oldest()) }));
    await waitFor(() => accepted.length >= 3, 'the third connect lost', 10 * T); // at 0, 1.25 x T, 2.5 x T
    lose = false; // the server answers again
    const answeredAfter = performance.now() - accepted[0]! - T;
    assert.ok(answeredAfter < 2 * T, `the server answered again ${answeredAfter} ms after the first failure, within the bound`);
    assert.is(await open, 'opened', `the connect heard the server, which answered again ${Math.round(answeredAfter)} ms after the first failure`);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => blackhole.close(() => resolve()));
    await own.stop();
  }
});

runOrSkip(test, 'jetstream open: a server answering within the bound is heard');
