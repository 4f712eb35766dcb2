/**
 * resetCursor checks its target before it takes the cursor's lock: a target outside the log fails
 * with ERR_INVALID_OPTION and leaves the directory byte-identical, a lock file a killed consumer
 * left included (none is created when there was none).
 */
import * as assert from 'uvu/assert';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resetCursor } from '../dist/index.js';
import { digestDir, rejectsWith, suite } from './kit.js';
import { logWithCursor, N } from './repair-kit.js';

const test = suite('cursor-reset-bad-target');

test('an offset past the log, with and without a leftover lock file: ERR_INVALID_OPTION, nothing changed', async () => {
  const { logDir } = await logWithCursor();
  const lock = join(logDir, 'cursors', 'client.billing.lock');
  assert.not.ok(existsSync(lock));
  let before = digestDir(logDir);
  await rejectsWith(resetCursor(logDir, 'billing', { to: N + 1 }), 'ERR_INVALID_OPTION');
  assert.is(digestDir(logDir), before, 'no lock file is created');
  // What a consumer killed with SIGKILL leaves: its lock file, naming a process that is gone.
  writeFileSync(lock, JSON.stringify({ pid: 999999, start: '1', host: 'elsewhere', thread: 0 }));
  before = digestDir(logDir);
  await rejectsWith(resetCursor(logDir, 'billing', { to: 10_000_000 }), 'ERR_INVALID_OPTION');
  assert.is(digestDir(logDir), before, 'the leftover lock file is kept');
  const r = await resetCursor(logDir, 'billing', { to: 'oldest' });
  assert.is(r.to, 0);
});

test.run();
