/**
 * A producer's open reads its dedup window's keys back (readTail) in a try that ends once the server
 * answers nothing for timeoutMs, not while records keep arriving: a large window over a slow link is
 * no failure. That held after a first try of the read had failed too: the open's ride (ride.ts) ends a
 * try still unanswered at its bound (2 x timeoutMs after the first failure), and cut the second try of
 * the read while its records were still arriving, so the open failed with ERR_IO. A TCP proxy makes
 * the link slow and loses the first scan's consumer creation.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { startNats, stopAllNats, runOrSkip, within } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream open: a dedup read that keeps reading after a failed try');
test.after(stopAllNats);

const T = 1_000;
const N = 20_000;

test('the second try of the dedup keys\' read, slow but reading, is not cut at the bound: the open succeeds', async () => {
  const stream = 'dedup-read-slow';
  const own = await startNats();
  const proxy = await proxyTo(own.port);
  try {
    const window = { ms: 120_000 };
    const p = await Producer.open({ backend: jetstream({ servers: own.url, stream, leaseMs: 30_000 }), syncPolicy: SyncPolicy.never(), dedupWindow: window });
    for (let i = 0; i < N; i++) {
      try {
        p.append(`r${i}`, { dedupKey: `k${i}` });
      } catch (e) {
        if ((e as { code?: string }).code !== 'ERR_LOG_FULL') throw e;
        await p.writable();
        i--;
      }
    }
    await p.close();
    // Each command of the client reaches the server 150 ms late: the read of the keys takes a fetch
    // (1,000 records) per 150 ms at best, some 3 s in all, past the bound of the first failure.
    proxy.delay(150);
    proxy.drop(`$JS.API.CONSUMER.CREATE.${stream}`, 1); // the first try of the read gets no answer
    const opened = performance.now();
    const outcome = await within(Producer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs: 30_000, timeoutMs: T }), syncPolicy: SyncPolicy.never(), dedupWindow: window })
      .then(async (q) => {
        const again = q.append('again', { dedupKey: `k${N - 1}` }); // remembered: the window was read whole
        await q.close();
        return `opened, k${N - 1} at ${again}`;
      }, (e: { code?: string; message?: string }) => `${e.code ?? ''} ${e.message ?? String(e)}`), 30 * T, 'the open');
    assert.is(proxy.dropped(), 1, 'the first try of the read was lost');
    assert.is(outcome, `opened, k${N - 1} at ${N - 1}`, `the open (${Math.round(performance.now() - opened)} ms)`);
  } finally {
    await proxy.close();
    await stopAllNats();
  }
});

runOrSkip(test, 'jetstream open: a dedup read that keeps reading after a failed try');
