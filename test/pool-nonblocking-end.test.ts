/**
 * A nonblocking pool call hands out the records in the log when it starts, as without a pool: the
 * producer of this process appending more and closing during the call (the pool then starts another
 * round, tailing the files) does not take the call past the end it read at its start. The records
 * appended meanwhile are the next call's.
 */
import * as assert from 'uvu/assert';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, liveLogOf, waitFor } from './kit.js';

const test = suite('pool nonblocking end');
const handler = fileURLToPath(new URL('./fixtures/pool-calls-handler.mjs', import.meta.url));

test('the producer appends and closes during a nonblocking pool call: the call ends at the end it read at its start', async () => {
  const { logDir, p } = await liveLogOf(Array.from({ length: 10 }, (_, i) => (i === 5 ? `wait-${i}` : `rec-${i}`)), POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('end') });
  const run = guarded(c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 8 }));
  await waitFor(() => existsSync(join(logDir, 'running-5')), 'record 5 running');
  for (let i = 10; i < 20; i++) p.append(`rec-${i}`);
  await p.close();
  writeFileSync(join(logDir, 'go-5'), '');
  const s = await run;
  const cursor = c.committedOffset;
  const next = await guarded(c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 8 }));
  await c.close();
  assert.equal(s, { committed: 10, skipped: 0, retried: 0, stoppedBy: 'end' }, 'the call ends at record 10');
  assert.is(cursor, 10);
  assert.equal(next, { committed: 10, skipped: 0, retried: 0, stoppedBy: 'end' }, 'the next call takes the records appended meanwhile');
});

test.run();
