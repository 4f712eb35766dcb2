/**
 * The JetStream leases through renewals that get no answer: a TCP proxy between a producer and a
 * single-node nats-server loses the lease's renewal publishes, as a link that drops requests or a
 * cluster electing a leader does. A renewal that failed is tried again at once, each try waiting a
 * fraction of the lease (not timeoutMs), so two lost renewals do not cost the lease: a second producer
 * is still refused with ERR_LOG_LOCKED after the first holding would have expired, and the first goes on.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream leases ride out lost renewals');
test.after(stopAllNats);

for (const timeoutMs of [5_000, 1_000]) {
  test(`two lost renewals of a 3 s lease (timeoutMs ${timeoutMs}): the lease holds, a second producer is refused, the first goes on`, async () => {
    const own = await startNats();
    const proxy = await proxyTo(own.port);
    const stream = `lease-${timeoutMs}`;
    const leaseMs = 3_000;
    const p = await Producer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs, timeoutMs }), syncPolicy: SyncPolicy.never() });
    try {
      p.append('a0');
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
      p.append('a1');
      await p.flush();
      assert.is(p.durableOffset, 2);
      assert.is(p.error, null);
      await p.close();
    } finally {
      await p.destroy();
      await proxy.close();
      await own.stop();
    }
  });
}

runOrSkip(test, 'jetstream leases ride out lost renewals');
