/**
 * Repair and the cursor tools exclude each other through the cursors' locks: repair takes every
 * cursor's lock before its first change (a consumer or a reset holding one, even a cursor before the
 * cut, refuses it with ERR_CURSOR_LOCKED, nothing changed), and a reset resolves its target under the
 * cursor's lock, so a reset run while repair cuts is refused instead of writing the old end past the
 * new one.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, inspectLog, repairLog, resetCursor, verifyLog } from '../dist/index.js';
import { digestDir, rejectsWith, suite, tempDir } from './kit.js';
import { logWithCursor } from './repair-kit.js';

const test = suite('repair-vs-admin');
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** The repair kit's log (cursor billing at its end) with cursor `early` at 10, and a byte flipped in segment `victim`. */
async function damagedWithEarlyCursor(victim: number): Promise<string> {
  const { logDir, segs } = await logWithCursor();
  await resetCursor(logDir, 'billing', { to: 10 }).then(() => undefined); // both cursors before any cut
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('early') });
  await c.nonblockingProcess(10, () => 'commit');
  await c.close();
  const b = readFileSync(join(logDir, segs[victim]!));
  b[Math.floor(b.length / 2)] ^= 0xff;
  writeFileSync(join(logDir, segs[victim]!), b);
  return logDir;
}

test('a consumer holding a cursor before the cut refuses repair, and nothing changes', async () => {
  const logDir = await damagedWithEarlyCursor(2);
  const before = digestDir(logDir);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('early') });
  await rejectsWith(repairLog(logDir, { backupDir: join(tempDir(), 'b') }), 'ERR_CURSOR_LOCKED');
  await rejectsWith(repairLog(logDir, { dryRun: true }), 'ERR_CURSOR_LOCKED');
  await c.close();
  assert.is(digestDir(logDir), before, 'the log directory is untouched');
});

test('a cursor reset to the latest while repair cuts is refused, and no cursor ends past the log', async () => {
  const logDir = await damagedWithEarlyCursor(2);
  const reset = `import { resetCursor } from ${JSON.stringify(DIST)};
    try { const r = await resetCursor(${JSON.stringify(logDir)}, 'billing', { to: 'latest' }); console.log('reset to', r.to); }
    catch (e) { console.log(e.code); }`;
  const seen: string[] = [];
  const r = await repairLog(logDir, {
    backupDir: join(tempDir(), 'backup'),
    // While the backup is copied (repair holds its locks), another process resets a cursor.
    onProgress: () => {
      if (seen.length === 0) seen.push(spawnSync(process.execPath, ['--input-type=module', '-e', reset], { encoding: 'utf8' }).stdout.trim());
    },
  });
  assert.equal(seen, ['ERR_CURSOR_LOCKED']);
  const info = await inspectLog(logDir);
  assert.ok(info.cursors.every((c) => c.committedOffset !== null && c.committedOffset <= r.cut!.offset), JSON.stringify(info.cursors));
  assert.ok((await verifyLog(logDir)).ok);
  // After repair, a reset to the latest lands on the repaired end.
  assert.is((await resetCursor(logDir, 'billing', { to: 'latest' })).to, info.nextOffset);
});

test.run();
