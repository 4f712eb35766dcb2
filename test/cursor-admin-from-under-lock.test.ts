/**
 * resetCursor and deleteCursor report where the cursor was when they moved or removed it: the value
 * read under the cursor's lock, not one read before it. A consumer that held the cursor while the
 * admin call looked at the file, then committed further and closed before the call took the lock,
 * left the cursor at a later offset than the one first read; reporting the first one would send an
 * operator who undoes the reset (or recreates the deleted cursor) to an offset the consumer had
 * already passed. The fault injector holds the admin command (a CLI child process) just before it
 * opens the cursor's lock file, while this process commits and closes.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { logOf, suite, tempDir, waitFor } from './kit.js';
import { CliProcess, killCliProcesses } from './cli-kit.js';
import { clearFaults, readTrace, setFaults } from './faults.js';

const test = suite('cursor-admin-from-under-lock');
test.after(killCliProcesses);

/**
 * A log of 10 records whose cursor 'b' stands at 3 while the CLI runs `args` (held before it opens
 * the lock file); meanwhile the consumer commits up to 7 and closes. Returns the command's JSON.
 */
async function raceWithCommits(args: (logDir: string) => string[]): Promise<Record<string, unknown>> {
  const logDir = await logOf(10);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('b') });
  await c.nonblockingProcess(3, () => 'commit');
  assert.is(c.committedOffset, 3);
  const trace = join(tempDir(), 'trace');
  setFaults({ trace, rules: [{ op: 'open', path: 'client\\.b\\.lock$', thread: 'main', nth: 1, effect: { delayMs: 3000 } }] });
  let cmd: CliProcess;
  try {
    cmd = new CliProcess(args(logDir));
  } finally {
    clearFaults(); // the child has its copy of the environment
  }
  await waitFor(() => readTrace(trace).some((l) => l.fired && l.op === 'open'), 'the command to reach the lock file', 20_000);
  await c.nonblockingProcess(4, () => 'commit');
  await c.close();
  assert.is(c.committedOffset, 7);
  await cmd.exited;
  assert.is(cmd.exit?.code, 0, cmd.stderr);
  return JSON.parse(cmd.stdout) as Record<string, unknown>;
}

test('resetCursor: `from` is the offset the cursor held when it was reset', async () => {
  const r = await raceWithCommits((logDir) => ['cursor', 'reset', logDir, 'b', '--to', '0', '--json']);
  assert.equal(r, { id: 'b', from: 7, to: 0 });
});

test('deleteCursor: `committedOffset` is the offset the cursor held when it was deleted', async () => {
  const r = await raceWithCommits((logDir) => ['cursor', 'delete', logDir, 'b', '--json']);
  assert.equal(r, { id: 'b', committedOffset: 7 });
});

test.run();
