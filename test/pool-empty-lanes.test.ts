/**
 * A pool call with fewer records than its lanes' first stripes (workers x batchRecords) starts no
 * task for a lane that has no record: before, every lane's thread imported the handler module for
 * nothing (its top-level code run once per thread), and a thread lost in such a lane (a module that
 * ends its thread at import) was charged to the record at the call's end, one past the last: the
 * call's ERR_WORKER_FAILED could name a record the log does not hold.
 */
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG } from './pool-kit.js';
import { logOf, suite, tempDir } from './kit.js';

const test = suite('pool-empty-lanes');
const module = pathToFileURL(fileURLToPath(new URL('./fixtures/pool-import-count.mjs', import.meta.url))).href;

test('a call whose records fill one lane imports the handler module in that lane\'s thread only', async () => {
  const marks = tempDir();
  process.env.RL_POOL_IMPORTS_DIR = marks; // the pool's threads read it when they start
  const logDir = await logOf(Array.from({ length: 9 }, (_, i) => `rec-${i}`), POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('empty-lanes') });
  try {
    const opts = { workers: 4, batchRecords: 2 };
    // Records 0-7: two for each of the 4 lanes, so every thread of the pool is up and has run a task.
    assert.equal(await c.nonblockingProcess(8, `${module}?warm`, opts), { committed: 8, skipped: 0, retried: 0, stoppedBy: 'limit' });
    // Record 8 only: lane 0's; lanes 1-3 have none.
    assert.equal(await c.nonblockingProcess(null, `${module}?one`, opts), { committed: 1, skipped: 0, retried: 0, stoppedBy: 'end' });
    assert.is(c.committedOffset, 9);
  } finally {
    await c.close();
  }
  const log = join(marks, 'imports.log');
  const imports = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('?one')) : [];
  assert.is(imports.length, 1, `threads that imported the module for the one-record call: ${imports.length}`);
});

test.run();
