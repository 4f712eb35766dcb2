/**
 * Each call of a JetStream consumer rides out an outage within a bound of its own (2 x timeoutMs from
 * its own first failure): a call that failed with ERR_IO past its bound does not leave that bound
 * spent for the next call, which would otherwise fail at its first request that goes unanswered.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite, waitFor } from './kit.js';
import { appendAll, killNats, pauseNats, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream call bound');
test.after(stopAllNats);
const TIMEOUT_MS = 1_000;

/** SIGCONTs `server` once it has been stopped for `ms` (from `since`, on performance.now()). */
async function resumeAfter(server: NatsServer, since: number, ms: number): Promise<void> {
  await waitFor(() => performance.now() - since > ms, `the server to stay stopped for ${ms} ms`, ms + 10_000);
  server.proc.kill('SIGCONT');
}

test('a nonblocking call after one that failed past its bound rides out a short outage', async () => {
  let server = await startNats();
  const backend = jetstream({ servers: server.url, stream: 'call-window', timeoutMs: TIMEOUT_MS });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  await appendAll(p, 0, 5);
  await p.close();
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const got: number[] = [];
    await c.nonblockingProcess(null, (m) => { got.push(m.offset); return 'commit'; });
    // An outage past the bound: the call fails with ERR_IO.
    await killNats(server);
    await rejectsWith(within(c.nonblockingProcess(null, () => 'commit'), 10 * TIMEOUT_MS, 'the call in the long outage'), 'ERR_IO');
    server = await startNats(15_000, server);
    // A short outage (less than the bound) at the next call's start: the call rides it out.
    await pauseNats(server);
    const short = resumeAfter(server, performance.now(), 1.5 * TIMEOUT_MS);
    await within(c.nonblockingProcess(null, (m) => { got.push(m.offset); return 'commit'; }), 10 * TIMEOUT_MS, 'the call in the short outage');
    await short;
    assert.equal(got, [0, 1, 2, 3, 4]);
  } finally {
    await within(c.close(), 10 * TIMEOUT_MS, 'close()');
  }
});

runOrSkip(test, 'jetstream call bound');
