/**
 * `cursor delete` (deleteCursor) on a log holding a segment of a newer format than this reactive-log
 * reads: refused with ERR_UNSUPPORTED_FORMAT, the directory untouched, as `cursor reset`, `info`,
 * `dump`, `repair` and `Producer.open` refuse that log (docs/format.md: such a log is refused and
 * nothing is changed). It removed the cursor file and exited 0.
 */
import * as assert from 'uvu/assert';
import { statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { deleteCursor, isLogError } from '../dist/index.js';
import { digestDir, suite } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';
import { setSegmentVersion } from './read-kit.js';
import { logWithCursor } from './repair-kit.js';

const test = suite('cursor-delete-newer-format');
test.after(killCliProcesses);

/** The directory's contents and the mtimes of the log directory and its cursors/ folder. */
function look(logDir: string): string {
  return `${digestDir(logDir)} ${statSync(logDir).mtimeMs} ${statSync(join(logDir, 'cursors')).mtimeMs}`;
}

async function newerLogWithCursor(): Promise<string> {
  const { logDir, segs } = await logWithCursor();
  setSegmentVersion(join(logDir, segs.at(-1)!), 3);
  const old = new Date('2020-01-01T00:00:00Z');
  utimesSync(logDir, old, old);
  utimesSync(join(logDir, 'cursors'), old, old);
  return logDir;
}

test('cursor delete (CLI): exit 1 with ERR_UNSUPPORTED_FORMAT, the cursor kept', async () => {
  const logDir = await newerLogWithCursor();
  const before = look(logDir);
  const r = cli('cursor', 'delete', logDir, 'billing');
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /\(ERR_UNSUPPORTED_FORMAT\)\n$/);
  assert.is(look(logDir), before);
  // As cursor reset does.
  const reset = cli('cursor', 'reset', logDir, 'billing', '--to', 'oldest');
  assert.is(reset.status, 1, reset.stderr);
  assert.match(reset.stderr, /\(ERR_UNSUPPORTED_FORMAT\)\n$/);
  assert.is(look(logDir), before);
});

test('deleteCursor: ERR_UNSUPPORTED_FORMAT, the cursor kept', async () => {
  const logDir = await newerLogWithCursor();
  const before = look(logDir);
  let caught: unknown = null;
  try {
    await deleteCursor(logDir, 'billing');
  } catch (e) {
    caught = e;
  }
  assert.ok(isLogError(caught) && caught.code === 'ERR_UNSUPPORTED_FORMAT', String(caught));
  assert.is(look(logDir), before);
});

test.run();
