/**
 * A consumer that creates durable.offset to hold the readers lock (a directory no producer has written
 * yet, or the file lost in an OS crash) must not keep the log's producer out: the producer, run by
 * the user the directory belongs to (or one of its group), writes that file. A consumer run by
 * another user (an operator's `reactive-log tail`, as root) gives the file it created the directory's
 * owner, group and write bits; so does a repair (run as root) that creates it to hold that lock and
 * leaves it. Runs the producer as `nobody` (uid 65534), so it needs root; otherwise
 * it is skipped.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Whence, repairLog } from '../dist/index.js';
import { suite, tempDir } from './kit.js';
import { damageThirdSegment } from './repair-kit.js';

const test = suite('readers-lock-owner');
const NOBODY = 65534;
const root = process.getuid?.() === 0;
const DIST = new URL('../dist/index.js', import.meta.url).href;

/**
 * Opens a producer on `logDir` as `nobody`, appends `records` records (several segments) and closes it:
 * 'ok', or the error's code and message.
 */
function produceAsNobody(logDir: string, gid: number, records = 1): string {
  const script = `import { Producer } from ${JSON.stringify(DIST)};
try {
  const p = await Producer.open({ logDir: ${JSON.stringify(logDir)}, fileRollSize: 2048, indexIntervalBytes: 512 });
  for (let i = 0; i < ${records}; i++) { p.append('record-' + i + '-' + 'y'.repeat(i % 40)); if (i % 7 === 6) await p.flush(); }
  await p.flush(); await p.close(); console.log('ok');
} catch (e) { console.log(String(e.code) + ' ' + e.message); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, uid: NOBODY, gid });
  return `${r.stdout.trim()}${r.stderr.trim() === '' ? '' : ` (stderr: ${r.stderr.trim().split('\n')[0]})`}`;
}

/** Why the cases cannot run here, or null. */
function cannotRun(): string | null {
  if (!root) return 'needs root to run the producer as another user';
  const dir = tempDir();
  chownSync(dir, NOBODY, NOBODY);
  const probe = produceAsNobody(dir, NOBODY);
  return probe === 'ok' ? null : `the user nobody cannot run a producer from this checkout: ${probe}`;
}
let skip: string | null = null;
test.before(() => {
  skip = cannotRun();
  if (skip !== null) console.log(`readers-lock-owner: SKIPPED: ${skip}`);
});

/** A consumer opened (as root) on `logDir`, before any producer: the producer then runs as nobody. */
async function consumerFirst(logDir: string, gid: number): Promise<void> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    assert.is(statSync(join(logDir, 'durable.offset')).size, 0, 'the consumer created durable.offset to hold the readers lock');
    assert.is(produceAsNobody(logDir, gid), 'ok', 'the producer opens beside the consumer');
    const m = c.iter().next();
    assert.is(m.done, false, 'the record the producer appended is read');
  } finally {
    await c.close();
  }
}

test('a directory the producer\'s user owns: a consumer run as root leaves durable.offset writable by that user', async () => {
  if (skip !== null) return;
  const logDir = tempDir();
  chmodSync(logDir, 0o755);
  chownSync(logDir, NOBODY, NOBODY);
  await consumerFirst(logDir, NOBODY);
  const st = statSync(join(logDir, 'durable.offset'));
  assert.equal([st.uid, st.gid], [NOBODY, NOBODY], 'the directory\'s owner and group');
});

test('a directory its group may write: the file gets the directory\'s group and its group write bit', async () => {
  if (skip !== null) return;
  const logDir = tempDir();
  chmodSync(logDir, 0o770);
  chownSync(logDir, 0, NOBODY);
  await consumerFirst(logDir, NOBODY);
  const st = statSync(join(logDir, 'durable.offset'));
  assert.is(st.mode & 0o777, 0o660, 'as the directory\'s read and write bits');
});

test('a repair run as root on a log that lost durable.offset leaves the file it created writable by the log\'s user', async () => {
  if (skip !== null) return;
  const logDir = tempDir();
  chmodSync(logDir, 0o755);
  chownSync(logDir, NOBODY, NOBODY);
  assert.is(produceAsNobody(logDir, NOBODY, 400), 'ok');
  rmSync(join(logDir, 'durable.offset')); // lost in an OS crash, with the third segment damaged
  damageThirdSegment(logDir);
  const report = await repairLog(logDir, { backupDir: join(tempDir(), 'backup') });
  assert.ok(report.cut !== null, 'the repair cut the log');
  assert.is(produceAsNobody(logDir, NOBODY), 'ok', 'the log\'s producer opens after the repair');
  const st = statSync(join(logDir, 'durable.offset'));
  assert.equal([st.uid, st.gid], [NOBODY, NOBODY], 'the directory\'s owner and group');
});

test.run();
