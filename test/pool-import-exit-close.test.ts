/**
 * A handler module that ends its thread during its import (process.exit() at its top level): the
 * call rejects with ERR_WORKER_FAILED, and close() then stops the pool at once. The pool's count of
 * imports in flight kept each dead thread's import, so close() waited the call's whole timeoutMs
 * for imports no thread was running.
 */
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { logOf, rejectsWith, suite } from './kit.js';

const test = suite('pool-import-exit-close');
const handler = fileURLToPath(new URL('./fixtures/pool-exit-at-import.mjs', import.meta.url));

test('close() after a call whose handler module exits its thread at import returns without waiting timeoutMs', async () => {
  const logDir = await logOf(Array.from({ length: 10 }, (_, i) => `rec-${i}`), POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('exit-import') });
  await rejectsWith(c.nonblockingProcess(null, handler, { workers: 2, timeoutMs: 15_000 }), 'ERR_WORKER_FAILED');
  const t0 = performance.now();
  const closed = await guarded(c.close());
  const ms = performance.now() - t0;
  assert.is.not(closed, 'stuck', 'close() returns');
  assert.ok(ms < 5_000, `close() took ${Math.round(ms)} ms (timeoutMs 15,000, no import left in flight)`);
  assert.is(c.committedOffset, 0);
});

test.run();
