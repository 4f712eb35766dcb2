/**
 * Opening an existing cursor file for its commits fails (EMFILE, EIO): Consumer.open rejects with a
 * coded LogError (ERR_IO) naming the cursor, not the raw system error, and releases the cursor's lock.
 */
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, LogError } from '../dist/index.js';
import { suite, logOf } from './kit.js';
import { withFaults } from './faults.js';

const test = suite('cursor-open-errors');

test('an existing cursor file that cannot be opened for writing: ERR_IO, and the lock is released', async () => {
  const logDir = await logOf(3);
  const first = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('e') });
  await first.nonblockingProcess(1, () => 'commit');
  await first.close();
  // The first open of the cursor file reads it; the second opens it for the commits.
  const plan = { rules: [{ op: 'open' as const, path: 'client\\.e\\.cursor$', thread: 'main' as const, nth: 2, effect: { errno: 'EMFILE' } }] };
  const e = await withFaults(plan, () => Consumer.open({ logDir, style: ConsumerStyle.clientTx('e') }).then(() => null, (x: unknown) => x));
  assert.ok(e instanceof LogError, `Consumer.open rejected with ${String(e)}`);
  assert.is((e as LogError).code, 'ERR_IO');
  assert.match((e as LogError).message, /client\.e\.cursor/);
  assert.equal(readdirSync(join(logDir, 'cursors')), ['client.e.cursor'], 'the lock is released');
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('e') });
  assert.is(again.committedOffset, 1);
  await again.close();
});

test.run();
