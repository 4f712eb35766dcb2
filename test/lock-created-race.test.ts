/**
 * Two openers of one owner lock race for a lock file neither found: one creates it, the other opens the
 * file just created and locks it first. The creator's try then meets a lock held by another owner: that
 * is ERR_CURSOR_LOCKED (or ERR_LOG_LOCKED for a producer), as for a lock file that was already there,
 * not ERR_IO. The creator's try is held back (a delay of the fault layer, in a child process) until the
 * other opener here holds the lock.
 */
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { logOf, suite, waitFor } from './kit.js';
import { Child } from './child.js';
import { FAULT_IO } from './faults.js';

const test = suite('lock-created-race');

test('a cursor lock file created by one opener and locked first by another: ERR_CURSOR_LOCKED, not ERR_IO', async () => {
  const logDir = await logOf(3);
  const first = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('race') });
  await first.close(); // cursors/ and the cursor file exist; the lock file is gone
  const lock = join(logDir, 'cursors', 'client.race.lock');
  assert.not.ok(existsSync(lock));
  const plan = { rules: [{ op: 'tryLock', path: `${basename(logDir)}/cursors/client\\.race\\.lock$`, nth: 1, effect: { delayMs: 2000 } }] };
  const child = Child.fork('tx-open.mjs', [logDir, 'race'], {
    execArgv: [],
    env: { ...process.env, REACTIVE_LOG_TEST_FILE_IO: FAULT_IO, REACTIVE_LOG_FAULTS: JSON.stringify(plan) },
  });
  await child.next('ready');
  child.proc.send({ type: 'open' });
  // The child created the lock file and waits before its try: this consumer opens the file and locks it.
  await waitFor(() => existsSync(lock), 'the child to create the lock file');
  const here = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('race') });
  try {
    const answer = await child.next('open-failed', 20_000).catch(async () => child.next('opened', 1));
    assert.is(answer.code, 'ERR_CURSOR_LOCKED', `the child's open: ${String(answer.message)}`);
    assert.is((await here.nonblockingProcess(null, () => 'commit')).committed, 3, 'this consumer holds the cursor');
  } finally {
    await here.close();
    child.proc.disconnect();
    await child.exited;
  }
});

test.run();
