/**
 * A pool call on JetStream whose cursor lease a renewal finds taken over while the call runs hands
 * out no record more: the lanes stop before their next record and the call rejects with
 * ERR_CURSOR_LOCKED. It ran on: with group commit, every record the feeder had put in the window went
 * through the old owner's handler (all of them the new owner's), and the call failed only at its
 * commit at the end (a call without a pool stops before the next record:
 * jetstream-taken-mid-call.test.ts). Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir, waitFor } from './kit.js';
import { intrudeOnLease } from './lease-kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const handler = fileURLToPath(new URL('./fixtures/js-pool-dead-letter-handler.mjs', import.meta.url));
const test = suite('jetstream pool taken over during a call');
/** The shortest lease: A's renewal (every leaseMs / 3) finds the takeover within a second (the other JetStream files use 5 s). */
const TAKEOVER_LEASE_MS = 1_000;
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

type Internals = { feed: { cursor: { lease: { takenOver: boolean } } }; calls: { pools: Map<number, { round: { stoppedAt: number } | null }> } };
/** Whether A's lease renewal found the cursor taken. */
const takenOver = (c: Consumer): boolean => (c as unknown as Internals).feed.cursor.lease.takenOver;
/** Whether the round of A's pool call has told its lanes to stop. */
const roundStopped = (c: Consumer): boolean => [...(c as unknown as Internals).calls.pools.values()].some((p) => (p.round?.stoppedAt ?? Infinity) < Infinity);

test('group commit: the records after the takeover do not go through the old owner\'s workers', async () => {
  const marks = tempDir('rlog-js-pool-mid-');
  process.env.RL_JS_POOL_DL_DIR = marks; // the pool's workers read it when they start
  const stream = `pool-mid-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: TAKEOVER_LEASE_MS });
  const p = await Producer.open({ backend });
  for (let i = 0; i < 6; i++) p.append(i === 0 ? 'hold-0' : `rec-${i}`);
  await p.close();
  const a = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c'), commit: { everyRecords: 100 } });
  const aRun = a.nonblockingProcess(null, handler, { workers: 1, batchRecords: 1 })
    .then((v) => `resolved ${JSON.stringify(v)}`, (e: { code?: string }) => e.code ?? String(e));
  let b: Consumer | null = null;
  try {
    await waitFor(() => existsSync(join(marks, 'holding-0')), 'record 0 to run', 30_000);
    // Another holder takes A's lease (A's next renewal finds it), then goes, and B takes the cursor.
    await intrudeOnLease(server.url, stream, 'cursor.client.c', () => takenOver(a));
    b = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c') });
    // The round looks at the cursor at its next wake-up (a build without the check never stops: go on after 10 s).
    await waitFor(() => roundStopped(a), 'A\'s round to stop its lanes', 10_000).catch(() => undefined);
    writeFileSync(join(marks, 'go-0'), '');
    assert.is(await within(aRun, 30_000, 'A\'s call'), 'ERR_CURSOR_LOCKED');
    assert.equal(readdirSync(marks).filter((n) => n.startsWith('done-')), [], 'A\'s workers ran no record after the takeover');
    await a.destroy();
    const seen = await within(b.nonblockingProcess(null, handler, { workers: 1 }), 30_000, 'B\'s call');
    assert.equal(seen, { committed: 6, skipped: 0, retried: 0, stoppedBy: 'end' }, 'B hands out every record');
  } finally {
    writeFileSync(join(marks, 'go-0'), '');
    await b?.close();
    await a.destroy();
  }
});

runOrSkip(test, 'jetstream pool taken over during a call');
