/**
 * A call that begins to wait for records while the pull is already riding out an outage that began
 * while no call read (a handler running) gets a bound of its own, 2 x timeoutMs from when it began
 * to wait: it used to inherit what was left of the pull's bound and fail with ERR_IO soon after it
 * began, though the server came back well within its own bound (an outage a little shorter while
 * idle, past the pull's bound, got a whole new bound instead). Skipped without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { appendAll, pauseNats, runOrSkip, startNats, stopAllNats, within } from './nats-kit.js';

const test = suite('jetstream late call bound');
test.after(stopAllNats);
const TIMEOUT_MS = 4_000;

/** Resolves once `ms` passed since `t0` (performance.now()). */
const until = (t0: number, ms: number): Promise<void> => waitFor(() => performance.now() - t0 >= ms, `${ms} ms to pass`, ms + 10_000);

test('a call that begins to wait late in an outage rides it out within a bound of its own', async () => {
  const server = await startNats();
  const backend = jetstream({ servers: server.url, stream: 'late-call', timeoutMs: TIMEOUT_MS, leaseMs: 60_000 });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  await appendAll(p, 0, 10);
  await p.close();
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const got: number[] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    let reached = false;
    const run = c.blockingProcess(15, async (m) => {
      got.push(m.offset);
      if (m.offset === 9) { reached = true; await released; }
      return 'commit' as const;
    });
    run.catch(() => undefined);
    await waitFor(() => reached, 'the handler to run record 9');
    // The server stops answering while the handler runs: the pull stalls after 3 heartbeats (1 s
    // each) and retries, its bound (8 s) running from then, about 3 to 3.5 s after the pause.
    await pauseNats(server);
    const t0 = performance.now();
    await until(t0, 10_000); // the pull's bound has 1 to 1.5 s left
    release(); // the call waits for record 10 from now: its bound runs to t0 + 18 s
    await until(t0, 13_500); // past the pull's bound (found at its try ending about t0 + 12.5 s)
    server.proc.kill('SIGCONT');
    const q = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
    await appendAll(q, 10, 5);
    await q.close();
    await within(run, 10 * TIMEOUT_MS, 'the call');
    assert.equal(got, Array.from({ length: 15 }, (_, i) => i), 'every record once, in order');
  } finally {
    await within(c.close(), 10 * TIMEOUT_MS, 'close()');
  }
});

runOrSkip(test, 'jetstream late call bound');
