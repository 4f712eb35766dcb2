/**
 * A pool call that returns at once with nothing to run (`max` 0, or a signal already aborted) starts
 * no worker thread: "with a pool, before any worker starts" (docs/consumers.md).
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync } from 'node:fs';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, handler } from './pool-kit.js';
import { suite, logOf } from './kit.js';

const test = suite('pool no threads early');
const threads = (): number => readdirSync('/proc/self/task').length;

test('max 0 and an aborted signal, with 16 workers: the summary at once, no thread started', async () => {
  if (!existsSync('/proc/self/task')) return; // threads are counted in /proc
  const logDir = await logOf(10, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('early') });
  try {
    const before = threads();
    assert.equal(await c.nonblockingProcess(null, handler, { workers: 16, signal: AbortSignal.abort() }), { committed: 0, skipped: 0, retried: 0, stoppedBy: 'abort' });
    assert.equal(await c.blockingProcess(0, handler, { workers: 16 }), { committed: 0, skipped: 0, retried: 0, stoppedBy: 'limit' });
    const started = threads() - before;
    assert.ok(started < 8, `${started} threads started for calls that run nothing`);
    assert.is(c.committedOffset, 0);
  } finally {
    await c.close();
  }
});

test.run();
