/**
 * A shared producer whose ring stays full (retention blocks the writer): every append of every
 * thread fails with ERR_LOG_FULL within about appendTimeoutMs, as a single thread's does. The time an
 * append waits for the append lock counts: a thread waiting behind other threads' appends, each
 * waiting appendTimeoutMs for room, gives up once its own append has waited that long, instead of
 * waiting out one holder's wait after another (seconds, with appendTimeoutMs 300). The owner's
 * close() meanwhile does not block its thread behind those holders either: it returns at once, the
 * threads' appends then fail with ERR_LOG_CLOSED, and every record an append returned for is stored.
 */
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { ErrorCode, Producer, SyncPolicy } from '../dist/index.js';
import { readRecords, suite, tempDir, waitFor } from './kit.js';

const test = suite('shared-producer-full');
const FIXTURE = new URL('./fixtures/attached-producer.mjs', import.meta.url);

interface Full { longest: number; fulls: number; other: string | null; appended: number }

const appendTimeoutMs = 300;

/** A shared producer whose 64 KiB ring fills and stays full: retention keeps the writer from writing once 4 KiB are stored. */
async function fullProducer(logDir: string): Promise<Producer> {
  return Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: 4096, blockingMinimumRetention: 3_600_000, ringBytes: 64 * 1024, appendTimeoutMs });
}

/** The first message of `w` that has `key`; rejects if the worker fails or exits first. */
function messageWith<T>(w: Worker, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>): void => { if (key in m) { w.off('message', onMessage); resolve(m as T); } };
    w.on('message', onMessage);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`worker exited (${code}) before a message with "${key}"`)));
  });
}

/** Four threads appending in 'full' mode for `ms`, once each has attached; their results. */
async function fullThreads(token: unknown, ms: number): Promise<{ workers: Worker[]; results: Promise<Full[]> }> {
  const workers = [0, 1, 2, 3].map(() => new Worker(FIXTURE, { workerData: { mode: 'full', token, ms }, execArgv: [] }));
  const results = Promise.all(workers.map((w) => messageWith<Full>(w, 'longest')));
  results.catch(() => undefined); // awaited by the test; a worker's failure must not surface as unhandled first
  await Promise.all(workers.map((w) => messageWith(w, 'started')));
  return { workers, results };
}

test('threads appending into a ring that stays full: each append fails with ERR_LOG_FULL within about appendTimeoutMs', async () => {
  const p = await fullProducer(tempDir());
  const { workers, results: done } = await fullThreads(p.share(), 3000);
  try {
    const results = await done;
    for (const [i, r] of results.entries()) {
      assert.is(r.other, null, `thread ${i}: only ERR_LOG_FULL`);
      assert.ok(r.fulls > 0, `thread ${i}: the ring stayed full`);
      assert.ok(r.longest < 2 * appendTimeoutMs + 400, `thread ${i}: one append call took ${Math.round(r.longest)} ms (appendTimeoutMs ${appendTimeoutMs}); all: ${results.map((x) => Math.round(x.longest)).join(', ')} ms`);
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    await p.destroy();
  }
});

test('the owner\'s close() while threads append into a ring that stays full: it returns at once, every appended record is stored', async () => {
  const logDir = tempDir();
  const p = await fullProducer(logDir);
  const { workers, results: done } = await fullThreads(p.share(), 10_000);
  try {
    await waitFor(() => p.stats().ringFill > 0.9, 'the ring to fill'); // from now on each holder waits appendTimeoutMs for room
    const t0 = performance.now();
    const closing = p.close();
    const blocked = performance.now() - t0;
    await closing;
    const results = await done;
    assert.ok(blocked < appendTimeoutMs, `close() blocked its thread ${Math.round(blocked)} ms (appendTimeoutMs ${appendTimeoutMs})`);
    for (const [i, r] of results.entries()) assert.is(r.other, ErrorCode.LOG_CLOSED, `thread ${i} stopped by the close`);
    const appended = results.reduce((sum, r) => sum + r.appended, 0);
    assert.is((await readRecords(logDir)).length, appended, 'every record an append returned for is stored');
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});

test.run();
