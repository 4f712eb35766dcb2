/**
 * JetStream consumers through a server that goes away: a single-node nats-server SIGKILLed and
 * restarted on its port and store while a clientTx consumer (blockingProcess) and a nonTx consumer
 * (`for await`) are mid-way, and a server that stays away. The consumers ride out the restart (each
 * record handed out once, in order; the cursor ends at the end), and fail with ERR_IO within their
 * bound when the server does not come back. A cursor commit whose reply is held back past timeoutMs
 * (a TCP proxy between the consumer and the server) is stored, then tried again: the consumer reads
 * the entry back and adopts its own write. The pull's consumer creation lost three times on the way
 * to the server: the tail goes on within its bound. An open whose stream lookup is lost is tried again.
 * Randomised by a printed seed (SEED=n replays it).
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, type Message } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { prng, suite, waitFor } from './kit.js';
import { startNats, stopAllNats, type NatsServer, runOrSkip, within, killNats } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream consumers ride out a server restart');
const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 1e9));
const rnd = prng(seed);

test.before(() => {
  process.stdout.write(`# seed ${seed} (SEED=${seed} replays the choices)\n`);
});
test.after(stopAllNats);

/** A promise and its resolve: a handler waits on it, the test opens it. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => { open = resolve; });
  return { open, opened };
}



/** The offsets 0..n-1. */
const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test('a server restart mid-consume: clientTx, nonTx `for await` and a nonblocking clientTx hand out every record once, in order; the cursors end at the end', async () => {
  const own = await startNats();
  const backend = jetstream({ servers: own.url, stream: 'ride', leaseMs: 30_000, timeoutMs: 2_000 });
  const FIRST = 1500 + Math.floor(rnd() * 1000);
  const TOTAL = FIRST + 500 + Math.floor(rnd() * 1000);
  const everyRecords = rnd() < 0.5 ? 1 : 1 + Math.floor(rnd() * 50);
  const stopTx = 1 + Math.floor(rnd() * (FIRST - 2));
  const stopNon = 1 + Math.floor(rnd() * (FIRST - 2));
  process.stdout.write(`#   ${FIRST} records before the restart, ${TOTAL} in all; commit every ${everyRecords}; the consumers pause at ${stopTx} (clientTx) and ${stopNon} (nonTx)\n`);
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  let again: NatsServer | null = null;
  const tx = await Consumer.open({ backend, style: ConsumerStyle.clientTx('ride'), commit: { everyRecords } });
  const non = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const nb = await Consumer.open({ backend, style: ConsumerStyle.clientTx('ride-nb'), commit: { everyRecords } });
  try {
    for (let i = 0; i < FIRST; i++) p.append(`r${i}`);
    await p.flush();
    const g = gate();
    const reached = { tx: false, non: false, nb: false };
    const gotTx: number[] = [];
    const gotNon: number[] = [];
    const gotNb: number[] = [];
    const check = (m: Message): void => assert.is(Buffer.from(m.data).toString(), `r${m.offset}`, 'a whole record, its own payload');
    const txRun = tx.blockingProcess(TOTAL, async (m) => {
      check(m);
      gotTx.push(m.offset);
      if (m.offset === stopTx) { reached.tx = true; await g.opened; }
      return 'commit' as const;
    });
    const nonRun = (async () => {
      for await (const m of non) {
        check(m);
        gotNon.push(m.offset);
        if (m.offset === stopNon) { reached.non = true; await g.opened; }
        if (gotNon.length === TOTAL) break;
      }
    })();
    // Nonblocking calls, made again while they end at the end of what the stream holds: each reads
    // the stream's bounds first, so the outage meets them there.
    const nbRun = (async () => {
      while (gotNb.length < TOTAL) {
        await nb.nonblockingProcess(TOTAL - gotNb.length, async (m) => {
          check(m);
          gotNb.push(m.offset);
          if (gotNb.length === FIRST) { reached.nb = true; await g.opened; }
          return 'commit' as const;
        });
        await new Promise((r) => setTimeout(r, 10)); // the poll's pace; the bound is the test's
      }
    })();
    for (const run of [txRun, nonRun, nbRun]) run.catch(() => undefined);
    await within((async () => { while (!reached.tx || !reached.non || !reached.nb) await new Promise((r) => setTimeout(r, 5)); })(), 20_000, 'the consumers reaching their pause');
    // The server dies under both: the clientTx consumer's next commit, and the reads past what the
    // consumers buffered, meet a server that is gone; it comes back on the same port and store.
    await killNats(own);
    g.open();
    again = await startNats(15_000, own);
    for (let i = FIRST; i < TOTAL; i++) p.append(`r${i}`);
    await within(p.flush(), 20_000, 'the producer\'s flush after the restart');
    const summary = await within(txRun, 30_000, 'the clientTx consumer');
    await within(nonRun, 30_000, 'the nonTx consumer');
    await within(nbRun, 30_000, 'the nonblocking consumer');
    assert.equal(summary, { committed: TOTAL, skipped: 0, retried: 0, stoppedBy: 'limit' });
    assert.equal(gotTx, upTo(TOTAL), 'clientTx: each record once, in order');
    assert.equal(gotNon, upTo(TOTAL), 'nonTx: each record once, in order');
    assert.equal(gotNb, upTo(TOTAL), 'nonblocking clientTx: each record once, in order');
    assert.is(tx.committedOffset, TOTAL, 'the cursor ends at the end');
    assert.is(nb.committedOffset, TOTAL, 'the nonblocking consumer\'s cursor ends at the end');
  } finally {
    await nb.destroy();
    await tx.destroy();
    await non.destroy();
    await p.destroy();
  }
  const reopened = await Consumer.open({ backend, style: ConsumerStyle.clientTx('ride') });
  try {
    assert.is(reopened.committedOffset, TOTAL, 'the committed cursor, read back');
  } finally {
    await reopened.close();
    await again?.stop();
  }
});

