/**
 * A JetStream producer whose lease was renewed after a wait (the wall clock stepped forward, as after a
 * machine slept; the first renewal try lost) and whose next publish then fails: the resync gets its
 * full window, 2 x timeoutMs from that failed publish (docs/jetstream.md). The wait for the renewal
 * started the producer's doubt window and nothing ended it once the renewal was stored, so the resync
 * that followed started past its deadline and stopped the producer with ERR_IO at once, though the
 * stream answered and nothing was lost. The clock is stepped by replacing Date.now in this process
 * (restored in finally). Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, textsOf, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream lease wait doubt');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

const TIMEOUT_MS = 1_000;

test('a publish that fails after a lease renewal that took over timeoutMs: the resync carries the producer on', async () => {
  const stream = `lease-wait-doubt-${process.pid}`;
  const proxy = await proxyTo(server.port);
  const real = Date.now;
  try {
    const p = await Producer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: TIMEOUT_MS }) });
    try {
      p.append('first');
      await p.flush();
      proxy.drop(`$KV.rl-${stream}-leases.producer`, 1); // the first renewal try is lost: the next comes timeoutMs + 250 ms on
      Date.now = () => real() + 60_000; // the lease is not surely live by the wall clock: renewed before the next publish
      p.append('second');
      const flushed = p.flush().then(() => 'resolved', (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`);
      await waitFor(() => proxy.dropped() === 1, 'the renewal try to be lost', 10_000);
      proxy.drop(`rl.${stream}`, 1); // the publish after the renewal is lost: a resync, which finds nothing stored
      const outcome = await within(flushed, 20_000, 'flush() of the record published after the renewal');
      assert.is(proxy.dropped(), 1, 'the publish was lost');
      assert.ok(p.stats().resyncs >= 1, 'the lost publish started a resync');
      assert.is(outcome, 'resolved');
    } finally {
      Date.now = real;
      await p.destroy();
    }
  } finally {
    Date.now = real;
    await proxy.close();
  }
  assert.equal(await textsOf(jetstream({ servers: server.url, stream })), ['first', 'second']);
});

runOrSkip(test, 'jetstream lease wait doubt');
