/**
 * Segments that the log's own files show were there and are gone: every segment gone while
 * durable.offset or start.offset names an offset above 0, or start.offset past the newest segment's
 * base. Producer.open refuses with ERR_LOG_CORRUPT and leaves the directory as it was (it creates no
 * segment 0, so the log start never moves back and no offset is handed out twice); repairLog then
 * goes on from the offset those files name, and verifyLog reports the damage.
 */
import * as assert from 'uvu/assert';
import { copyFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, repairLog, verifyLog } from '../dist/index.js';
import { digestDir, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('recovery-lost-segments');

const names = (dir: string): string[] => readdirSync(dir).sort();
const startOffset = (dir: string): number => Number(readFileSync(join(dir, 'start.offset')).readBigUInt64LE(0));

/** A closed log of 40 records in segments of about 1 KiB. */
async function logOf40(): Promise<string> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, fileRollSize: 1024 });
  for (let i = 0; i < 40; i++) p.append(`record ${i} ${'x'.repeat(60)}`);
  await p.close();
  return logDir;
}

/** A closed log whose retention moved the start above 0 (100 records, at most about 2 KiB kept); its start. */
async function retainedLog(): Promise<{ logDir: string; start: number }> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, fileRollSize: 1024, maxTotalBytes: 2048 });
  for (let i = 0; i < 100; i++) {
    p.append(`record ${i} ${'x'.repeat(60)}`);
    if (i % 10 === 9) await p.flush();
  }
  await p.close();
  const start = startOffset(logDir);
  assert.ok(start > 0, `retention moved the start: ${start}`);
  return { logDir, start };
}

function remove(dir: string, keep: (name: string) => boolean): void {
  for (const n of names(dir)) if (!keep(n)) rmSync(join(dir, n));
}

/** The offset the next record gets, appended by a producer that opens the log. */
async function nextAppend(logDir: string): Promise<number> {
  const p = await Producer.open({ logDir });
  const o = p.append('after');
  await p.close();
  return o;
}

/** Open refused with ERR_LOG_CORRUPT naming `file`, and the directory byte-identical afterwards. */
async function refusedUnchanged(logDir: string, file: string): Promise<void> {
  const before = digestDir(logDir);
  const beforeNames = names(logDir);
  const err = await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_CORRUPT');
  assert.match(err.message, file);
  assert.equal(names(logDir), beforeNames, 'the refused open left no file behind');
  assert.is(digestDir(logDir), before, 'the refused open changed the directory');
}

test('every segment gone, durable.offset at 40: refused, nothing created; repair goes on at 40', async () => {
  const logDir = await logOf40();
  remove(logDir, (n) => !n.endsWith('.seg') && !n.endsWith('.idx'));
  await refusedUnchanged(logDir, 'durable.offset');
  await refusedUnchanged(logDir, 'durable.offset'); // a second attempt fails the same way
  const v = await verifyLog(logDir);
  assert.ok(!v.ok, 'verify reports the damage');
  const r = await repairLog(logDir, { backupDir: join(tempDir(), 'b') });
  assert.is(r.cut?.offset, 40);
  assert.is(await nextAppend(logDir), 40);
});

test('every segment and durable.offset gone, start.offset at S > 0: refused; repair goes on at S', async () => {
  const { logDir, start } = await retainedLog();
  remove(logDir, (n) => n === 'start.offset');
  await refusedUnchanged(logDir, 'start.offset');
  const v = await verifyLog(logDir);
  assert.ok(v.findings.some((f) => f.kind === 'start-offset' && f.severity === 'damage'), JSON.stringify(v.findings));
  const r = await repairLog(logDir, { backupDir: join(tempDir(), 'b') });
  assert.is(r.cut?.offset, start);
  assert.is(await nextAppend(logDir), start);
  assert.is(startOffset(logDir), start, 'the recorded log start did not move back');
});

test('start.offset past every segment left (the segments from it on gone): refused; repair goes on at the start', async () => {
  const { logDir, start } = await retainedLog();
  // What is left: only segments below the recorded start (copied from a shorter log), no durable.offset.
  const old = await logOf40();
  remove(logDir, (n) => n === 'start.offset');
  for (const n of names(old)) if (n.endsWith('.seg') || n.endsWith('.idx')) copyFileSync(join(old, n), join(logDir, n));
  const bases = names(logDir).filter((n) => n.endsWith('.seg')).map((n) => Number(n.slice(0, 20)));
  assert.ok(bases.length > 1 && bases.every((b) => b < start), `${bases} below ${start}`);
  await refusedUnchanged(logDir, 'start.offset');
  const v = await verifyLog(logDir);
  assert.ok(v.findings.some((f) => f.kind === 'start-offset' && f.severity === 'damage'), JSON.stringify(v.findings));
  const backupDir = join(tempDir(), 'b');
  const r = await repairLog(logDir, { backupDir });
  assert.is(r.cut?.offset, start);
  assert.equal(r.actions.filter((a) => a.action === 'remove' && a.file.endsWith('.seg')).length, bases.length, JSON.stringify(r.actions));
  assert.ok(names(backupDir).length >= bases.length, 'the removed segments are in the backup');
  assert.is(await nextAppend(logDir), start);
  assert.is(startOffset(logDir), start, 'the recorded log start did not move back');
});

test.run();