test('the server stays away: both consumers fail with ERR_IO within their bound (2 x timeoutMs of no progress), never hanging', async () => {
  const own = await startNats();
  const timeoutMs = 1_000;
  const backend = jetstream({ servers: own.url, stream: 'away', leaseMs: 30_000, timeoutMs });
  const p = await Producer.open({ backend });
  for (let i = 0; i < 20; i++) p.append(`r${i}`);
  await p.flush();
  await p.close();
  const tx = await Consumer.open({ backend, style: ConsumerStyle.clientTx('away') });
  const non = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const g = gate();
    const at = 1 + Math.floor(rnd() * 10);
    let reached = 0;
    const txRun = tx.blockingProcess(null, async (m) => {
      if (m.offset === at) { reached++; await g.opened; }
      return 'commit' as const;
    });
    const nonRun = (async () => {
      for await (const m of non) if (m.offset === 19) { reached++; await g.opened; }
    })();
    txRun.catch(() => undefined);
    nonRun.catch(() => undefined);
    await within((async () => { while (reached < 2) await new Promise((r) => setTimeout(r, 5)); })(), 20_000, 'both consumers reaching their pause');
    await killNats(own);
    const t0 = Date.now();
    g.open();
    for (const [name, run] of [['clientTx', txRun], ['nonTx', nonRun]] as const) {
      const e = await within(run.then(() => null, (err: unknown) => err as Error & { code?: string }), 10 * timeoutMs, `the ${name} consumer`);
      assert.ok(e !== null, `the ${name} consumer failed`);
      assert.is(e!.code, 'ERR_IO', `${name}: ${e!.message}`);
      assert.match(e!.message, /2 x timeoutMs/, `${name} names its bound: ${e!.message}`);
    }
    const took = Date.now() - t0;
    assert.ok(took >= 2 * timeoutMs && took < 6 * timeoutMs, `failed after the bound and not long after it (${took} ms)`);
  } finally {
    await within(Promise.all([tx.destroy(), non.destroy()]), 5 * timeoutMs, 'destroy()');
    await own.stop();
  }
});

test('a cursor commit stored while its reply is held past timeoutMs: the retry is refused for its revision, and the consumer adopts its own write', async () => {
  const own = await startNats();
  const proxy = await proxyTo(own.port);
  const stream = 'adopt';
  const backend = jetstream({ servers: proxy.url, stream, leaseMs: 30_000, timeoutMs: 1_000 });
  const N = 50;
  const at = 5 + Math.floor(rnd() * (N - 10));
  const p = await Producer.open({ backend });
  for (let i = 0; i < N; i++) p.append(`r${i}`);
  await p.flush();
  await p.close();
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('adopt'), commit: { everyRecords: 1 } });
  const got: number[] = [];
  let held = false;
  try {
    const run = c.nonblockingProcess(N, (m) => {
      got.push(m.offset);
      // The commit of this record reaches the server and is stored; its reply does not come back in time.
      if (m.offset === at) { proxy.hold(); held = true; }
      return 'commit' as const;
    });
    run.catch(() => undefined);
    const subject = `$KV.rl-${stream}-cursors.`;
    await within((async () => { while (!held || proxy.published(subject) < 2) await new Promise((r) => setTimeout(r, 5)); })(), 10_000, 'the commit written a second time');
    proxy.release();
    const summary = await within(run, 10_000, 'the consumer');
    assert.equal(summary, { committed: N, skipped: 0, retried: 0, stoppedBy: 'limit' });
    assert.equal(got, upTo(N), 'each record once, in order');
    assert.is(c.committedOffset, N);
  } finally {
    await c.destroy();
    await proxy.close();
  }
  const again = await Consumer.open({ backend: jetstream({ servers: own.url, stream, leaseMs: 30_000 }), style: ConsumerStyle.clientTx('adopt') });
  try {
    assert.is(again.committedOffset, N, 'the committed cursor, read back');
  } finally {
    await again.close();
    await own.stop();
  }
});

