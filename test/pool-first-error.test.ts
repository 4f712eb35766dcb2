/**
 * Two pool lanes throw, the later record's handler first: the call rejects with the error of the
 * earlier record (the first in log order, as without a pool), and the cursor stops at that record.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf, waitFor } from './kit.js';

const test = suite('pool first error');
const handler = fileURLToPath(new URL('./fixtures/pool-calls-handler.mjs', import.meta.url));

test('the first throw in log order is the call\'s error, though a later one answered first', async () => {
  // batchRecords 32, 2 workers: record 10 is lane 0's, record 50 lane 1's.
  const records = Array.from({ length: 100 }, (_, i) => (i === 10 || i === 50 ? `throw-${i}` : `rec-${i}`));
  const logDir = await logOf(records, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('two') });
  const run = guarded(c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 32 }).then(
    (v) => `resolved ${JSON.stringify(v)}`, (e: Error) => e.message));
  await waitFor(() => existsSync(join(logDir, 'running-10')) && existsSync(join(logDir, 'running-50')), 'records 10 and 50 running');
  writeFileSync(join(logDir, 'go-50'), '');
  // Record 10 throws only once record 50 has thrown (its worker posts that answer in the same turn).
  await waitFor(() => existsSync(join(logDir, 'threw-50')), 'record 50 to throw');
  writeFileSync(join(logDir, 'go-10'), '');
  const s = await run;
  const cursor = c.committedOffset;
  await c.close();
  assert.is(s, 'handler failed on 10', 'the call rejects with the error of the record it stopped at');
  assert.is(cursor, 10, 'the cursor stops at record 10');
});

test.run();
