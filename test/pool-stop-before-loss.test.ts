/**
 * A record that loses its worker 5 times fails the call with ERR_WORKER_FAILED, but a 'break' or a
 * throw at an earlier record stops the call first, as it would without a pool (the later record is
 * never reached): the call returns 'break' or rejects with the handler's error, and the cursor stays
 * before that earlier record. The pool's failure outranked them, whatever their place in the log.
 *
 * The handler at the earlier (or later) record answers only once the round stopped its lanes, which
 * here only the fifth loss does: the test writes the marker the handler waits for (no fixed pause).
 */
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, type ProcessSummary } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { logOf, suite } from './kit.js';

const test = suite('pool stop before loss');
const handler = fileURLToPath(new URL('./fixtures/pool-stop-before-loss.mjs', import.meta.url));

type Internals = { calls: { pools: Map<number, { round: { stoppedAt: number } | null }> } };
const roundStopped = (c: Consumer): boolean => [...(c as unknown as Internals).calls.pools.values()].some((p) => (p.round?.stoppedAt ?? Infinity) < Infinity);

/** The call, with the marker `stopped` written into the log directory once its round stopped its lanes. */
async function call(c: Consumer, logDir: string): Promise<ProcessSummary | Error | 'stuck'> {
  let done = false;
  const p = c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 1, timeoutMs: 20_000 }).then((v) => v, (e: unknown) => e as Error)
    .finally(() => { done = true; });
  const marker = (async () => {
    while (!done && !roundStopped(c)) await new Promise((r) => setTimeout(r, 5));
    if (!done) writeFileSync(`${logDir}/stopped`, '');
  })();
  const s = await guarded(p);
  done = true;
  await marker;
  return s;
}

test('a \'break\' at a record before one whose worker kept dying: the call returns \'break\'', async () => {
  const logDir = await logOf(['wait-break-0', 'die-1', 'rec-2', 'rec-3'], POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('break-first') });
  const s = await call(c, logDir);
  await c.close();
  assert.equal(s, { committed: 0, skipped: 0, retried: 0, stoppedBy: 'break' });
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('break-first') });
  assert.is(again.committedOffset, 0);
  await again.close();
});

test('a throw at a record before one whose worker kept dying: the call rejects with the handler\'s error', async () => {
  const logDir = await logOf(['wait-throw-0', 'die-1', 'rec-2', 'rec-3'], POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('throw-first') });
  const s = await call(c, logDir);
  await c.close();
  assert.instance(s, Error);
  assert.is((s as Error).message, 'stopped at 0');
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('throw-first') });
  assert.is(again.committedOffset, 0);
  await again.close();
});

test('a record whose worker kept dying before a \'break\': the call still rejects with ERR_WORKER_FAILED', async () => {
  const logDir = await logOf(['die-0', 'wait-break-1', 'rec-2', 'rec-3'], POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('loss-first') });
  const s = await call(c, logDir);
  await c.close();
  assert.instance(s, Error);
  assert.is((s as Error & { code?: string }).code, 'ERR_WORKER_FAILED');
  assert.is(c.committedOffset, 0);
});

test.run();
