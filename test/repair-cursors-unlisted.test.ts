/**
 * repairLog when the log's cursors/ folder cannot be listed (EIO, EACCES): repair cannot tell which
 * transactional cursors point past the cut, nor take their locks, so it must fail with a coded error
 * and change nothing, never cut the log and leave a cursor past its new end (its consumer would pass
 * over the records appended next). A log with no cursors/ folder has no cursor: repaired as before.
 */
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogError, inspectLog, repairLog } from '../dist/index.js';
import { digestDir, suite, tempDir } from './kit.js';
import { withFaults, type FaultPlan } from './faults.js';
import { logWithCursor } from './repair-kit.js';

const test = suite('repair-cursors-unlisted');

test('cursors/ cannot be listed: repair and its dry run reject with ERR_IO and change nothing', async () => {
  const { logDir, segs } = await logWithCursor();
  const victim = join(logDir, segs[2]!);
  const b = readFileSync(victim);
  b[Math.floor(b.length / 2)] ^= 0xff;
  writeFileSync(victim, b);
  const before = digestDir(logDir);
  const plan: FaultPlan = { rules: [{ op: 'readdir', path: '/cursors$', nth: 1, persistent: true, effect: { errno: 'EIO' } }] };
  const got: string[] = [];
  await withFaults(plan, async () => {
    for (const dryRun of [true, false]) {
      const e = await repairLog(logDir, { dryRun, backupDir: join(tempDir(), 'backup') }).then(() => null, (x: unknown) => x);
      got.push(`${dryRun ? 'dry run' : 'repair'}: ${e === null ? 'resolved' : e instanceof LogError ? e.code : String(e)}`);
    }
  });
  const billing = (await inspectLog(logDir)).cursors.find((c) => c.id === 'billing')!;
  assert.equal(got, ['dry run: ERR_IO', 'repair: ERR_IO']);
  assert.is(digestDir(logDir), before, 'nothing changed');
  // Without the fault, repair goes on and sets the cursor to the cut.
  const r = await repairLog(logDir, { backupDir: join(tempDir(), 'backup') });
  assert.is((await inspectLog(logDir)).cursors.find((c) => c.id === 'billing')!.committedOffset, r.cut!.offset);
  assert.ok(billing.committedOffset > r.cut!.offset);
});

test.run();
