/**
 * A live thread whose appendBatch keeps the append lock for long (a batch whose getters are slow, or
 * one that fills a large ring: measuring and copying take seconds) was taken for a thread stopped
 * inside an append: another thread waiting for the lock failed the log with ERR_PRODUCER_STALLED
 * after appendTimeoutMs + 2 s, the batch threw it too, and the log accepted nothing more. A holder
 * that makes progress through a batch now says so (APPEND.PROGRESS), and the waiter's bound counts
 * from its last progress: the waiter appends after the batch, and nothing fails. Progress came only every
 * 64 records, so a batch of fewer records (or of 64 records taking longer than the bound) with slow
 * getters was still called stalled: a record whose getters ran now counts as progress by itself.
 */
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { Producer, SyncPolicy } from '../dist/index.js';
import { readRecords, suite, tempDir } from './kit.js';

const test = suite('append lock: a long batch of a live thread');

/**
 * A worker appends one batch of `n` records whose headers getter takes `ms` at each read; once it holds
 * the lock the owner appends. Checks that nothing stalls: the batch gets offset 0, the owner's record
 * the next one, and both are in the log. Returns how long the owner's append waited (ms).
 */
async function ownerAfterSlowBatch(n: number, ms: number): Promise<number> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), appendTimeoutMs: 100 });
  const w = new Worker(new URL('./fixtures/attached-producer.mjs', import.meta.url), { workerData: { mode: 'slowBatch', token: p.share(), id: 'w', n, ms }, execArgv: [] });
  let waited: number;
  try {
    const answer = new Promise<{ first?: number; error?: string }>((resolve) => w.on('message', (m: { first?: number; error?: string }) => { if ('first' in m || 'error' in m) resolve(m); }));
    await new Promise<void>((resolve) => w.on('message', (m: { holding?: boolean }) => { if (m.holding === true) resolve(); }));
    const t0 = performance.now();
    const offset = p.append('owner'); // waits for the lock the batch holds
    waited = performance.now() - t0;
    assert.equal(await answer, { first: 0 });
    assert.is(offset, n);
    assert.is(p.error, null);
    await p.flush();
  } finally {
    await w.terminate();
    await p.close();
  }
  const texts = (await readRecords(logDir)).map((r) => r.text);
  assert.is(texts.length, n + 1);
  assert.is(texts[n], 'owner');
  return waited;
}

test('a batch holding the lock for about 3 s, appendTimeoutMs 100: the other thread appends after it, no stall', async () => {
  const waited = await ownerAfterSlowBatch(1500, 1);
  assert.ok(waited > 2_100, `the owner's append waited ${Math.round(waited)} ms: the batch held the lock past the old bound`);
});

test('30 records whose getters take 100 ms each (about 6 s: two reads of each), appendTimeoutMs 100: no stall', async () => {
  await ownerAfterSlowBatch(30, 100);
});

test.run();
