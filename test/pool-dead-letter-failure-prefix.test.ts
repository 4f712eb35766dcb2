/**
 * A pool call whose dead letter fails (here the dead-letter directory is a file: ERR_INVALID_OPTION)
 * while records before the exhausted one finished in the same step of the coordinator: those records
 * were answered 'commit', so the cursor moves past them before the call rejects. They are not handed
 * out again by the next call (their effects would repeat without any crash), and the exhausted record
 * is not completed.
 */
import * as assert from 'uvu/assert';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded, handler } from './pool-kit.js';
import { logOf, rejectsWith, suite, tempDir, waitFor } from './kit.js';

const test = suite('pool-dead-letter-failure-prefix');

test('a failed dead letter in a pool: the records finished before it stay committed, the exhausted one does not', async () => {
  // Two lanes, stripes of one record: lane 0 takes the even offsets, lane 1 the odd ones.
  const logDir = await logOf(['gate-0', 'retry-1', 'rec-2', 'gate-3', 'rec-4', 'rec-5'], POOL_LOG);
  const deadLetterDir = join(tempDir(), 'not-a-dir');
  writeFileSync(deadLetterDir, 'a file');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('p'), retry: { maxAttempts: 2, deadLetterDir } });
  try {
    const call = guarded(c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 1 }));
    // Record 1 exhausted its attempts (its lane went on to record 3) while record 0 still runs.
    await waitFor(() => existsSync(join(logDir, 'gated-0')) && existsSync(join(logDir, 'gated-3')), 'records 0 and 3 held at the gate', 20_000);
    writeFileSync(join(logDir, 'gate-open'), '');
    const e = await rejectsWith(call.then((s) => { if (s === 'stuck') throw new Error('the call did not end'); return s; }), 'ERR_INVALID_OPTION');
    assert.match(e.message, /deadLetterDir/);
    assert.is(c.committedOffset, 1, 'record 0 was answered commit before the failed dead letter of record 1');
    rmSync(join(logDir, 'gated-0'));
    // The next call starts at record 1 (whose dead letter fails again): record 0 is not run again.
    await rejectsWith(c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 1 }), 'ERR_INVALID_OPTION');
    assert.not.ok(existsSync(join(logDir, 'gated-0')), 'record 0 was handed out again');
    assert.is(c.committedOffset, 1);
  } finally {
    await c.close();
  }
});

test.run();
