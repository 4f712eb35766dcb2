/**
 * The watchdog of a JetStream consumer's pull (src/jetstream/pull.ts) measures the silence since the
 * last record or heartbeat as elapsed time: a wall clock stepped forward (NTP, a resumed VM) while
 * the pull waits idle, its heartbeats coming, is no stall. Its times were on Date.now, so a step
 * forward of an hour ended the pull as stalled at the watchdog's next look: its consumer was deleted
 * and made again, the restart counted as a failure of the consumer's outage bound. The clock is
 * stepped by replacing Date.now in this process (restored in finally); the consumers made are
 * counted at a proxy in front of the server. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream pull watchdog clock step');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

test('a wall clock stepped forward an hour while the pull waits idle: no stall, no consumer made again', async () => {
  const stream = `watchdog-fwd-${process.pid}`;
  const proxy = await proxyTo(server.port, { pingAfterHeartbeat: true });
  const real = Date.now;
  const timeoutMs = 1_000; // heartbeats every 500 ms, a stall after 1.5 s without one
  const creates = (): number => proxy.passed(`$JS.API.CONSUMER.CREATE.${stream}`);
  try {
    const backend = jetstream({ servers: proxy.url, stream, timeoutMs, leaseMs: 30_000 });
    const p = await Producer.open({ backend });
    try {
      for (let i = 0; i < 3; i++) p.append(`r${i}`);
      await p.flush();
      const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
      try {
        const got: number[] = [];
        const run = c.blockingProcess(null, (m) => { got.push(m.offset); return 'commit' as const; });
        run.catch(() => undefined);
        await waitFor(() => got.length === 3, 'the three records', 20_000); // then the pull waits idle at the end
        // Two heartbeats handled after the records (500 ms apart): the watchdog, which looks every
        // 250 ms, has noted those arrivals. The clock is stepped right after the client handled a
        // heartbeat, so the watchdog looks (within 250 ms) before the next one (500 ms) comes: a
        // heartbeat handled between the step and that look would put a Date.now watchdog on the
        // stepped clock, and it would never see the step.
        const idle = proxy.heartbeatsHandled() + 2;
        await waitFor(() => proxy.heartbeatsHandled() >= idle, 'two heartbeats of the idle pull', 20_000);
        const before = creates();
        assert.ok(before >= 1, 'the pull\'s consumer is counted');
        Date.now = () => real() + 3_600_000;
        // Proving an absence takes a window: two stall limits (6 heartbeats, 3 s) counted in the
        // heartbeats that reached the client, the unit of the watchdog's limit, not in a timer's time.
        // A pull that took the step for a stall is made again at the watchdog's next look (250 ms).
        const until = proxy.heartbeatsHandled() + 6;
        await waitFor(() => proxy.heartbeatsHandled() >= until || creates() > before, 'two stall limits of heartbeats', 20_000);
        Date.now = real;
        assert.is(creates(), before, 'no consumer made again: the pull did not stall');
        p.append('r3');
        await p.flush();
        await waitFor(() => got.length === 4, 'the record appended after the step', 20_000);
        assert.equal(got, [0, 1, 2, 3]);
      } finally {
        Date.now = real;
        await within(c.destroy(), 10 * timeoutMs, 'destroy()');
      }
    } finally {
      await p.destroy();
    }
  } finally {
    Date.now = real;
    await proxy.close();
  }
});

runOrSkip(test, 'jetstream pull watchdog clock step');
