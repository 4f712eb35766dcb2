/**
 * Pool lanes that stop the call at two records, the later record's handler answering first: the call
 * stops at the earlier record (the first in log order, as without a pool), where the cursor stops.
 * - two throws: the call rejects with the earlier record's error;
 * - a 'break' and a throw: the call ends with 'break' when the break is at the earlier record, and
 *   rejects with the error when the throw is, whichever answered first.
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

// batchRecords 8, 2 workers: record 3 is lane 0's, record 10 lane 1's.
const BREAK_THEN_THROW = { committed: 3, skipped: 0, retried: 0, stoppedBy: 'break' };
for (const [first, second, expected] of [
  ['break', 'throw', `resolved ${JSON.stringify(BREAK_THEN_THROW)}`],
  ['throw', 'break', 'rejected: handler failed on 3'],
] as const) {
  for (const answersFirst of [10, 3]) {
    test(`a ${first} at record 3 and a ${second} at record 10, record ${answersFirst} answering first: the call stops at record 3 with its ${first}`, async () => {
      const records = Array.from({ length: 16 }, (_, i) => (i === 3 ? `${first}-${i}` : i === 10 ? `${second}-${i}` : `rec-${i}`));
      const logDir = await logOf(records, POOL_LOG);
      const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('bt') });
      const run = guarded(c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 8 }).then(
        (v) => `resolved ${JSON.stringify(v)}`, (e: Error) => `rejected: ${e.message}`));
      await waitFor(() => existsSync(join(logDir, 'running-3')) && existsSync(join(logDir, 'running-10')), 'records 3 and 10 running');
      const answersLast = answersFirst === 10 ? 3 : 10;
      const marker = (o: number): string => join(logDir, `${records[o].startsWith('throw-') ? 'threw' : 'broke'}-${o}`);
      writeFileSync(join(logDir, `go-${answersFirst}`), '');
      // The other record answers only once this one has (its worker posts that answer in the same turn).
      await waitFor(() => existsSync(marker(answersFirst)), `record ${answersFirst} to answer`);
      writeFileSync(join(logDir, `go-${answersLast}`), '');
      const s = await run;
      const cursor = c.committedOffset;
      await c.close();
      assert.is(s, expected);
      assert.is(cursor, 3, 'the cursor stops at record 3');
    });
  }
}

test.run();
