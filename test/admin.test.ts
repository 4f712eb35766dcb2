/**
 * The admin API: inspectLog's figures against the producer's and a consumer's own, resetCursor and
 * deleteCursor (refused while a consumer holds the cursor, bad input leaves the directory
 * byte-identical), and Consumer.open's onPositionExpired.
 */
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, GLOBAL_CURSOR_ID, Producer, SyncPolicy, Whence, deleteCursor, inspectLog, resetCursor, verifyLog, type Message } from '../dist/index.js';
import { digestDir, liveLogOf, logOf, rejectsWith, suite, tempDir, waitFor } from './kit.js';

const test = suite('admin');
const text = (m: Message): string => Buffer.from(m.data).toString();

/** Every record of the log, read by a nonTx consumer. */
async function allRecords(logDir: string): Promise<Message[]> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...c.iter()];
  } finally {
    await c.close();
  }
}

/** A clientTx consumer that commits `n` records, then closes. */
async function commit(logDir: string, id: string, n: number, state?: string): Promise<void> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx(id) });
  await c.nonblockingProcess(n, (_m, ctx) => {
    if (state !== undefined) ctx.setState(Buffer.from(state));
    return 'commit';
  });
  await c.close();
}

/** A live log of 400 records in 2 KiB segments, appended in two waves with distinct timestamps. */
async function twoWaveLog(): Promise<{ logDir: string; p: Producer }> {
  const { logDir, p } = await liveLogOf(200, { fileRollSize: 2048, indexIntervalBytes: 512, flushAfter: (i) => i % 10 === 9 });
  const firstWave = (await allRecords(logDir)).at(-1)!.timestamp;
  await waitFor(() => Date.now() > firstWave + 5, 'the clock to move past the first wave');
  for (let i = 200; i < 400; i++) {
    p.append(`rec-${i}`);
    if (i % 10 === 9) await p.flush();
  }
  await p.flush();
  return { logDir, p };
}

test('inspectLog: offsets, segments and bytes match the producer and the files; a cursor with its lag and owner', async () => {
  const { logDir, p } = await twoWaveLog();
  await commit(logDir, 'billing', 150);
  const held = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  const info = await inspectLog(logDir);
  assert.is(info.nextOffset, p.nextOffset);
  assert.is(info.durableOffset, p.durableOffset);
  assert.is(info.logStartOffset, p.logStartOffset);
  const files = readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort();
  assert.ok(files.length >= 3, `several segments: ${files.length}`);
  assert.equal(info.segments.map((s) => s.baseOffset), files.map((n) => Number(n.slice(0, 20))));
  assert.equal(info.segments.map((s) => s.bytes), files.map((n) => statSync(join(logDir, n)).size));
  assert.is(info.totalBytes, files.reduce((sum, n) => sum + statSync(join(logDir, n)).size, 0));
  assert.is(info.segments.reduce((sum, s) => sum + (s.records ?? 0), 0), 400);
  const records = await allRecords(logDir);
  for (const s of info.segments.filter((x) => x.records! > 0)) assert.is(s.oldestTimestamp, records[s.baseOffset]!.timestamp, `segment ${s.baseOffset}`);
  assert.equal(info.producer, { pid: process.pid, host: info.producer!.host });
  assert.is(info.cursors.length, 1);
  const cur = info.cursors[0]!;
  assert.is(cur.id, 'billing');
  assert.is(cur.committedOffset, 150);
  assert.is(cur.owner?.pid, process.pid);
  assert.is(cur.lag.records, 250);
  assert.is(cur.lag.ms, records[399]!.timestamp - records[150]!.timestamp);
  assert.ok(cur.lag.ms > 0, 'two waves, two times');
  assert.ok(cur.lag.bytes > 250 * 'rec-150'.length && cur.lag.bytes < info.totalBytes, `lag bytes ${cur.lag.bytes}`);
  await held.close();
  await p.close();
  const closed = await inspectLog(logDir);
  assert.is(closed.producer, null);
  assert.is(closed.cursors[0]!.owner, null);
  assert.is(closed.nextOffset, 400);
});

test('inspectLog: an empty directory and a caught-up cursor give zeros', async () => {
  const empty = tempDir();
  const info = await inspectLog(empty);
  assert.equal(info, { logStartOffset: 0, nextOffset: 0, durableOffset: 0, totalBytes: 0, segments: [], producer: null, cursors: [] });
  const { logDir, p } = await liveLogOf(20);
  await commit(logDir, 'done', 20);
  assert.equal((await inspectLog(logDir)).cursors[0]!.lag, { records: 0, bytes: 0, ms: 0 });
  await p.close();
});

