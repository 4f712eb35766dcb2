/**
 * unlockLog when the log's cursors/ folder cannot be listed (EIO): the cursors' lock files cannot be
 * found, so the call rejects with a coded error and removes nothing, never reports the producer's
 * lock alone as if the log had no cursor locks. A log with no cursors/ folder has none: listed as before.
 */
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogError, unlockLog } from '../dist/index.js';
import { digestDir, suite } from './kit.js';
import { withFaults, type FaultPlan } from './faults.js';
import { logWithCursor } from './repair-kit.js';

const test = suite('unlock-cursors-unlisted');

test('cursors/ cannot be listed: unlock and its dry run reject with ERR_IO and change nothing', async () => {
  const { logDir } = await logWithCursor();
  writeFileSync(join(logDir, 'producer.lock'), '12345\n'); // what a killed producer leaves
  writeFileSync(join(logDir, 'cursors', 'client.billing.lock'), '12345\n'); // and a killed consumer
  const before = digestDir(logDir);
  const plan: FaultPlan = { rules: [{ op: 'readdir', path: '/cursors$', nth: 1, persistent: true, effect: { errno: 'EIO' } }] };
  const got: string[] = [];
  await withFaults(plan, async () => {
    for (const dryRun of [true, false]) {
      const r = await unlockLog(logDir, { dryRun }).then((x) => x.map((f) => f.file).join(','), (x: unknown) => (x instanceof LogError ? x.code : String(x)));
      got.push(`${dryRun ? 'dry run' : 'unlock'}: ${r}`);
    }
  });
  assert.equal(got, ['dry run: ERR_IO', 'unlock: ERR_IO']);
  assert.is(digestDir(logDir), before, 'nothing changed');
  const r = await unlockLog(logDir);
  assert.equal(r.map((f) => [f.file, f.removed]), [['producer.lock', true], ['cursors/client.billing.lock', true]]);
});

test.run();
