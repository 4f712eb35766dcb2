/**
 * The ride's bound is the server's, not a lost request's: a consumer whose requests go unanswered
 * (a cluster without a leader loses them) goes on when the server answers again within 2 x
 * timeoutMs of the first failure, even when the try sent just before it answers again was lost and
 * would time out past the bound. A TCP proxy between the consumer and a single nats-server loses
 * every request on one subject until a try is lost in the last timeoutMs before the bound, then lets
 * them through (the server answering again, well within the bound). Checked for a cursor commit,
 * the read of the stream's state a nonblocking call starts with, and the pull's consumer creation.
 * Before the fix the retry's last try ran its own timeoutMs past the bound and the call failed with
 * ERR_IO although the server had answered again for most of a second.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, type Message } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { startNats, stopAllNats, runOrSkip, within } from './nats-kit.js';
import { proxyTo, type NatsProxy } from './nats-proxy.js';

const test = suite('jetstream ride: a server answering within the bound is heard');
test.after(stopAllNats);

const T = 1_000;

/**
 * Loses every publish on `prefix` from now on, until a try is lost more than 3 x T - `tryMs` after
 * the first one (the first failure comes T after it, the bound 2 x T after that: this try, waiting
 * `tryMs`, would time out past the bound); then lets them through. Returns how long after the
 * first failure the server answered again (ms).
 */
async function loseUntilLastTry(proxy: NatsProxy, prefix: string, tryMs = T): Promise<number> {
  proxy.drop(prefix, 1_000_000);
  await waitFor(() => proxy.dropped() >= 1, `a try on ${prefix} lost`, 10 * T);
  const first = performance.now();
  let seen = 1;
  for (;;) {
    await waitFor(() => proxy.dropped() > seen, `another try on ${prefix} lost`, 10 * T);
    seen = proxy.dropped();
    if (performance.now() - first > 3 * T - tryMs) break;
  }
  proxy.drop(prefix, 0); // the server answers again
  return performance.now() - first - T;
}

async function setup(stream: string, n: number): Promise<{ proxy: NatsProxy; stop: () => Promise<void> }> {
  const own = await startNats();
  const proxy = await proxyTo(own.port);
  const p = await Producer.open({ backend: jetstream({ servers: own.url, stream, leaseMs: 30_000 }), syncPolicy: SyncPolicy.never() });
  for (let i = 0; i < n; i++) p.append(`r${i}`);
  await p.close();
  return { proxy, stop: async () => { await proxy.close(); await own.stop(); } };
}

test('a cursor commit lost until the bound\'s last timeoutMs, then answered: the call goes on, each record committed once', async () => {
  const stream = 'late-commit';
  const { proxy, stop } = await setup(stream, 10);
  try {
    const c = await Consumer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs: 30_000, timeoutMs: T }), style: ConsumerStyle.clientTx('c'), commit: { everyRecords: 1 } });
    try {
      let losing: Promise<number> | null = null;
      const got: number[] = [];
      const run = c.blockingProcess(10, (m: Message) => {
        got.push(m.offset);
        if (m.offset === 4) losing = loseUntilLastTry(proxy, `$KV.rl-${stream}-cursors.`); // from this record's commit on
        return 'commit' as const;
      });
      const outcome = await within(run.then(() => 'resolved', (e: { code?: string }) => e.code ?? String(e)), 12 * T, 'the call');
      const answeredAfter = await within(losing ?? Promise.resolve(-1), 12 * T, 'the tries lost');
      assert.ok(answeredAfter > 0 && answeredAfter < 2 * T, `the server answered again ${answeredAfter} ms after the first failure, within the bound`);
      assert.is(outcome, 'resolved', `the commit heard the server, which answered again ${Math.round(answeredAfter)} ms after the first failure`);
      assert.equal(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'each record once, in order');
      assert.is(c.committedOffset, 10);
    } finally {
      await c.destroy();
    }
  } finally {
    await stop();
  }
});

test('the read of the stream\'s state lost until the bound\'s last timeoutMs, then answered: the nonblocking call goes on', async () => {
  const stream = 'late-info';
  const { proxy, stop } = await setup(stream, 5);
  try {
    const c = await Consumer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs: 30_000, timeoutMs: T }), style: ConsumerStyle.clientTx('c') });
    try {
      const losing = loseUntilLastTry(proxy, `$JS.API.STREAM.INFO.${stream}`, 0.6 * T); // the tries: at 0, 1.25 x T, 2.5 x T
      const outcome = await within(c.nonblockingProcess(null, () => 'commit').then((r) => `committed ${r.committed}`, (e: { code?: string }) => e.code ?? String(e)), 12 * T, 'the call');
      const answeredAfter = await losing;
      assert.ok(answeredAfter > 0 && answeredAfter < 2 * T, `the server answered again ${answeredAfter} ms after the first failure, within the bound`);
      assert.is(outcome, 'committed 5', `the read heard the server, which answered again ${Math.round(answeredAfter)} ms after the first failure`);
    } finally {
      await c.destroy();
    }
  } finally {
    await stop();
  }
});

test('the pull\'s consumer creation lost until its tries (timeoutMs / 2 each) would end past the bound, then answered: the tail goes on', async () => {
  const stream = 'late-pull';
  const { proxy, stop } = await setup(stream, 5);
  try {
    const c = await Consumer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs: 30_000, timeoutMs: T }), style: ConsumerStyle.nonTx(Whence.oldest()) });
    try {
      const losing = loseUntilLastTry(proxy, '$JS.API.CONSUMER.CREATE.', T / 2);
      const got: number[] = [];
      const outcome = await within((async () => {
        for await (const m of c.tail()) {
          got.push(m.offset);
          if (got.length === 5) break;
        }
      })().then(() => 'read', (e: { code?: string }) => e.code ?? String(e)), 12 * T, 'the tail');
      const answeredAfter = await losing;
      assert.ok(answeredAfter > 0 && answeredAfter < 2 * T, `the server answered again ${answeredAfter} ms after the first failure, within the bound`);
      assert.is(outcome, 'read', `the pull heard the server, which answered again ${Math.round(answeredAfter)} ms after the first failure`);
      assert.equal(got, [0, 1, 2, 3, 4], 'each record once, in order');
    } finally {
      await c.destroy();
    }
  } finally {
    await stop();
  }
});

runOrSkip(test, 'jetstream ride: a server answering within the bound is heard');
