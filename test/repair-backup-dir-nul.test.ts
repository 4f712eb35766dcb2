/**
 * repairLog's backupDir is a path: one holding a NUL character is bad input (ERR_INVALID_OPTION naming
 * backupDir, as for logDir), not ERR_IO, and the log is left untouched, dry run or not.
 */
import * as assert from 'uvu/assert';
import { repairLog, LogError } from '../dist/index.js';
import { digestDir, rejectsWith, suite } from './kit.js';
import { existingLog } from './bad-input-kit.js';

const test = suite('repair-backup-dir-nul');

test('repairLog with a backupDir holding a NUL character: ERR_INVALID_OPTION naming backupDir, the log untouched', async () => {
  const logDir = await existingLog();
  const before = digestDir(logDir);
  for (const dryRun of [true, false]) {
    const e = await rejectsWith(() => repairLog(logDir, { dryRun, backupDir: `${logDir}-backup\0x` }), 'ERR_INVALID_OPTION');
    assert.ok(e instanceof LogError);
    assert.is((e as LogError).details.option, 'backupDir', e.message);
  }
  assert.is(digestDir(logDir), before);
});

test.run();