test('close() during a nonblocking call ends the call as at the log\'s end, not with an error (the read of the stream\'s end is cut short)', async () => {
  const own = await startNats();
  const backend = jetstream({ servers: own.url, stream: 'ride-close', leaseMs: 30_000, timeoutMs: 2_000 });
  try {
    const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
    for (let i = 0; i < 5; i++) p.append(`r${i}`);
    await p.close();
    for (let round = 0; round < 10; round++) {
      const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx(`close-${round}`) });
      const run = c.nonblockingProcess(null, () => 'commit');
      await new Promise((resolve) => setImmediate(resolve));
      await c.close();
      const r = await run; // rejected with ERR_LOG_CLOSED before the fix
      assert.ok(r.stoppedBy === 'end' || r.stoppedBy === 'abort', `round ${round}: stopped by ${r.stoppedBy}`);
    }
  } finally {
    await own.stop();
  }
});

test('destroy() while close() retries its last commit (its tries lost on the way) ends that retry: close() rejects with ERR_LOG_CLOSED, not at the bound', async () => {
  const own = await startNats();
  const proxy = await proxyTo(own.port);
  const timeoutMs = 3_000;
  const stream = 'ride-destroy';
  try {
    const p = await Producer.open({ backend: jetstream({ servers: own.url, stream, leaseMs: 30_000 }), syncPolicy: SyncPolicy.never() });
    for (let i = 0; i < 10; i++) p.append(`r${i}`);
    await p.close();
    const c = await Consumer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs: 30_000, timeoutMs }), style: ConsumerStyle.clientTx('d'), commit: { everyRecords: 1000 } });
    const lost = gate();
    const run = c.nonblockingProcess(null, (m) => {
      // 5 records done, not yet committed: every commit from here on is lost on the way to the server.
      if (m.offset === 4) { proxy.drop(`$KV.rl-${stream}-cursors.`, 1_000); lost.open(); }
      return 'commit' as const;
    }).catch(() => undefined);
    await lost.opened;
    const closing = c.close().then(() => 'resolved', (e: { code?: string }) => e.code ?? String(e));
    await waitFor(() => proxy.dropped() >= 2, 'the last commit tried a second time', 4 * timeoutMs);
    const t0 = Date.now();
    await within(c.destroy(), 6 * timeoutMs, 'destroy()');
    const outcome = await within(closing, 1_000, 'close() after destroy()');
    assert.is(outcome, 'ERR_LOG_CLOSED', 'the retry ended by destroy(), not at 2 x timeoutMs with ERR_IO');
    assert.ok(Date.now() - t0 < 6 * timeoutMs);
    await within(run, 1_000, 'the processing call');
  } finally {
    await proxy.close();
    await own.stop();
  }
});

test('the pull\'s consumer creation goes unanswered three times: the tries after a failure wait timeoutMs / 2, and one reaches the server within the bound', async () => {
  const own = await startNats();
  const proxy = await proxyTo(own.port);
  const stream = 'unanswered';
  const N = 20;
  const direct = jetstream({ servers: own.url, stream, leaseMs: 30_000 });
  const p = await Producer.open({ backend: direct });
  for (let i = 0; i < N; i++) p.append(`r${i}`);
  await p.flush();
  await p.close();
  // timeoutMs 2 s. The first try waits 2 s and fails: the bound ends 4 s later, at 6 s. The next two
  // tries wait 1 s each (2.25 to 3.25 s, 3.5 to 4.5 s) and the fourth is answered. With 2 s tries
  // the third would end at 6.5 s, past the bound.
  const c = await Consumer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs: 30_000, timeoutMs: 2_000 }), style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    proxy.drop('$JS.API.CONSUMER.CREATE.', 3);
    const got: number[] = [];
    await within((async () => {
      for await (const m of c.tail()) {
        got.push(m.offset);
        if (got.length === N) break;
      }
    })(), 15_000, 'the tail');
    assert.is(proxy.dropped(), 3, 'three creations were lost');
    assert.equal(got, upTo(N), 'each record once, in order');
  } finally {
    await c.destroy();
    await proxy.close();
    await own.stop();
  }
});

test('an open whose stream lookup goes unanswered is tried again within the bound: Producer.open and Consumer.open succeed', async () => {
  const own = await startNats();
  const proxy = await proxyTo(own.port);
  const stream = 'open-ride';
  const backend = jetstream({ servers: proxy.url, stream, leaseMs: 30_000, timeoutMs: 1_000 });
  try {
    proxy.drop(`$JS.API.STREAM.INFO.${stream}`, 1);
    const p = await within(Producer.open({ backend }), 10_000, 'Producer.open');
    assert.is(proxy.dropped(), 1, 'the first lookup was lost');
    p.append('r0');
    await p.flush();
    await p.close();
    proxy.drop(`$JS.API.STREAM.INFO.${stream}`, 1);
    const c = await within(Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) }), 10_000, 'Consumer.open');
    try {
      assert.is(proxy.dropped(), 1, 'the first lookup was lost');
      const first = await within((async () => { for await (const m of c.tail()) return m; return null; })(), 10_000, 'the first record');
      assert.is(first?.offset, 0, 'it reads from the start');
    } finally {
      await c.close();
    }
  } finally {
    await proxy.close();
    await own.stop();
  }
});

runOrSkip(test, 'jetstream consumers ride out a server restart');
