/**
 * A cursor reset that fails while it writes the cursor anew (here: a directory stands where the
 * cursor file should be, so renaming the new file over it fails) reports the failure and leaves the
 * cursors folder as it was: the temporary `<name>.cursor.new` it wrote is removed.
 */
import * as assert from 'uvu/assert';
import { mkdirSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, resetCursor } from '../dist/index.js';
import { digestDir, logOf, rejectsWith, suite } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('cursor-reset-temp-file');
test.after(killCliProcesses);

/** A closed log of 10 records whose cursor `billing` has a directory in place of its file. */
async function logWithDirectoryCursor(): Promise<{ logDir: string; file: string }> {
  const logDir = await logOf(10);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.close();
  const file = join(logDir, 'cursors', 'client.billing.cursor');
  unlinkSync(file);
  mkdirSync(file);
  return { logDir, file };
}

test('resetCursor: the error names the failed rename, and no .cursor.new is left', async () => {
  const { logDir, file } = await logWithDirectoryCursor();
  const before = digestDir(logDir);
  const err = await rejectsWith(resetCursor(logDir, 'billing', { to: 0 }), 'ERR_IO');
  assert.match(err.message, /rename/);
  assert.equal(readdirSync(join(logDir, 'cursors')), ['client.billing.cursor']);
  assert.is(digestDir(logDir), before, 'the log directory is as it was');
  rmSync(file, { recursive: true });
});

test('cursor reset on the command line: exit 1, and the cursors folder is as it was', async () => {
  const { logDir, file } = await logWithDirectoryCursor();
  const before = readdirSync(join(logDir, 'cursors')).sort();
  const r = cli('cursor', 'reset', logDir, 'billing', '--to', '0');
  const after = readdirSync(join(logDir, 'cursors')).sort();
  console.log(`  exit ${r.status}: ${r.stderr.trim()}\n  cursors/ before ${JSON.stringify(before)} after ${JSON.stringify(after)}`);
  assert.is(r.status, 1);
  assert.equal(after, before);
  rmSync(file, { recursive: true });
});

test.run();
