/**
 * A sealed segment's index (`<base>.idx`, fsynced when the segment was sealed) that is damaged or
 * missing while every frame is whole: verifyLog reports the damage, and repairLog (and `reactive-log
 * repair`) rebuilds the index from the segment's frames (a temporary file renamed over it), the old one
 * copied to the backup when one is asked for, so that verify then finds the log clean.
 */
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repairLog, verifyLog } from '../dist/index.js';
import { cli } from './cli-kit.js';
import { digestDir, readTexts, suite, tempDir } from './kit.js';
import { logWithCursor, texts } from './repair-kit.js';

const test = suite('repair-sealed-index');

/** The repair kit's log with one bit flipped in the second entry of the second segment's index (a sealed one). */
async function flippedIndex(): Promise<{ logDir: string; idx: string; old: Buffer }> {
  const { logDir } = await logWithCursor();
  const idx = readdirSync(logDir).filter((f) => f.endsWith('.idx')).sort()[1]!;
  const old = readFileSync(join(logDir, idx));
  assert.ok(old.length >= 32, `${idx} holds ${old.length} bytes`);
  const b = Buffer.from(old);
  b[16 + 8] ^= 0x01; // the position of its second entry
  writeFileSync(join(logDir, idx), b);
  return { logDir, idx, old: b };
}

test('a flipped byte in a sealed index: repairLog rebuilds it, verify then finds no damage', async () => {
  const { logDir, idx, old } = await flippedIndex();
  const before = await verifyLog(logDir);
  console.log('verify before:', before.findings.filter((f) => f.severity === 'damage').map((f) => `${f.file}: ${f.message}`));
  assert.is(before.ok, false, 'verify reports the damaged index');

  const digest = digestDir(logDir);
  const dry = await repairLog(logDir, { dryRun: true });
  console.log('dry run:', dry.cut, dry.actions);
  assert.is(digestDir(logDir), digest, 'a dry run changes nothing');
  assert.equal(dry.actions.map((a) => [a.action, a.file]), [['rebuild-index', idx]]);

  const backup = join(tempDir(), 'backup');
  const report = await repairLog(logDir, { backupDir: backup });
  console.log('repair:', report.cut, report.actions, report.backupDir);
  assert.is(report.cut, null, 'no record is cut');
  assert.equal(report.actions.map((a) => a.action), ['rebuild-index']);
  assert.ok(readFileSync(join(backup, idx)).equals(old), 'the old index is in the backup');
  const after = await verifyLog(logDir);
  console.log('verify after:', after.findings.map((f) => `${f.severity} ${f.file}: ${f.message}`));
  assert.is(after.ok, true, 'no damage left');
  assert.is(after.findings.filter((f) => f.kind === 'index').length, 0, 'the index is sound');
  assert.equal(readdirSync(logDir).filter((f) => f.endsWith('.new')), [], 'no temporary file is left');
  assert.equal(await readTexts(logDir), texts, 'every record is still there');
});

test('reactive-log repair on a damaged sealed index exits 0; without --backup no backup is made', async () => {
  const { logDir } = await flippedIndex();
  const r = cli('repair', logDir);
  console.log('repair:', r.status, r.stdout, r.stderr);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, 'rebuild-index');
  assert.match(r.stdout, 'verify: no damage');
  const siblings = readdirSync(join(logDir, '..')).filter((n) => n.startsWith(`${logDir.split('/').pop()!}.repair-`));
  assert.equal(siblings, [], 'no backup directory was asked for, none is made');
  assert.is((await verifyLog(logDir)).ok, true);
});

test('a missing sealed index is rebuilt; a whole one, and the active one, are left alone', async () => {
  const { logDir } = await logWithCursor();
  const idxs = readdirSync(logDir).filter((f) => f.endsWith('.idx')).sort();
  rmSync(join(logDir, idxs[2]!));
  const warned = (await verifyLog(logDir)).findings.filter((f) => f.kind === 'index');
  console.log('verify before:', warned.map((f) => `${f.severity} ${f.file}: ${f.message}`));
  assert.is(warned.length, 1);
  const report = await repairLog(logDir);
  console.log('repair:', report.actions);
  assert.equal(report.actions.map((a) => [a.action, a.file]), [['rebuild-index', idxs[2]!]]);
  assert.ok(existsSync(join(logDir, idxs[2]!)), 'the index is there again');
  assert.is((await verifyLog(logDir)).findings.filter((f) => f.kind === 'index').length, 0);
  assert.is(report.backupDir, null, 'nothing removed, no backup asked for');
  const again = await repairLog(logDir);
  assert.equal(again.actions, [], 'a second repair finds nothing to do');
  assert.equal(await readTexts(logDir), texts);
});

test.run();
