/**
 * A command that succeeded exits with 0 even when its message on stderr cannot be written (stderr's
 * reader is gone, or stderr is a full device): there is nowhere to say that, and the work is done.
 * `cursor reset` says what it did on stderr only; before, the failed write crashed the process with
 * exit code 1 after the cursor had moved.
 */
import * as assert from 'uvu/assert';
import { openSync, closeSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { liveLogOf, suite } from './kit.js';
import { CLI, killCliProcesses } from './cli-kit.js';

const test = suite('cli-stderr-closed');
test.after(killCliProcesses);

/** Runs the CLI with stderr given by `stderr`: 'closed' (a pipe whose reader is gone) or 'full' (/dev/full). */
async function run(stderr: 'closed' | 'full', args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const fd = stderr === 'full' ? openSync('/dev/full', 'w') : 'pipe';
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', fd] });
  if (typeof fd === 'number') closeSync(fd);
  else child.stderr!.destroy(); // the reader goes away before the child writes anything
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function committed(logDir: string): Promise<number> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  try {
    return c.committedOffset ?? -1;
  } finally {
    await c.close();
  }
}

test('cursor reset exits with 0 when its message cannot be written', async () => {
  const { logDir, p } = await liveLogOf(10);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.nonblockingProcess(4, () => 'commit');
  await c.close();
  for (const [how, to] of [['closed', 2], ['full', 6]] as const) {
    const r = await run(how, ['cursor', 'reset', logDir, 'billing', '--to', String(to)]);
    assert.equal(r, { code: 0, signal: null }, `stderr ${how}`);
    assert.is(await committed(logDir), to, `stderr ${how}: the cursor moved`);
  }
  await p.close();
});

test.run();
