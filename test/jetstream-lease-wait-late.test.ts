/**
 * The producer's wait for a renewal of its lease follows the ride's rule (ride.ts): a renewal sent in
 * the wait's last timeoutMs and lost is followed by one more, so a server that answers again within
 * 2 x timeoutMs of the wait's start is heard and the producer goes on. The lease is made not surely
 * live by the wall clock stepped forward past leaseMs (the process's Date.now, as after a machine
 * slept), while its entry on the server stays alive; the renewals are lost at a NATS proxy until one
 * is sent in the wait's last timeoutMs. Before the fix the producer stopped with ERR_IO "not renewed
 * within 2 x timeoutMs" although the server had answered again for most of a second.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { startNats, stopAllNats, runOrSkip, within } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream producer: its lease wait hears a server answering within the bound');
test.after(stopAllNats);

const T = 1_000;

test('renewals lost until one is sent in the wait\'s last timeoutMs, then answered: the producer goes on', async () => {
  const own = await startNats();
  const proxy = await proxyTo(own.port);
  const stream = 'late-renewal';
  const realNow = Date.now;
  try {
    // leaseMs 30 s: each renewal try waits timeoutMs; the entry outlives the test's outage by far.
    const p = await Producer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs: 30_000, timeoutMs: T }), syncPolicy: SyncPolicy.never() });
    try {
      p.append('r0');
      await within(p.flush(), 5 * T, 'the first flush');
      proxy.drop(`$KV.rl-${stream}-leases.`, 1_000_000);
      Date.now = () => realNow() + 40_000; // the lease is no longer surely live by the wall clock
      p.append('r1'); // the wait starts: renewal tries at 0 and 1.25 x T (each lost after T), the bound at 2 x T
      const flushed = within(p.flush().then(() => 'flushed', (e: { code?: string; message?: string }) => `${e.code ?? ''} ${e.message ?? String(e)}`), 10 * T, 'the flush');
      await waitFor(() => proxy.dropped() >= 1, 'a renewal lost', 5 * T);
      const first = performance.now();
      await waitFor(() => proxy.dropped() >= 2, 'the second renewal lost', 5 * T);
      proxy.drop(`$KV.rl-${stream}-leases.`, 0); // the server answers again
      const answeredAfter = performance.now() - first;
      assert.ok(answeredAfter < 2 * T - 300, `the server answered again ${Math.round(answeredAfter)} ms after the wait began, within its bound`);
      assert.is(await flushed, 'flushed', `the wait heard the server, which answered again ${Math.round(answeredAfter)} ms after it began`);
      assert.is(p.durableOffset, 2);
    } finally {
      Date.now = realNow;
      await p.destroy().catch(() => undefined);
    }
  } finally {
    Date.now = realNow;
    await proxy.close();
    await own.stop();
  }
});

runOrSkip(test, 'jetstream producer: its lease wait hears a server answering within the bound');
