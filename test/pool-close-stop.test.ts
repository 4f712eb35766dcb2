/**
 * close() during a pool call stops the lanes at once: a record a worker has not begun when close()
 * returns is not begun, however late the coordinator's next turn comes. Here the main thread is kept
 * busy right after close() (as a loaded event loop would be) while the worker finishes the record in
 * flight: the record after it is not handled, and only the record in flight is committed.
 */
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { logOf, suite, waitFor } from './kit.js';
import { POOL_LOG } from './pool-kit.js';

const test = suite('pool-close-stop');
const HANDLER = fileURLToPath(new URL('./fixtures/pool-calls-handler.mjs', import.meta.url));

const handled = (logDir: string): number[] => {
  const f = join(logDir, 'handled.log');
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').map(Number) : [];
};

test('a record not begun when close() returns is not begun, even while the event loop is busy', async () => {
  const records = Array.from({ length: 100 }, (_, i) => (i === 40 ? `wait-${i}` : `rec-${i}`));
  const logDir = await logOf(records, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('stop') });
  const run = c.nonblockingProcess(null, HANDLER, { workers: 1, batchRecords: 16 });
  await waitFor(() => existsSync(join(logDir, 'running-40')), 'the worker to wait in record 40');
  const closing = c.close();
  writeFileSync(join(logDir, 'go-40'), '');
  // The main thread stays busy (no turn for the call's coordinator) until the worker handled record 41
  // or a bound passes: with the lanes stopped in close() itself, 41 is never begun.
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let t = 0; t < 1500 && !handled(logDir).includes(41); t += 5) Atomics.wait(nap, 0, 0, 5);
  const s = await run;
  await closing;
  assert.not.ok(handled(logDir).includes(41), `record 41 was handled after close(): ${handled(logDir).slice(-3).join(',')}`);
  assert.equal(s, { committed: 41, skipped: 0, retried: 0, stoppedBy: 'end' });
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('stop') });
  assert.is(again.committedOffset, 41);
  await again.close();
});

test.run();
