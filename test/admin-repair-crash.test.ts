/**
 * A repair stopped after it removed every segment and before it created the empty one at the cut
 * (the create fails with ENOSPC, as a crash there would stop it): the failure is a coded LogError,
 * and a second repair finishes the log so that it opens.
 */
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, LogError, repairLog } from '../dist/index.js';
import { suite, tempDir } from './kit.js';
import { withFaults } from './faults.js';
import { logWithCursor } from './repair-kit.js';

const test = suite('admin-repair-crash');

test('repair that stops after removing every segment: a second repair finishes, and the failure is a LogError', async () => {
  const { logDir, segs } = await logWithCursor();
  const first = readFileSync(join(logDir, segs[0]!));
  first[0] ^= 0xff; // the first segment's header: everything goes, an empty segment at offset 0 is due
  writeFileSync(join(logDir, segs[0]!), first);

  let err: unknown = null;
  await withFaults({ rules: [{ op: 'open', path: '\\.seg\\.new$', thread: 'main', nth: 1, effect: { errno: 'ENOSPC' } }] }, async () => {
    try {
      await repairLog(logDir, { backupDir: join(tempDir(), 'b1') });
    } catch (e) {
      err = e;
    }
  });
  console.log('first repair failed with:', err instanceof LogError ? `LogError ${(err as LogError).code}` : `plain ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
  console.log('files left:', readdirSync(logDir).sort().join(' '));

  const second = await repairLog(logDir, { backupDir: join(tempDir(), 'b2') });
  console.log('second repair: cut =', JSON.stringify(second.cut), 'actions =', second.actions.length);
  let openErr: unknown = null;
  try {
    const p = await Producer.open({ logDir });
    console.log('producer opened; next offset would be', p.append('x'));
    await p.close();
  } catch (e) {
    openErr = e;
    console.log('Producer.open after the second repair:', (e as LogError).code, (e as Error).message);
  }
  assert.ok(err instanceof LogError, 'the failure of repairLog is a coded LogError');
  assert.is(openErr, null, 'a second repair leaves a log that opens');
});

test.run();
