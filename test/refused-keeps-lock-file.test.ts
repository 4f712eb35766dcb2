/**
 * A refused repairLog (ERR_CURSOR_LOCKED: a consumer holds a cursor) or Producer.open (recovery finds
 * damage: ERR_LOG_CORRUPT) leaves the directory as it was, lock files a dead owner left included
 * (same names, sizes, bytes and mtimes), and so is an empty one (what a release whose unlink failed
 * leaves). A call that goes on still takes such a lock file over.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, repairLog } from '../dist/index.js';
import { logOf, rejectsWith, suite, tempDir, listing } from './kit.js';
import { logWithCursor } from './repair-kit.js';

const test = suite('refused-keeps-lock-file');

const deadPid = Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim());
/** A lock file as a dead owner leaves it: its information, nobody holding it. */
function leaveStaleLock(path: string): void {
  writeFileSync(path, JSON.stringify({ pid: deadPid, start: '1', host: hostname() }));
}

function flipByte(file: string): void {
  const b = readFileSync(file);
  b[Math.floor(b.length / 2)] ^= 0xff;
  writeFileSync(file, b);
}

test('repair refused with ERR_CURSOR_LOCKED leaves stale producer and cursor lock files as they were', async () => {
  const { logDir, segs } = await logWithCursor();
  const c0 = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('zeta') }); // sorts after the stale cursor
  await c0.close();
  flipByte(join(logDir, segs[2]!));
  leaveStaleLock(join(logDir, 'producer.lock'));
  leaveStaleLock(join(logDir, 'cursors', 'client.billing.lock'));
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('zeta') });
  const before = listing(logDir);
  await rejectsWith(repairLog(logDir, { backupDir: join(tempDir(), 'b') }), 'ERR_CURSOR_LOCKED');
  assert.equal(listing(logDir), before);
  await c.close();
  // Once nobody holds a cursor, repair goes on and takes the stale locks over (their files go with it).
  const r = await repairLog(logDir, { backupDir: join(tempDir(), 'b') });
  assert.ok(r.cut !== null);
  assert.not.ok(existsSync(join(logDir, 'producer.lock')));
});

test('Producer.open refused by recovery leaves a stale producer.lock as it was; a good open takes it over', async () => {
  const logDir = await logOf(50, { fileRollSize: 1024 });
  const seg = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort()[0]!;
  const good = readFileSync(join(logDir, seg));
  flipByte(join(logDir, seg));
  leaveStaleLock(join(logDir, 'producer.lock'));
  const before = listing(logDir);
  await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_CORRUPT');
  assert.equal(listing(logDir), before);
  writeFileSync(join(logDir, seg), good);
  const p = await Producer.open({ logDir });
  const owner = JSON.parse(readFileSync(join(logDir, 'producer.lock'), 'utf8')) as { pid: number; recovered?: boolean };
  assert.is(owner.pid, process.pid);
  assert.is(owner.recovered, true);
  await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_LOCKED');
  await p.close();
  assert.not.ok(existsSync(join(logDir, 'producer.lock')));
});

test('an empty lock file (what a release whose unlink failed leaves) stays as it was under a refused repair and a refused open', async () => {
  const { logDir, segs } = await logWithCursor();
  flipByte(join(logDir, segs[2]!));
  writeFileSync(join(logDir, 'producer.lock'), '');
  writeFileSync(join(logDir, 'cursors', 'client.billing.lock'), '');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('zeta') });
  const before = listing(logDir);
  await rejectsWith(repairLog(logDir, { backupDir: join(tempDir(), 'b') }), 'ERR_CURSOR_LOCKED');
  assert.equal(listing(logDir), before, 'refused repair');
  await c.close();
  const { logDir: gapDir, segs: gapSegs } = await logWithCursor();
  const middle = readFileSync(join(gapDir, gapSegs[1]!));
  writeFileSync(join(gapDir, gapSegs[1]!), middle.subarray(0, 10)); // not the newest: damage, not a torn roll
  writeFileSync(join(gapDir, 'producer.lock'), '');
  const beforeOpen = listing(gapDir);
  await rejectsWith(Producer.open({ logDir: gapDir }), 'ERR_LOG_CORRUPT');
  assert.equal(listing(gapDir), beforeOpen, 'refused open');
});

test.run();
