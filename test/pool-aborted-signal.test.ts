/**
 * A pool processing call (blocking or nonblocking) whose signal is already aborted returns
 * { committed: 0, stoppedBy: 'abort' } at once, as without a pool: no worker runs a record and the
 * cursor stays. nonblockingProcess takes a signal in both forms, and an abort during a pool call ends it.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf, waitFor } from './kit.js';

const test = suite('pool aborted signal');
const handler = fileURLToPath(new URL('./fixtures/pool-calls-handler.mjs', import.meta.url));
const handledIn = (logDir: string): number =>
  (existsSync(join(logDir, 'handled.log')) ? readFileSync(join(logDir, 'handled.log'), 'utf8').trim().split('\n').length : 0);

test('an aborted signal: no record runs and nothing is committed, with a pool as without', async () => {
  const logDir = await logOf(2000, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('pre') });
  let ran = 0;
  const fn = (): 'commit' => { ran++; return 'commit'; };
  const aborted = { committed: 0, skipped: 0, retried: 0, stoppedBy: 'abort' };
  assert.equal(await c.blockingProcess(null, fn, { signal: AbortSignal.abort() }), aborted);
  assert.equal(await c.nonblockingProcess(null, fn, { signal: AbortSignal.abort() }), aborted);
  for (const blocking of [true, false]) {
    for (let i = 0; i < 3; i++) {
      const opts = { workers: 2, batchRecords: 4, signal: AbortSignal.abort() };
      const s = await guarded(blocking ? c.blockingProcess(null, handler, opts) : c.nonblockingProcess(null, handler, opts));
      assert.equal(s, aborted, `${blocking ? 'blocking' : 'nonblocking'} pool call`);
    }
  }
  const cursor = c.committedOffset;
  await c.close();
  assert.is(ran, 0);
  assert.is(handledIn(logDir), 0, 'no pool worker ran a record');
  assert.is(cursor, 0);
});

test('nonblockingProcess in a pool stops when its signal aborts during the call', async () => {
  const logDir = await logOf(['rec-0', 'rec-1', 'wait-2', 'rec-3', 'rec-4'], POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('mid') });
  const ac = new AbortController();
  const call = guarded(c.nonblockingProcess(null, handler, { workers: 1, signal: ac.signal }));
  await waitFor(() => existsSync(join(logDir, 'running-2')), 'record 2 to run');
  ac.abort();
  writeFileSync(join(logDir, 'go-2'), ''); // the lane finishes the record it runs, and stops
  const s = await call;
  const cursor = c.committedOffset;
  await c.close();
  assert.equal(s, { committed: 3, skipped: 0, retried: 0, stoppedBy: 'abort' });
  assert.is(cursor, 3);
  assert.is(handledIn(logDir), 3, 'records 3 and 4 did not run');
});

test.run();
