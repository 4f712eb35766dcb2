/**
 * A repair stopped after its backup was (partly) written, then run again with the same backup
 * directory, finishes the log: the copies the first one left (whole, or cut short by the stop) are of
 * the bytes still to go, so they are written again, never an ERR_IO for a file that exists. A file
 * there that holds other bytes is still refused, and kept.
 */
import * as assert from 'uvu/assert';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, LogError, repairLog, verifyLog } from '../dist/index.js';
import { readTexts, suite, tempDir } from './kit.js';
import { withFaults, type FaultRule } from './faults.js';
import { logWithCursor, texts } from './repair-kit.js';

const test = suite('repair-backup-reused');

/** The repair kit's log with a byte flipped in the middle of its third segment: the rest of it and every later segment go. */
async function damaged(): Promise<{ logDir: string; segs: string[] }> {
  const { logDir, segs } = await logWithCursor();
  const b = readFileSync(join(logDir, segs[2]!));
  b[Math.floor(b.length / 2)] ^= 0xff;
  writeFileSync(join(logDir, segs[2]!), b);
  return { logDir, segs };
}

async function failing(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => null, (e: unknown) => e);
}

/** A first repair into `backupDir` stopped by the fault `rule` (a coded error), then a second one with the same backupDir, which must finish. */
async function stopThenRepairAgain(logDir: string, backupDir: string, rule: FaultRule): Promise<void> {
  const err = await withFaults({ rules: [rule] }, () => failing(repairLog(logDir, { backupDir })));
  console.log('first repair:', err instanceof LogError ? err.code : err, '; backup holds', readdirSync(backupDir).sort().join(' '));
  assert.ok(err instanceof LogError, 'the first repair stops with a coded error');
  const again = await failing(repairLog(logDir, { backupDir }));
  console.log('second repair, same backupDir:', again instanceof LogError ? `${again.code} ${again.message}` : again === null ? 'resolved' : again);
  assert.is(again, null, 'a second repair with the same backup directory finishes');
}

async function opens(logDir: string): Promise<void> {
  const p = await Producer.open({ logDir });
  await p.close();
}

test('stopped after the backup was whole (the first unlink fails): the same backupDir again finishes', async () => {
  const { logDir } = await damaged();
  const backupDir = join(tempDir(), 'backup');
  await stopThenRepairAgain(logDir, backupDir, { op: 'unlink', path: '\\.(seg|idx)$', thread: 'main', nth: 1, effect: { errno: 'EIO' } });
  assert.ok((await verifyLog(logDir)).ok, 'the log verifies');
  await opens(logDir);
});

test('stopped in the middle of the copies (a read fails): the same backupDir again finishes, every copy whole', async () => {
  const { logDir, segs } = await damaged();
  const originals = new Map(segs.slice(3).map((s) => [s, readFileSync(join(logDir, s))]));
  const backupDir = join(tempDir(), 'backup');
  // segs[4] is read for its header's format version twice first (repair refuses a newer one before
  // it writes the lock file, and again under the lock), then only to be copied, after segs[3] and its
  // index: its copy is made, then stays empty.
  await stopThenRepairAgain(logDir, backupDir, { op: 'read', path: `${segs[4]!.replace('.', '\\.')}$`, thread: 'main', nth: 3, effect: { errno: 'EIO' } });
  for (const [name, bytes] of originals) assert.ok(readFileSync(join(backupDir, name)).equals(bytes), `${name}: the backup holds it whole`);
  const left = await readTexts(logDir);
  assert.equal(left, texts.slice(0, left.length), 'the log is a prefix of what was written');
  await opens(logDir);
});

test('a file in the backup directory holding other bytes is refused, coded, and kept; nothing changes', async () => {
  const { logDir, segs } = await damaged();
  const backupDir = join(tempDir(), 'backup');
  const dry = await repairLog(logDir, { dryRun: true });
  const removed = dry.actions.find((a) => a.action === 'remove')!.file;
  assert.ok(segs.includes(removed) || removed.endsWith('.idx'));
  mkdirSync(backupDir);
  writeFileSync(join(backupDir, removed), 'an older backup');
  const before = readdirSync(logDir).sort();
  const err = await failing(repairLog(logDir, { backupDir }));
  console.log('repair over a foreign backup file:', err instanceof LogError ? `${err.code} ${err.message}` : err);
  assert.ok(err instanceof LogError, 'refused with a coded error');
  assert.is(readFileSync(join(backupDir, removed), 'utf8'), 'an older backup', 'the older backup is kept');
  assert.equal(readdirSync(logDir).sort(), before, 'the log keeps its files');
});

test.run();
