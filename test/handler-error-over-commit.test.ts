/**
 * A handler that throws makes the call reject with that error (api.md, README), also when the
 * commit the call makes as it ends (the records the handler finished before) fails too: that
 * commit's error does not replace the handler's. The records whose commit failed stay pending and are
 * committed by the next call (or handed out again after a reopen); the commit's failure is told by
 * the next commit that fails. A call that fails for no other reason still rejects with its commit's
 * error. The commit fails through the fault layer (its fdatasync: EIO).
 */
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { logOf, rejectsWith, suite, tempDir } from './kit.js';
import { clearFaults, setFaults } from './faults.js';

const test = suite('handler error over a failed commit');

const FAIL_COMMITS = { op: 'fdatasync', path: 'client\\.t\\.cursor$', thread: 'main', nth: 1, persistent: true, effect: { errno: 'EIO' } } as const;

/**
 * A clientTx consumer of a log of `records` records whose cursor commits (everyRecords 1,000) fail
 * once `arm()` is called; `fn` runs with it, then the faults end and the consumer closes.
 */
async function withFailingCommits(records: number, fn: (c: Consumer, arm: () => void) => Promise<void>): Promise<void> {
  const logDir = await logOf(records);
  const armFile = join(tempDir(), 'arm');
  setFaults({ arm: armFile, rules: [FAIL_COMMITS] });
  try {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('t'), commit: { everyRecords: 1_000 } });
    try {
      await fn(c, () => writeFileSync(armFile, ''));
    } finally {
      clearFaults();
      await c.close();
    }
  } finally {
    clearFaults();
  }
}

test('the handler\'s error, not the failed commit\'s, rejects the call; the next call commits the records done', async () => {
  await withFailingCommits(6, async (c, arm) => {
    const boom = new Error('boom: the handler failed');
    let thrown: unknown = null;
    await c.nonblockingProcess(null, (m) => {
      if (m.offset < 3) return 'commit';
      arm(); // from now on the cursor's commits fail
      throw boom;
    }).catch((e: unknown) => { thrown = e; });
    assert.is(thrown, boom, `the call rejected with ${String((thrown as Error)?.message ?? thrown)}`);
    assert.is(c.committedOffset, 0, 'the commit of records 0..2 failed');
    assert.is(c.nextOffset, 3, 'records 0..2 were answered commit');
    // The commit's failure is told by the next call that commits while it still fails.
    await rejectsWith(c.nonblockingProcess(1, () => 'commit'), 'ERR_IO');
    clearFaults();
    assert.is((await c.nonblockingProcess(null, () => 'commit')).committed, 2);
    assert.is(c.committedOffset, 6);
  });
});

test('a call that fails only in its last commit rejects with the commit\'s error', async () => {
  await withFailingCommits(4, async (c, arm) => {
    arm();
    const e = await rejectsWith(c.nonblockingProcess(null, () => 'commit'), 'ERR_IO');
    assert.match(e.message, /committing cursor/);
  });
});

test.run();
