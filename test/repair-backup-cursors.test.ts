/**
 * repairLog's backup holds the cursor files it resets, under cursors/ as in the log: copying the
 * backup back restores every file repair changed, the cursors at their old offsets included.
 */
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspectLog, repairLog } from '../dist/index.js';
import { suite, tempDir } from './kit.js';
import { N, logWithCursor } from './repair-kit.js';

const test = suite('repair-backup-cursors');

test('a cursor repair resets is in the backup, byte for byte: restoring it brings the old offset back', async () => {
  const { logDir, segs } = await logWithCursor();
  const victim = join(logDir, segs[2]!);
  const b = readFileSync(victim);
  b[Math.floor(b.length / 2)] ^= 0xff;
  writeFileSync(victim, b);
  const cursorFile = join(logDir, 'cursors', 'client.billing.cursor');
  const before = readFileSync(cursorFile);
  const backupDir = join(tempDir(), 'backup');
  const report = await repairLog(logDir, { backupDir });
  assert.ok(report.actions.some((a) => a.action === 'reset-cursor' && a.file === 'billing'), 'the cursor is reset');
  assert.equal((await inspectLog(logDir)).cursors.map((c) => c.committedOffset), [report.cut!.offset]);
  const copy = join(backupDir, 'cursors', 'client.billing.cursor');
  let saved: Buffer | null = null;
  try {
    saved = readFileSync(copy);
  } catch { /* asserted below */ }
  assert.ok(saved !== null, `the backup holds ${copy}`);
  assert.equal(saved, before, 'the cursor file as it was before the repair');
  copyFileSync(copy, cursorFile);
  assert.equal((await inspectLog(logDir)).cursors.map((c) => c.committedOffset), [N], 'restored: the old offset');
});

test.run();
