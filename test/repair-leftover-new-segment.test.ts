/**
 * A repair stopped inside its own creation of the empty segment at the cut, after the temporary
 * `<base>.seg.new` was created and before it was renamed (its fdatasync fails, as a crash there would
 * stop it): the file is left behind, and a second repair still finishes the log so that it opens.
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, LogError, repairLog } from '../dist/index.js';
import { suite, tempDir } from './kit.js';
import { withFaults } from './faults.js';
import { logWithCursor } from './repair-kit.js';

const test = suite('repair-leftover-new-segment');

test('a .seg.new left by a repair stopped inside its create: a second repair finishes, the log opens', async () => {
  const { logDir, segs: all } = await logWithCursor();
  // The oldest segment gone as retention deletes it: the log starts above 0.
  rmSync(join(logDir, all[0]!));
  rmSync(join(logDir, all[0]!.replace('.seg', '.idx')));
  const segs = all.slice(1);
  const base = Number(segs[0]!.slice(0, 20));
  const first = readFileSync(join(logDir, segs[0]!));
  first[0] ^= 0xff; // the first segment's header: everything goes, an empty segment at its base is due
  writeFileSync(join(logDir, segs[0]!), first);

  let err: unknown = null;
  await withFaults({ rules: [{ op: 'fdatasync', path: '\\.seg\\.new$', thread: 'main', nth: 1, effect: { errno: 'EIO' } }] }, async () => {
    try {
      await repairLog(logDir, { backupDir: join(tempDir(), 'b1') });
    } catch (e) {
      err = e;
    }
  });
  assert.ok(err instanceof LogError, 'the first repair fails with a LogError');
  assert.ok(existsSync(join(logDir, `${segs[0]!}.new`)), `the temporary segment is left: ${readdirSync(logDir).sort().join(' ')}`);

  let secondErr: unknown = null;
  try {
    await repairLog(logDir, { backupDir: join(tempDir(), 'b2') });
  } catch (e) {
    secondErr = e;
    console.log('second repair:', (e as LogError).code, (e as Error).message);
  }
  assert.is(secondErr, null, 'a second repair finishes the log');
  const p = await Producer.open({ logDir });
  assert.is(p.append('x'), base, 'offsets go on from the cut');
  await p.close();
  assert.not.ok(existsSync(join(logDir, `${segs[0]!}.new`)));
});

test.run();
