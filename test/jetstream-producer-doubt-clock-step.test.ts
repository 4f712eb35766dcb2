/**
 * A JetStream producer whose publishes are in doubt (no answer: the server stands still) stops with
 * ERR_IO once 2 x timeoutMs have passed since the first failure, measured as elapsed time: a wall
 * clock stepped back (NTP, by hand) while the resync reads the stream does not stretch that bound.
 * The producer's doubt window and its resync's deadline were on Date.now, so a step back of an hour
 * kept flush() pending for an hour. The clock is stepped by replacing Date.now in this process
 * (restored in finally). Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream producer doubt clock step');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

test('a wall clock stepped back an hour during a resync: flush() still fails with ERR_IO within the bound', async () => {
  const stream = `doubt-back-${process.pid}`;
  const proxy = await proxyTo(server.port);
  const real = Date.now;
  try {
    const backend = jetstream({ servers: proxy.url, stream, timeoutMs: 1_000 });
    const p = await Producer.open({ backend });
    try {
      p.append('first');
      await p.flush();
      proxy.hold(); // nothing the server sends reaches the producer: its publish times out, the resync reads nothing
      p.append('second');
      const flushed = p.flush().then(() => 'resolved', (e: { code?: string }) => e.code ?? String(e));
      await waitFor(() => p.stats().resyncs >= 1, 'the resync to start', 20_000);
      Date.now = () => real() - 3_600_000;
      const code = await within(flushed, 20_000, 'flush() (2 x timeoutMs = 2 s after the first failure)');
      assert.is(code, 'ERR_IO');
    } finally {
      Date.now = real;
      proxy.release();
      await p.destroy();
    }
  } finally {
    Date.now = real;
    await proxy.close();
  }
});

runOrSkip(test, 'jetstream producer doubt clock step');
