/**
 * The outage a call gave up in is that call's own: the next call's commits count their bound from
 * their own first failure (ride.ts, Outage). A clientTx consumer's nonblocking pool call fails with
 * ERR_IO while the server is SIGSTOPped (its read of the stream's end gives up and marks the outage,
 * before any record is handed out, so no commit fails: a failed commit stops the consumer for good);
 * with the pull paused on a full buffer nothing of the consumer succeeds meanwhile. Once the server
 * answers again, a blocking call's first group commit meets a pause of 1.2 s, shorter than the bound
 * (2 x timeoutMs): the commit rides it out. Taking the earlier call's outage on, it would fail after
 * one try, and a failed commit stops the consumer for good. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir, waitFor } from './kit.js';
import { appendAll, closeAfter, coded, consumerCount, pauseNats, runOrSkip, startNats, stopAllNats, within } from './nats-kit.js';

const test = suite('jetstream outage: the next call');
test.after(stopAllNats);
const T = 1_000;
const POOL_HANDLER = fileURLToPath(new URL('./fixtures/noting-pool-handler.mjs', import.meta.url));

test('a commit of the call after one that failed in an outage rides out a short pause', async () => {
  const server = await startNats();
  const stream = 'outage-next-call';
  const backend = jetstream({ servers: server.url, stream, timeoutMs: T, leaseMs: 60_000 });
  await closeAfter(await Producer.open({ backend, syncPolicy: SyncPolicy.never() }), (p) => appendAll(p, 0, 8_000));
  const nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('n'), commit: { everyRecords: 100 } });
  try {
    assert.is((await c.nonblockingProcess(10, () => 'commit')).committed, 10);
    // The pull fills its buffer (4,096 records) and pauses: it deletes its consumer, and nothing of it runs.
    await waitFor(async () => await consumerCount(jsm, stream) === 0, 'the pull to pause on a full buffer', 10_000);
    await pauseNats(server);
    let failed: unknown = null;
    process.env.RL_TEST_GATE = join(tempDir(), 'gate'); // the handler's notes (it runs on no record here)
    await within(c.nonblockingProcess(null, POOL_HANDLER, { workers: 1 }), 10 * T, 'the call in the outage').catch((e: unknown) => { failed = e; });
    assert.is(coded(failed, 'the call in the outage'), 'ERR_IO');
    server.proc.kill('SIGCONT');
    await waitFor(async () => (await jsm.streams.info(stream).then(() => true, () => false)), 'the server to answer again', 10_000);
    let resume: NodeJS.Timeout | undefined;
    const r = await within(c.blockingProcess(300, async (m) => {
      if (m.offset === 109) { // the 100th record of the call: its group commit (to 110) follows
        await pauseNats(server);
        resume = setTimeout(() => server.proc.kill('SIGCONT'), 1_200); // the pause the commit meets
      }
      return 'commit' as const;
    }), 20 * T, 'the next call').catch((e: unknown) => `${coded(e, 'the next call')} ${(e as Error).message}`);
    clearTimeout(resume);
    assert.equal(r, { committed: 300, skipped: 0, retried: 0, stoppedBy: 'limit' }, 'the next call rode out the pause');
    assert.is(c.committedOffset, 310);
  } finally {
    server.proc.kill('SIGCONT');
    await nc.close();
    await within(c.close().catch(() => c.destroy()), 30 * T, 'close()');
  }
});

runOrSkip(test, 'jetstream outage: the next call');
