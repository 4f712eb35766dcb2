/**
 * repairLog's backupDir must lie outside the log directory: the log directory itself and a folder
 * inside it (cursors/) are refused with ERR_INVALID_OPTION before anything changes.
 */
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogError, repairLog } from '../dist/index.js';
import { digestDir, suite } from './kit.js';
import { logWithCursor } from './repair-kit.js';

const test = suite('admin-repair-backup');

async function damagedLastSegment(): Promise<string> {
  const { logDir, segs } = await logWithCursor();
  const last = join(logDir, segs[segs.length - 1]!);
  const b = readFileSync(last);
  b[40] ^= 0xff; // the first frame of the newest segment
  writeFileSync(last, b);
  return logDir;
}

test('backupDir = the log directory: refused before anything changes', async () => {
  const logDir = await damagedLastSegment();
  const before = digestDir(logDir);
  const names = readdirSync(logDir).sort();
  const err = await repairLog(logDir, { backupDir: logDir }).then(() => null, (e) => e as LogError);
  console.log('repairLog(backupDir = logDir):', err === null ? 'resolved' : `${err.code} ${err.message}`);
  console.log('new files in the log directory:', readdirSync(logDir).sort().filter((n) => !names.includes(n)));
  assert.ok(err instanceof LogError && err.code === 'ERR_INVALID_OPTION', 'a backup inside the log is bad input');
  assert.is(digestDir(logDir), before, 'the log directory is untouched');
});

test('backupDir = <log>/cursors: refused', async () => {
  const logDir = await damagedLastSegment();
  const r = await repairLog(logDir, { backupDir: join(logDir, 'cursors') }).then(() => null, (e) => e as LogError);
  console.log('repairLog(backupDir = logDir/cursors):', r === null ? 'resolved' : r.code, '; cursors/ holds', readdirSync(join(logDir, 'cursors')));
  assert.ok(r instanceof LogError && r.code === 'ERR_INVALID_OPTION', 'a backup inside the log is bad input');
});

test.run();
