/**
 * A transactional open that creates its cursor file and then fails (the fsync of cursors/ after the
 * rename, the open of the renamed file) removes that file again: a consumer that never opened leaves
 * no cursor behind (one at the log start would hold retention back under blockingMinimumRetention).
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { logOf, rejectsWith, suite } from './kit.js';
import { clearFaults, setFaults, type FaultRule } from './faults.js';

const test = suite('cursor-create-failure');

const failures: ReadonlyArray<[string, FaultRule]> = [
  ['the fsync of cursors/ after the rename', { op: 'fsync', path: '/cursors$', thread: 'main', nth: 1, effect: { errno: 'EIO' } }],
  // The first open of the cursor's path finds nothing; the second opens the file just renamed there.
  ['the open of the renamed file', { op: 'open', path: 'client\\.a\\.cursor$', thread: 'main', nth: 2, effect: { errno: 'EMFILE' } }],
];

for (const [what, rule] of failures) {
  test(`${what} fails: the open rejects and leaves no cursor file`, async () => {
    const logDir = await logOf(5);
    setFaults({ rules: [rule] });
    try {
      await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('a') }), 'ERR_IO');
    } finally {
      clearFaults();
    }
    const cursors = join(logDir, 'cursors');
    const left = existsSync(cursors) ? readdirSync(cursors) : [];
    assert.equal(left, [], `the failed open left ${left.join(', ')}`);
    // The next open starts a new cursor at the oldest record.
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('a') });
    try {
      assert.is(c.committedOffset, 0);
      assert.is((await c.nonblockingProcess(null, () => 'commit')).committed, 5);
    } finally {
      await c.close();
    }
  });
}

test.run();