test('inspectLog reads no record: damage inside an old frame changes none of its figures (verify finds it)', async () => {
  const logDir = await logOf(600, { fileRollSize: 4096, indexIntervalBytes: 512, flushAfter: (i) => i % 5 === 4 });
  await commit(logDir, 'billing', 500);
  const before = await inspectLog(logDir);
  assert.ok(before.segments.length >= 3 && before.segments[1]!.baseOffset < 500, 'the cursor is past the first segments');
  // The last body byte of the first segment's third frame (segment header 32 bytes; frame length at +8; trailer 4 bytes).
  const first = join(logDir, readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort()[0]!);
  const b = readFileSync(first);
  let at = 32;
  for (let k = 0; k < 2; k++) at += b.readUInt32LE(at + 8);
  b[at + b.readUInt32LE(at + 8) - 5]! ^= 0xff;
  writeFileSync(first, b);
  assert.not.ok((await verifyLog(logDir)).ok, 'the damage is real');
  assert.equal(await inspectLog(logDir), before);
});

test('resetCursor moves a cursor both ways, to oldest, latest, an offset and a time; a consumer starts there', async () => {
  const { logDir, p } = await twoWaveLog();
  await commit(logDir, 'billing', 300, 'st');
  const records = await allRecords(logDir);
  const startAt = async (): Promise<number> => {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
    try {
      return c.committedOffset!;
    } finally {
      await c.close();
    }
  };
  assert.equal(await resetCursor(logDir, 'billing', { to: 17 }), { id: 'billing', from: 300, to: 17 });
  assert.is(await startAt(), 17);
  // A reset backwards leaves no slot with the old value: verify does not read it as a cursor that moved back.
  assert.equal((await verifyLog(logDir)).findings.filter((f) => f.kind === 'cursor'), []);
  await resetCursor(logDir, 'billing', { to: 'latest' });
  assert.is(await startAt(), 400);
  await resetCursor(logDir, 'billing', { to: 'oldest' });
  assert.is(await startAt(), 0);
  const t = records[200]!.timestamp;
  assert.ok(records[199]!.timestamp < t, 'the second wave starts later');
  assert.is((await resetCursor(logDir, 'billing', { to: { timestamp: t } })).to, 200);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  assert.is(text(c.iter().next().value as Message), 'rec-200');
  assert.is(Buffer.from(c.state!).toString(), 'st', 'the state is kept');
  await c.close();
  await resetCursor(logDir, 'billing', { to: 5, state: 'clear' });
  const d = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  assert.is(d.state, null, 'the state is cleared');
  await d.close();
  await p.close();
});

test('resetCursor and deleteCursor are refused while a consumer holds the cursor; deleteCursor removes it', async () => {
  const { logDir, p } = await liveLogOf(50);
  await commit(logDir, 'billing', 30);
  const held = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  const before = digestDir(logDir);
  await rejectsWith(() => resetCursor(logDir, 'billing', { to: 'oldest' }), 'ERR_CURSOR_LOCKED');
  await rejectsWith(() => deleteCursor(logDir, 'billing'), 'ERR_CURSOR_LOCKED');
  assert.is(digestDir(logDir), before, 'nothing changed');
  await held.close();
  assert.equal(await deleteCursor(logDir, 'billing'), { id: 'billing', committedOffset: 30 });
  assert.equal(readdirSync(join(logDir, 'cursors')), [], 'cursor file and lock gone');
  assert.equal((await inspectLog(logDir)).cursors, []);
  await p.close();
});

test('a damaged cursor file: reset writes it anew at the target, delete removes it, and other cursors reset as before', async () => {
  const logDir = await logOf(50);
  for (const id of ['billing', 'other']) {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx(id) });
    await c.nonblockingProcess(20, () => 'commit');
    await c.close();
  }
  const damaged = join(logDir, 'cursors', 'client.other.cursor');
  writeFileSync(damaged, 'garbage'); // no valid slot
  assert.equal(await resetCursor(logDir, 'billing', { to: 'latest' }), { id: 'billing', from: 20, to: 50 }, 'a healthy cursor beside a damaged one');
  assert.equal(await resetCursor(logDir, 'other', { to: 5 }), { id: 'other', from: null, to: 5 });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('other') });
  assert.is(c.nextOffset, 5);
  await c.close();
  writeFileSync(damaged, 'garbage');
  assert.equal(await deleteCursor(logDir, 'other'), { id: 'other', committedOffset: null });
  assert.equal((await inspectLog(logDir)).cursors.map((x) => [x.id, x.committedOffset]), [['billing', 50]]);
});

