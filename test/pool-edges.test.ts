/**
 * Pools and dead letters at their edges: a worker that dies right after it finished a record as
 * exhausted (before its answer, which carries the dead letter's last error, reached the
 * coordinator), a handler that throws after close() or an abort was asked for, and a record so
 * large that its dead letter (the record plus a header) is larger than the source log's records.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Whence, decodeDeadLetter } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf, tempDir, waitFor } from './kit.js';

const test = suite('pool edges');
const handler = fileURLToPath(new URL('./fixtures/pool-edge-handler.mjs', import.meta.url));

async function deadLetters(dir: string): Promise<number[]> {
  if (!existsSync(dir)) return [];
  const dl = await Consumer.open({ logDir: dir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...dl.iter()].map((m) => decodeDeadLetter(m.data).offset);
  } finally {
    await dl.close();
  }
}

test('nonblocking: a worker that dies right after it finished a record as exhausted: the call still completes the log, the record dead-lettered', async () => {
  const records = Array.from({ length: 60 }, (_, i) => (i === 10 ? `exhexit-${i}` : `rec-${i}`));
  const logDir = await logOf(records, POOL_LOG);
  const deadLetterDir = join(tempDir(), 'dlq');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('exh'), retry: { maxAttempts: 2, deadLetterDir } });
  const s = await guarded(c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 8 }));
  assert.ok(existsSync(join(logDir, 'exited-10')), 'the worker exited after exhausting record 10');
  // Every record was run (59 commits in the handler), the call ended with 'end' (nothing more visible)...
  if (s === 'stuck') assert.unreachable('the call did not end');
  else assert.equal({ committed: s.committed, skipped: s.skipped, stoppedBy: s.stoppedBy }, { committed: 59, skipped: 1, stoppedBy: 'end' });
  assert.is(c.committedOffset, 60);
  assert.equal(await deadLetters(deadLetterDir), [10]);
  await c.close();
});

test('blocking: same, the cursor passes record 10, its dead letter written', async () => {
  const records = Array.from({ length: 60 }, (_, i) => (i === 10 ? `exhexit-${i}` : `rec-${i}`));
  const logDir = await logOf(records, POOL_LOG);
  const deadLetterDir = join(tempDir(), 'dlq');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('exhb'), retry: { maxAttempts: 2, deadLetterDir } });
  const ac = new AbortController();
  const run = c.blockingProcess(null, handler, { workers: 2, batchRecords: 8, signal: ac.signal });
  let err: unknown = null;
  try {
    await waitFor(() => (c.committedOffset ?? 0) >= 60, 'the cursor to reach 60 (record 10 dead-lettered)', 20_000);
  } catch (e) {
    err = e;
  }
  ac.abort();
  const s = await guarded(run);
  await c.close();
  if (err !== null) throw err;
  assert.not.equal(s, 'stuck', 'the call ends on abort');
  assert.equal(await deadLetters(deadLetterDir), [10]);
});

async function settleOf<T>(p: Promise<T>): Promise<T | Error | 'stuck'> {
  return guarded(p.then((v) => v, (e: unknown) => e as Error));
}

test('without a pool: a handler that throws after close() was called rejects the call (reference behaviour)', async () => {
  const logDir = await logOf(Array.from({ length: 20 }, (_, i) => `rec-${i}`), POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('ref') });
  let release: () => void = () => undefined;
  let running = false;
  const run = settleOf(c.nonblockingProcess(null, async (msg) => {
    if (msg.offset !== 5) return 'commit' as const;
    running = true;
    await new Promise<void>((r) => { release = r; });
    throw new Error('handler failed on 5');
  }));
  await waitFor(() => running, 'record 5 running');
  const closing = c.close();
  await new Promise((r) => setImmediate(r));
  release();
  const s = await run;
  await closing;
  assert.ok(s instanceof Error && /handler failed on 5/.test(s.message), 'the call rejects with the handler error');
});

test('pool: a handler that throws after close() was called: the call rejects with its error, as without a pool', async () => {
  const records = Array.from({ length: 20 }, (_, i) => (i === 5 ? `throw-${i}` : `rec-${i}`));
  const logDir = await logOf(records, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('pthrow') });
  const run = settleOf(c.nonblockingProcess(null, handler, { workers: 1, batchRecords: 16 }));
  await waitFor(() => existsSync(join(logDir, 'running-5')), 'record 5 running in the worker');
  const closing = c.close();
  await new Promise((r) => setImmediate(r));
  writeFileSync(join(logDir, 'go-5'), '');
  const s = await run;
  await closing;
  assert.ok(s instanceof Error && /handler failed on 5/.test(s.message), `the call rejects with the handler error, got ${JSON.stringify(s)}`);
});

test('pool: a handler that throws after the signal aborted: the call rejects with its error', async () => {
  const records = Array.from({ length: 20 }, (_, i) => (i === 5 ? `throw-${i}` : `rec-${i}`));
  const logDir = await logOf(records, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('pabort') });
  const ac = new AbortController();
  const run = settleOf(c.blockingProcess(null, handler, { workers: 1, batchRecords: 16, signal: ac.signal }));
  await waitFor(() => existsSync(join(logDir, 'running-5')), 'record 5 running in the worker');
  ac.abort();
  await new Promise((r) => setImmediate(r));
  writeFileSync(join(logDir, 'go-5'), '');
  const s = await run;
  await c.close();
  assert.ok(s instanceof Error && /handler failed on 5/.test(s.message), `the call rejects with the handler error, got ${JSON.stringify(s)}`);
});


test('a record the source log accepted (16 MiB - 64 bytes) is dead-lettered: its dead letter is larger, and the dead-letter log takes it', async () => {
  const { Producer, SyncPolicy } = await import('../dist/index.js');
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  p.append(Buffer.alloc(16 * 1024 * 1024 - 64, 7));
  p.append('rec-1');
  await p.close();
  const deadLetterDir = join(tempDir(), 'dlq');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('big'), retry: { maxAttempts: 1, deadLetterDir } });
  const outcomes: Array<unknown> = [];
  for (let call = 0; call < 2; call++) {
    outcomes.push(await c.nonblockingProcess(null, (msg) => (msg.offset === 0 ? 'retry' : 'commit')).then((v) => v, (e: Error & { code?: string }) => `${e.code}: ${e.message}`));
  }
  await c.close();
  assert.equal(outcomes[0], { committed: 1, skipped: 1, retried: 1, stoppedBy: 'end' });
  assert.equal(await deadLetters(deadLetterDir), [0]);
});

test.run();
