/**
 * Every segment, durable.offset and start.offset gone while cursors/ is kept: a transactional cursor
 * that committed offset 40 shows that records 0 to 39 were written. A producer that started a new log
 * at offset 0 would hand those offsets out again, and once 40 new records were appended the cursor's
 * consumer would pass over all of them without a word. Producer.open refuses (ERR_LOG_CORRUPT naming
 * the cursor file, the directory byte-identical), verifyLog reports the damage, and repairLog goes on
 * from the offset the cursor names (no cursor reset, no offset handed out twice). A cursor at 0 (a
 * consumer that never committed past the start) shows nothing was written: the log opens at 0. A
 * read of the cursors that fails (EIO) makes the open fail with ERR_IO: it was taken for no cursor.
 */
import * as assert from 'uvu/assert';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, ErrorCode, Producer, repairLog, verifyLog } from '../dist/index.js';
import { withFaults } from './faults.js';
import { digestDir, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('recovery-lost-segments-cursor');

/** A closed log of `n` records in segments of about 1 KiB, with cursor `billing` committed at `at`. */
async function logWithCursorAt(n: number, at: number): Promise<string> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, fileRollSize: 1024 });
  for (let i = 0; i < n; i++) p.append(`record ${i} ${'x'.repeat(60)}`);
  await p.close();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  if (at > 0) await c.nonblockingProcess(at, () => 'commit');
  assert.is(c.committedOffset, at);
  await c.close();
  return logDir;
}

/** Removes every file of the log but cursors/. */
function loseAllButCursors(logDir: string): void {
  for (const n of readdirSync(logDir)) if (n !== 'cursors') rmSync(join(logDir, n));
}

test('no segment, no durable.offset, cursor at 40: Producer.open refuses, the directory untouched', async () => {
  const logDir = await logWithCursorAt(40, 40);
  loseAllButCursors(logDir);
  const before = digestDir(logDir);
  const names = readdirSync(logDir).sort();
  const err = await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_CORRUPT');
  console.log('Producer.open:', err.message);
  assert.match(err.message, 'client.billing.cursor');
  assert.match(err.message, '40');
  assert.equal(readdirSync(logDir).sort(), names, 'no file was created');
  assert.is(digestDir(logDir), before, 'the directory is byte-identical');
  const v = await verifyLog(logDir);
  assert.is(v.ok, false, 'verify reports the damage');
});

// The cursors read where a read fails (EIO) in the writer's recovery: a cursor that could not be seen
// was taken for none, and the log opened anew at 0 under a cursor at 40.
for (const [what, rule] of [
  ['the listing of cursors/', { op: 'readdir', path: 'cursors$' }],
  ['the read of the cursor file', { op: 'read', path: 'billing\\.cursor$' }],
] as const) {
  test(`${what} fails (EIO) in recovery: Producer.open fails with ERR_IO, the directory untouched`, async () => {
    const logDir = await logWithCursorAt(40, 40);
    loseAllButCursors(logDir);
    const before = digestDir(logDir);
    await withFaults({ rules: [{ ...rule, thread: 'writer', nth: 1, persistent: true, effect: { errno: 'EIO' } }] }, async () => {
      await rejectsWith(Producer.open({ logDir }), ErrorCode.IO);
    });
    assert.is(digestDir(logDir), before);
    await rejectsWith(Producer.open({ logDir }), ErrorCode.LOG_CORRUPT);
  });
}

test('repair goes on at the cursor: the next record is offset 40, and the consumer reads it', async () => {
  const logDir = await logWithCursorAt(40, 40);
  loseAllButCursors(logDir);
  const r = await repairLog(logDir, { backupDir: join(tempDir(), 'b') });
  console.log('repair:', r.cut, r.actions);
  assert.is(r.cut?.offset, 40);
  assert.equal(r.actions.filter((a) => a.action === 'reset-cursor'), [], 'the cursor is not moved back');
  const p = await Producer.open({ logDir });
  assert.is(p.append('after'), 40, 'no offset is handed out twice');
  await p.close();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  const got: number[] = [];
  await c.nonblockingProcess(10, (m) => { got.push(m.offset); return 'commit'; });
  await c.close();
  assert.equal(got, [40], 'the consumer reads the new record');
});

test('no segment, cursor at 0: the log opens at 0 (nothing was written)', async () => {
  const logDir = await logWithCursorAt(0, 0);
  loseAllButCursors(logDir);
  const p = await Producer.open({ logDir });
  assert.is(p.append('first'), 0);
  await p.close();
});

test.run();
