/**
 * A transactional open that creates its cursor file and then fails (here: the open of the segment
 * its reader seeks in) abandons the cursor; when closing the new cursor file fails as well, the file
 * is still removed: the failed open leaves cursors/ as it found it (a cursor left at the log start
 * would stand for a consumer that never opened, holding retention back).
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { logOf, rejectsWith, suite } from './kit.js';
import { clearFaults, setFaults } from './faults.js';

const test = suite('cursor-abandon-close-error');

test('an open that fails after creating its cursor, whose close fails too, leaves no cursor file', async () => {
  const logDir = await logOf(5);
  setFaults({
    rules: [
      // The third open of the segment on the main thread is the reader's seek, after the cursor file is made.
      { op: 'open', path: '00000000000000000000\\.seg$', thread: 'main', nth: 3, effect: { errno: 'EMFILE' } },
      { op: 'close', path: 'client\\.a\\.cursor$', thread: 'main', nth: 1, effect: { errno: 'EIO' } },
    ],
  });
  try {
    await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('a') }), 'ERR_IO');
  } finally {
    clearFaults();
  }
  const cursors = join(logDir, 'cursors');
  const left = existsSync(cursors) ? readdirSync(cursors) : [];
  assert.equal(left, [], `the failed open left ${left.join(', ')}`);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('a') });
  try {
    assert.is(c.committedOffset, 0);
  } finally {
    await c.close();
  }
});

test.run();
