/**
 * A pool call on JetStream whose cursor lease is found taken over while an exhausted record waits
 * for its dead letter (a record before it still runs) writes no dead letter once it knows: the record
 * is the new owner's, and so is its dead letter (a call without a pool checks the cursor before each
 * dead letter: src/consumer/process.ts). The round's last settle wrote it after the takeover, with
 * group commit (the commit of the records before it, which would have failed, not made). Skipped with a
 * printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { readTexts, suite, tempDir, waitFor } from './kit.js';
import { intrudeOnLease } from './lease-kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const handler = fileURLToPath(new URL('./fixtures/js-pool-dead-letter-handler.mjs', import.meta.url));
const test = suite('jetstream pool taken over with a dead letter waiting');
/** The shortest lease: A's renewal (every leaseMs / 3) finds the takeover within a second (the other JetStream files use 5 s). */
const TAKEOVER_LEASE_MS = 1_000;
let server: NatsServer;
const dirs: string[] = [];
test.before(async () => { server = await startNats(); });
test.after(async () => {
  await stopAllNats();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Internals = { feed: { cursor: { lease: { takenOver: boolean } } }; calls: { pools: Map<number, { round: { stoppedAt: number } | null }> } };
const takenOver = (c: Consumer): boolean => (c as unknown as Internals).feed.cursor.lease.takenOver;
const roundStopped = (c: Consumer): boolean => [...(c as unknown as Internals).calls.pools.values()].some((p) => (p.round?.stoppedAt ?? Infinity) < Infinity);

test('the old owner writes no dead letter after it learnt of the takeover', async () => {
  const marks = tempDir('rlog-js-pool-tdl-');
  const out = tempDir('rlog-js-pool-tdl-out-');
  dirs.push(marks, out);
  const deadLetterDir = join(out, 'dl');
  process.env.RL_JS_POOL_DL_DIR = marks; // the pool's workers read it when they start
  const stream = `pool-tdl-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: TAKEOVER_LEASE_MS });
  const p = await Producer.open({ backend });
  for (let i = 0; i < 6; i++) p.append(i === 0 ? 'hold-0' : i === 1 ? 'retry-1' : `rec-${i}`);
  await p.close();
  const a = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c'), commit: { everyRecords: 100 }, retry: { maxAttempts: 1, deadLetterDir } });
  // Two lanes of one record: lane 0 holds record 0; lane 1 exhausts record 1 (its dead letter waits for record 0) and goes on.
  const aRun = a.nonblockingProcess(null, handler, { workers: 2, batchRecords: 1 })
    .then((v) => `resolved ${JSON.stringify(v)}`, (e: { code?: string }) => e.code ?? String(e));
  try {
    await waitFor(() => existsSync(join(marks, 'holding-0')) && existsSync(join(marks, 'retried-1-1')) && existsSync(join(marks, 'done-3')),
      'record 0 to run and lane 1 past the exhausted record 1', 30_000);
    await intrudeOnLease(server.url, stream, 'cursor.client.c', () => takenOver(a));
    await waitFor(() => roundStopped(a), 'A\'s round to stop its lanes', 10_000);
    writeFileSync(join(marks, 'go-0'), '');
    assert.is(await within(aRun, 30_000, 'A\'s call'), 'ERR_CURSOR_LOCKED');
    const letters = existsSync(deadLetterDir) ? await readTexts(deadLetterDir) : [];
    assert.equal(letters.length, 0, `A wrote ${letters.length} dead letter(s) for the new owner's record`);
  } finally {
    writeFileSync(join(marks, 'go-0'), '');
    await a.destroy();
  }
});

runOrSkip(test, 'jetstream pool taken over with a dead letter waiting');
