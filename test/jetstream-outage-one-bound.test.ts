/**
 * One outage, one bound: a JetStream consumer's reads and commits count the same outage. A clientTx
 * call reads while the server is SIGSTOPped (its connection stays open and nothing comes back): the
 * pull stalls, rides out its 2 x timeoutMs and fails the read with ERR_IO; the call then commits what
 * its handler finished. That commit is a try in the same outage, past its bound: it fails after its
 * one try, not after a fresh 2 x timeoutMs of its own (a call would otherwise take the sum of its
 * steps' bounds: the reads', then the commit's). Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { appendAll, closeAfter, coded, pauseNats, runOrSkip, startNats, stopAllNats, within } from './nats-kit.js';

const test = suite('jetstream outage: one bound for reads and commits');
test.after(stopAllNats);
const TIMEOUT_MS = 2_000;
/** The pull's heartbeat (timeoutMs / 4, 500 ms at least): a stall is 3 of them, seen at the watchdog's next tick. */
const STALL_MS = 3 * 500 + 250;

test('a read that failed past its bound is followed by a commit that fails after one try', async () => {
  const server = await startNats();
  const backend = jetstream({ servers: server.url, stream: 'one-bound', timeoutMs: TIMEOUT_MS, leaseMs: 60_000 });
  // More records than one pull's batch (1,024): once the server stops, records are owed that never come.
  await closeAfter(await Producer.open({ backend, syncPolicy: SyncPolicy.never() }), (p) => appendAll(p, 0, 20_000));
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('one-bound'), commit: { everyRecords: 1_000_000 } });
  let pausedAt = 0;
  let handled = 0;
  try {
    const call = c.nonblockingProcess(null, async (m) => {
      if (m.offset === 0) {
        await pauseNats(server);
        pausedAt = performance.now();
      }
      handled++;
      return 'commit' as const;
    });
    let error: unknown = null;
    await within(call, 60_000, 'the call').catch((e: unknown) => { error = e; });
    const tookMs = performance.now() - pausedAt;
    assert.ok(error !== null, `the call failed (handled ${handled} records)`);
    assert.is(coded(error, 'the call'), 'ERR_IO');
    assert.ok(handled > 0 && handled < 20_000, `some records were handled before the outage, not all (${handled})`);
    // The bound: the stall, the pull's 2 x timeoutMs and its last try (timeoutMs / 2), then the
    // commit's one try (timeoutMs). Each step with its own 2 x timeoutMs: about 4 x timeoutMs more.
    const boundMs = STALL_MS + 2 * TIMEOUT_MS + TIMEOUT_MS / 2 + TIMEOUT_MS;
    process.stdout.write(`#   the call failed ${tookMs.toFixed(0)} ms after the server stopped (bound ${boundMs} ms + 3,000 ms of slack)\n`);
    assert.ok(tookMs < boundMs + 3_000, `the call failed within its bound: ${tookMs.toFixed(0)} ms after the server stopped, bound ${boundMs} ms`);
  } finally {
    server.proc.kill('SIGCONT');
    await within(c.close().catch(() => c.destroy()), 30_000, 'close()');
  }
});

runOrSkip(test, 'jetstream outage: one bound for reads and commits');