test("the globalTx cursor is '@global' beside a clientTx cursor of the id 'global'", async () => {
  const { logDir, p } = await liveLogOf(30);
  const g = await Consumer.open({ logDir, style: ConsumerStyle.globalTx() });
  await g.nonblockingProcess(12, () => 'commit');
  await g.close();
  await commit(logDir, 'global', 3);
  const cursors = (await inspectLog(logDir)).cursors.map((c) => [c.id, c.style, c.committedOffset]);
  assert.equal(cursors.sort(), [[GLOBAL_CURSOR_ID, 'globalTx', 12], ['global', 'clientTx', 3]].sort());
  assert.is(GLOBAL_CURSOR_ID, '@global');
  await resetCursor(logDir, '@global', { to: 'latest' });
  const again = await Consumer.open({ logDir, style: ConsumerStyle.globalTx() });
  assert.is(again.committedOffset, 30);
  await again.close();
  await deleteCursor(logDir, 'global');
  assert.equal((await inspectLog(logDir)).cursors.map((c) => c.id), [GLOBAL_CURSOR_ID]);
  await p.close();
});

test('bad input: a LogError with a code and the directory byte-identical', async () => {
  const { logDir, p } = await liveLogOf(50);
  await commit(logDir, 'billing', 30);
  const notLog = tempDir();
  await rejectsWith(() => inspectLog(join(notLog, 'missing')), 'ERR_INVALID_OPTION');
  const before = digestDir(logDir);
  const cases: Array<[() => Promise<unknown>, string]> = [
    [() => resetCursor(join(notLog, 'missing'), 'billing', { to: 0 }), 'ERR_INVALID_OPTION'],
    [() => resetCursor(logDir, 'bad/id', { to: 0 }), 'ERR_INVALID_CONSUMER_ID'],
    [() => resetCursor(logDir, '', { to: 0 }), 'ERR_INVALID_CONSUMER_ID'],
    [() => resetCursor(logDir, 'nobody', { to: 0 }), 'ERR_INVALID_OPTION'],
    [() => resetCursor(logDir, 'billing', { to: 51 }), 'ERR_INVALID_OPTION'],
    [() => resetCursor(logDir, 'billing', { to: -1 }), 'ERR_INVALID_OPTION'],
    [() => resetCursor(logDir, 'billing', { to: 1.5 }), 'ERR_INVALID_OPTION'],
    [() => resetCursor(logDir, 'billing', { to: 'newest' as never }), 'ERR_INVALID_OPTION'],
    [() => resetCursor(logDir, 'billing', { to: { timestamp: NaN } }), 'ERR_INVALID_OPTION'],
    [() => resetCursor(logDir, 'billing', null as never), 'ERR_INVALID_OPTION'],
    [() => resetCursor(logDir, 'billing', { to: 0, state: 'drop' as never }), 'ERR_INVALID_OPTION'],
    [() => deleteCursor(logDir, 'nobody'), 'ERR_INVALID_OPTION'],
    [() => deleteCursor(logDir, 'a b'), 'ERR_INVALID_CONSUMER_ID'],
    [() => deleteCursor(42 as never, 'billing'), 'ERR_INVALID_OPTION'],
  ];
  for (const [call, code] of cases) {
    await rejectsWith(call, code);
    assert.is(digestDir(logDir), before, `unchanged after ${call.toString()}`);
  }
  assert.equal(readdirSync(notLog), [], 'nothing created elsewhere');
  await p.close();
});

test("onPositionExpired: 'error' by default, 'oldest' starts at the log start and commits the cursor there", async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024, maxTotalBytes: 4096 });
  for (let i = 0; i < 20; i++) p.append(`rec-${i}`);
  await p.flush();
  await commit(logDir, 'slow', 5);
  for (let i = 20; i < 2000; i++) {
    p.append(`rec-${i}`);
    if (i % 50 === 0) await p.flush();
  }
  await p.flush();
  await waitFor(() => p.logStartOffset > 5, 'retention to pass the cursor');
  await p.close(); // no retention from here on: the log start stays where it is
  const start = (await inspectLog(logDir)).logStartOffset;
  assert.ok(start > 5);
  await rejectsWith(() => Consumer.open({ logDir, style: ConsumerStyle.clientTx('slow') }), 'ERR_POSITION_EXPIRED');
  await rejectsWith(() => Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(2)), onPositionExpired: 'error' }), 'ERR_POSITION_EXPIRED');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('slow'), onPositionExpired: 'oldest' });
  const first = c.iter().next().value as Message;
  assert.is(first.offset, start, 'starts at the log start');
  assert.is(text(first), `rec-${first.offset}`);
  assert.is(c.committedOffset, first.offset, 'the cursor was committed at the start');
  await c.close();
  const n = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(2)), onPositionExpired: 'oldest' });
  assert.is((n.iter().next().value as Message).offset, start, 'a nonTx consumer too');
  await n.close();
  await rejectsWith(() => Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()), onPositionExpired: 'later' as never }), 'ERR_INVALID_OPTION');
});

test.run();
