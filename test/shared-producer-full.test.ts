/**
 * A shared producer whose ring stays full (retention blocks the writer): every append of every
 * thread fails with ERR_LOG_FULL within about appendTimeoutMs, as a single thread's does. The time an
 * append waits for the append lock counts: a thread waiting behind other threads' appends, each
 * waiting appendTimeoutMs for room, gives up once its own append has waited that long, instead of
 * waiting out one holder's wait after another (seconds, with appendTimeoutMs 300).
 */
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { Producer, SyncPolicy } from '../dist/index.js';
import { suite, tempDir } from './kit.js';

const test = suite('shared-producer-full');
const FIXTURE = new URL('./fixtures/attached-producer.mjs', import.meta.url);

interface Full { longest: number; fulls: number; other: string | null }

test('threads appending into a ring that stays full: each append fails with ERR_LOG_FULL within about appendTimeoutMs', async () => {
  const logDir = tempDir();
  const appendTimeoutMs = 300;
  // Retention keeps the writer from writing once 4 KiB are stored: the 64 KiB ring fills and stays full.
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: 4096, blockingMinimumRetention: 3_600_000, ringBytes: 64 * 1024, appendTimeoutMs });
  const token = p.share();
  const workers = [0, 1, 2, 3].map(() => new Worker(FIXTURE, { workerData: { mode: 'full', token, ms: 3000 }, execArgv: [] }));
  try {
    const results = await Promise.all(workers.map((w) => new Promise<Full>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`worker exited (${code}) before its result`)));
    })));
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

test.run();
