/**
 * A repair refused while it copies the backup (a backup directory that holds a file of a name repair
 * copies to, as an earlier repair's does) changes nothing in the log directory: the lock files a
 * killed producer and a killed consumer left stay as they were.
 */
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { repairLog } from '../dist/index.js';
import { digestDir, rejectsWith, suite, tempDir } from './kit.js';
import { logWithCursor } from './repair-kit.js';

const test = suite('repair-refused-backup-locks');

test('a backup copy that fails: ERR_IO, and the lock files dead owners left stay as they were', async () => {
  const { logDir, segs } = await logWithCursor();
  const b = readFileSync(join(logDir, segs[2]!));
  b[Math.floor(b.length / 2)] ^= 0xff;
  writeFileSync(join(logDir, segs[2]!), b);
  // What a killed producer and a killed consumer leave: owner information naming a process that is gone.
  const dead = JSON.stringify({ pid: 2147483646, start: '1', host: hostname(), thread: 0 });
  writeFileSync(join(logDir, 'producer.lock'), dead);
  writeFileSync(join(logDir, 'cursors', 'client.billing.lock'), dead);
  const backupDir = join(tempDir(), 'backup');
  mkdirSync(backupDir);
  writeFileSync(join(backupDir, segs[segs.length - 1]!), 'an earlier repair\'s copy');
  const before = digestDir(logDir);
  await rejectsWith(repairLog(logDir, { backupDir }), 'ERR_IO');
  assert.is(digestDir(logDir), before, 'the refused repair left the log directory as it was');
});

test.run();
