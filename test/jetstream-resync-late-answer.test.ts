/**
 * The producer's resync hears a stream that answers again within 2 x timeoutMs of the first failed
 * publish, even when the read sent just before it answers again was lost and would time out past
 * the deadline. A TCP proxy between the producer and a single nats-server loses one publish (the
 * resync starts timeoutMs later), then every read of the stream's state until one is lost in the
 * deadline's last timeoutMs, then lets them through (the stream answering again, well within the
 * deadline). Before the fix that read ran its own timeoutMs past the deadline and flush() rejected
 * with ERR_IO although the stream had answered again for most of a second.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { startNats, stopAllNats, runOrSkip, within, textsOf } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream resync: a stream answering by the deadline is heard');
test.after(stopAllNats);

const T = 1_000;

test('a publish lost, then the resync\'s reads lost until the deadline\'s last timeoutMs, then answered: flush() resolves, every record stored once', async () => {
  const own = await startNats();
  const proxy = await proxyTo(own.port);
  const stream = 'late-resync';
  try {
    const p = await Producer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs: 30_000, timeoutMs: T }), syncPolicy: SyncPolicy.never() });
    try {
      p.append('r0');
      await p.flush();
      proxy.drop(`rl.${stream}`, 1);
      p.append('r1');
      const flushed = p.flush().then(() => 'resolved', (e: { code?: string }) => e.code ?? String(e));
      await waitFor(() => proxy.dropped() >= 1, 'the publish lost', 10 * T);
      const first = performance.now(); // the publish's failure, the deadline's start, comes T later
      proxy.drop(`$JS.API.STREAM.INFO.${stream}`, 1_000_000);
      let seen = 0;
      for (;;) {
        await waitFor(() => proxy.dropped() > seen, 'another read of the stream lost', 10 * T);
        seen = proxy.dropped();
        if (performance.now() - first > 2 * T) break; // sent in the deadline's last T
      }
      proxy.drop(`$JS.API.STREAM.INFO.${stream}`, 0); // the stream answers again
      const answeredAfter = performance.now() - first - T;
      const outcome = await within(flushed, 12 * T, 'flush()');
      assert.ok(answeredAfter > 0 && answeredAfter < 2 * T, `the stream answered again ${answeredAfter} ms after the first failure, within the deadline`);
      assert.is(outcome, 'resolved', `the resync heard the stream, which answered again ${Math.round(answeredAfter)} ms after the first failure`);
      assert.equal(await textsOf(jetstream({ servers: own.url, stream, leaseMs: 30_000 })), ['r0', 'r1'], 'each record stored once');
    } finally {
      await p.destroy();
    }
  } finally {
    await proxy.close();
    await own.stop();
  }
});

runOrSkip(test, 'jetstream resync: a stream answering by the deadline is heard');
