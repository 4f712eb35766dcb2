/**
 * verifyLog and `reactive-log verify`: a clean log reports no finding; each kind of damage is found
 * with its file and byte position; torn tails and leftovers are warnings; the verdict agrees with what
 * recovery does with the same bytes; and the directory is byte-identical afterwards every time
 * (clean, damaged, with a live producer). A directory that holds no log (not empty) is bad usage.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Producer, Consumer, ConsumerStyle, SyncPolicy, Whence, verifyLog, formatVerifyReport, type VerifyReport } from '../dist/index.js';
import { suite, tempDir, digestDir, rejectsWith, logOf } from './kit.js';
import { withFaults } from './faults.js';

const test = suite('verify');
const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
const SLOT_BYTES = 32 + 65_536;
const seg = (base: number): string => `${String(base).padStart(20, '0')}.seg`;
const idx = (base: number): string => `${String(base).padStart(20, '0')}.idx`;

/** A closed log of 300 records over several 4 KiB segments, every frame fsynced, and a cursor at 120. */
async function sampleLog(): Promise<{ logDir: string; bases: number[] }> {
  const records = Array.from({ length: 300 }, (_, i) => `record-${i}-${'x'.repeat(i % 50)}`);
  const logDir = await logOf(records, { fileRollSize: 4096, indexIntervalBytes: 512, flushAfter: (i) => i % 7 === 0 });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('mailer') });
  await c.nonblockingProcess(120, () => 'commit');
  await c.close();
  const bases = readdirSync(logDir).filter((n) => n.endsWith('.seg')).map((n) => Number(n.slice(0, 20))).sort((a, b) => a - b);
  return { logDir, bases };
}

/** Positions of the frames in a segment file, walking the size fields (test-side decoding). */
function framePositions(file: string): number[] {
  const b = readFileSync(file);
  const out: number[] = [];
  for (let at = 32; at + 12 <= b.length; at += b.readUInt32LE(at + 8)) out.push(at);
  return out;
}

function flip(file: string, position: number): void {
  const b = readFileSync(file);
  b[position] ^= 0xff;
  writeFileSync(file, b);
}

/** Verifies and checks the directory did not change. */
async function verifyUnchanged(dir: string): Promise<VerifyReport> {
  const before = digestDir(dir);
  const cursorsBefore = existsSync(join(dir, 'cursors')) ? digestDir(join(dir, 'cursors')) : 'none';
  const r = await verifyLog(dir);
  assert.is(digestDir(dir), before, 'verify left the directory byte-identical');
  assert.is(existsSync(join(dir, 'cursors')) ? digestDir(join(dir, 'cursors')) : 'none', cursorsBefore, 'and the cursors folder');
  return r;
}

const kinds = (r: VerifyReport, severity: 'damage' | 'warning'): string[] => r.findings.filter((f) => f.severity === severity).map((f) => f.kind);

/**
 * Appends records of 20 to 60 bytes in rounds of 300 (each flushed) until the directory lists at
 * least `segments` segment files (how many a round leaves depends on how the writer groups them);
 * returns how many were appended.
 */
async function appendUntilSegments(p: Producer, logDir: string, segments: number): Promise<number> {
  let n = 0;
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 300; i++, n++) p.append(`first-${n}-${'f'.repeat(n % 40)}`);
    await p.flush();
    if (readdirSync(logDir).filter((f) => f.endsWith('.seg')).length >= segments) return n;
  }
  throw new Error(`fewer than ${segments} segment files after ${n} records`);
}

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A cursor slot as format.md lays it out (test-side encoding). */
function cursorSlot(sequence: number, offset: number): Buffer {
  const b = Buffer.alloc(32);
  b.writeUInt32LE(0x52554352, 0);
  b.writeUInt32LE(sequence, 8);
  b.writeUInt32LE(offset, 16);
  b.writeUInt32LE(crc32(b.subarray(8, 32)), 4);
  return b;
}

test('a clean log: no finding, every segment chained, index entries and cursor read; CLI exit 0', async () => {
  const { logDir, bases } = await sampleLog();
  const r = await verifyUnchanged(logDir);
  assert.equal(r.findings, [], formatVerifyReport(r));
  assert.ok(r.ok);
  assert.is(r.records, 300);
  assert.is(r.logStartOffset, 0);
  assert.is(r.logEndOffset, 300);
  assert.equal(r.segments.map((s) => s.baseOffset), bases);
  assert.ok(bases.length >= 3, 'several segments');
  r.segments.forEach((s, i) => {
    assert.is(s.role, i === bases.length - 1 ? 'active' : 'sealed');
    assert.is(s.endOffset, i + 1 < bases.length ? bases[i + 1] : 300, `${s.file} chains`);
    assert.is(s.index.good, s.index.entries, `${s.file} index checked`);
    if (s.role === 'sealed') assert.ok(s.index.entries > 0, `${s.file} has index entries`);
  });
  assert.equal(r.durableHint, { state: 'valid', offset: 300 });
  assert.is(r.producerLock, null);
  assert.is(r.cursors.length, 1);
  assert.is(r.cursors[0]!.name, 'client.mailer');
  assert.is(r.cursors[0]!.offset, 120);
  assert.is(r.cursors[0]!.slotA.state, 'valid');
  const out = cli('verify', logDir);
  assert.is(out.status, 0, out.stderr);
  assert.match(out.stdout, /result: OK, no damage\n$/);
  assert.match(out.stdout, /offsets 0-299, 300 records/);
  const json = cli('verify', '--json', logDir);
  assert.is(json.status, 0);
  assert.equal(JSON.parse(json.stdout), JSON.parse(JSON.stringify(r)));
});

test('a flipped byte inside a sealed frame: damage at that frame, the frames after it still read; CLI exit 1', async () => {
  const { logDir, bases } = await sampleLog();
  const file = join(logDir, seg(bases[1]!));
  const frames = framePositions(file);
  flip(file, frames[2]! + 44); // the first data byte of the third frame
  const r = await verifyUnchanged(logDir);
  assert.not.ok(r.ok);
  // An index entry pointing at the damaged frame is not blamed on the index (a warning at most).
  assert.equal(kinds(r, 'damage'), ['frame'], formatVerifyReport(r));
  const f = r.findings.find((x) => x.kind === 'frame')!;
  assert.is(f.file, seg(bases[1]!));
  assert.is(f.position, frames[2], 'the damaged frame\'s start');
  assert.match(f.message, /checksum/);
  const s = r.segments[1]!;
  assert.equal(s.damaged.map((d) => [d.position, d.bytes, d.tornTail]), [[frames[2], frames[3]! - frames[2]!, false]]);
  assert.is(s.endOffset, bases[2], 'scanning went on after the damage');
  const out = cli('verify', logDir);
  assert.is(out.status, 1);
  assert.match(out.stdout, /DAMAGE +frame +0+\d+\.seg byte [\d,]+ offset \d+: frame checksum mismatch/);
  assert.match(out.stdout, /result: DAMAGED, 1 damage finding/);
});

test('a torn tail on the active segment is a warning, at the position recovery then cuts', async () => {
  const { logDir, bases } = await sampleLog();
  const active = join(logDir, seg(bases.at(-1)!));
  const size = readFileSync(active).length;
  appendFileSync(active, Buffer.from([0x42, 0x52, 0x43, 0x48, 1, 2, 3, 4, 5, 6, 7]));
  const r = await verifyUnchanged(logDir);
  assert.ok(r.ok, formatVerifyReport(r));
  assert.equal(kinds(r, 'warning'), ['torn-tail']);
  assert.is(r.findings[0]!.position, size);
  assert.is(cli('verify', logDir).status, 0);
  const p = await Producer.open({ logDir });
  try {
    assert.is(p.recovery.truncated?.position, size, 'recovery cut where verify said');
    assert.is(p.nextOffset, 300);
  } finally {
    await p.close();
  }
  assert.equal((await verifyLog(logDir)).findings, []);
});

test('damage in the active segment before later fsynced frames is damage, and recovery refuses it too', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), indexIntervalBytes: 512 });
  for (let i = 0; i < 20; i++) {
    p.append(`fsynced-${i}-${'z'.repeat(100)}`);
    await p.flush(); // one frame each, each written after the previous one was fsynced
  }
  await p.close();
  const active = join(logDir, seg(0));
  const frames = framePositions(active);
  assert.is(frames.length, 20);
  flip(active, frames[0]! + 45);
  const r = await verifyUnchanged(logDir);
  assert.equal(kinds(r, 'damage'), ['frame'], formatVerifyReport(r));
  assert.is(r.findings.find((f) => f.kind === 'frame')!.position, frames[0]);
  // Recovery reads the active segment only from its last good index entry on, so here a reader is the
  // one that meets the damage, at the same frame.
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const err = await rejectsWith(async () => [...c.iter()], 'ERR_LOG_CORRUPT');
    assert.is((err as unknown as { details: { position: number } }).details.position, frames[0]);
  } finally {
    await c.close();
  }
});

test('a missing middle segment is a gap; a header naming another base offset is a header mismatch', async () => {
  const { logDir, bases } = await sampleLog();
  unlinkSync(join(logDir, seg(bases[1]!)));
  unlinkSync(join(logDir, idx(bases[1]!)));
  const r = await verifyUnchanged(logDir);
  assert.equal(kinds(r, 'damage'), ['gap'], formatVerifyReport(r));
  assert.is(r.findings[0]!.offset, bases[1]);
  assert.is(r.findings[0]!.file, seg(bases[2]!));

  const { logDir: d2, bases: b2 } = await sampleLog();
  const file = join(d2, seg(b2[1]!));
  const b = readFileSync(file);
  b.writeUInt32LE(b2[1]! + 1, 8);
  b.writeUInt32LE(crc32(b.subarray(0, 28)), 28);
  writeFileSync(file, b);
  const r2 = await verifyUnchanged(d2);
  assert.ok(kinds(r2, 'damage').includes('segment-header'), formatVerifyReport(r2));
  const h = r2.findings.find((f) => f.kind === 'segment-header')!;
  assert.is(h.position, 8);
  assert.match(h.message, new RegExp(`header names base offset ${b2[1]! + 1}, the file name ${b2[1]}`));
});

test('index entries: wrong offset, mid-frame, out of order, past the end are damage; a missing index a warning', async () => {
  const { logDir, bases } = await sampleLog();
  const file = join(logDir, idx(bases[0]!));
  const b = readFileSync(file);
  assert.ok(b.length >= 64, 'at least four entries');
  b.writeUInt32LE(b.readUInt32LE(0) + 1, 0); // entry 0 names the wrong offset
  b.writeUInt32LE(b.readUInt32LE(24) + 3, 24); // entry 1 points inside a frame
  b.writeUInt32LE(1, 32); // entry 2's offset goes backwards
  b.writeUInt32LE(10_000_000, 56); // entry 3 points past the end of the sealed segment
  writeFileSync(file, b);
  unlinkSync(join(logDir, idx(bases[1]!)));
  const r = await verifyUnchanged(logDir);
  const bad = r.findings.filter((f) => f.kind === 'index' && f.severity === 'damage');
  assert.equal(bad.map((f) => f.position), [0, 16, 32, 48], formatVerifyReport(r));
  assert.match(bad[0]!.message, /names offset \d+, but the frame there holds offset \d+/);
  assert.match(bad[1]!.message, /no valid frame starts/);
  assert.match(bad[2]!.message, /out of order/);
  assert.match(bad[3]!.message, /past the end/);
  const missing = r.findings.filter((f) => f.kind === 'index' && f.severity === 'warning');
  assert.equal(missing.map((f) => f.file), [idx(bases[1]!)]);
  assert.is(r.records, 300, 'a bad index does not change what is read');
});

test('cursor files: a torn slot is a warning; no valid slot, or a cursor past the log end, is damage', async () => {
  const { logDir } = await sampleLog();
  const cdir = join(logDir, 'cursors');
  const good = join(cdir, 'client.mailer.cursor');
  // Torn: the older slot (A, sequence 120) garbled.
  const torn = readFileSync(good);
  torn[20] ^= 0xff;
  writeFileSync(good, torn);
  // Both slots garbled.
  const dead = Buffer.from(torn);
  dead[SLOT_BYTES + 20] ^= 0xff;
  writeFileSync(join(cdir, 'client.dead.cursor'), dead);
  // Valid but past the end of the log (300), and one below the start after commits (start is 0: none).
  const ahead = Buffer.alloc(2 * SLOT_BYTES);
  cursorSlot(3, 5000).copy(ahead, SLOT_BYTES);
  cursorSlot(2, 4000).copy(ahead, 0);
  writeFileSync(join(cdir, 'global.cursor'), ahead);
  // Slots that contradict each other: sequences 5 and 2.
  const odd = Buffer.alloc(2 * SLOT_BYTES);
  cursorSlot(5, 10).copy(odd, SLOT_BYTES);
  cursorSlot(2, 4).copy(odd, 0);
  writeFileSync(join(cdir, 'client.odd.cursor'), odd);
  const r = await verifyUnchanged(logDir);
  const byFile = (name: string) => r.findings.filter((f) => f.file === `cursors/${name}`).map((f) => `${f.severity}:${f.kind}`);
  assert.equal(byFile('client.mailer.cursor'), ['warning:cursor'], formatVerifyReport(r));
  assert.equal(byFile('client.dead.cursor'), ['damage:cursor']);
  assert.equal(byFile('global.cursor'), ['damage:cursor']);
  assert.equal(byFile('client.odd.cursor'), ['damage:cursor']);
  const mailer = r.cursors.find((c) => c.name === 'client.mailer')!;
  assert.equal([mailer.slotA.state, mailer.slotB.state, mailer.current, mailer.offset], ['invalid', 'valid', 'B', 120]);
  assert.is(r.cursors.find((c) => c.name === 'client.dead')!.current, null);
  assert.match(r.findings.find((f) => f.file === 'cursors/global.cursor')!.message, /past the end of the log \(300\)/);
});

test('durable.offset beyond the data is damage (recovery agrees); an unreadable one a warning', async () => {
  const { logDir } = await sampleLog();
  const hint = Buffer.alloc(12);
  hint.writeUInt32LE(310, 0);
  hint.writeUInt32LE(crc32(hint.subarray(0, 8)), 8);
  writeFileSync(join(logDir, 'durable.offset'), hint);
  const r = await verifyUnchanged(logDir);
  assert.equal(kinds(r, 'damage'), ['durable-hint'], formatVerifyReport(r));
  assert.match(r.findings[0]!.message, /records 300 to 309 were reported durable/);
  await rejectsWith(() => Producer.open({ logDir }), 'ERR_LOG_CORRUPT');
  writeFileSync(join(logDir, 'durable.offset'), 'garbage');
  const r2 = await verifyUnchanged(logDir);
  assert.ok(r2.ok);
  assert.equal(r2.durableHint, { state: 'invalid', offset: null });
  assert.equal(kinds(r2, 'warning'), ['durable-hint']);
});

test('foreign files, leftovers and an interrupted roll are warnings; an empty directory has no segments', async () => {
  const { logDir, bases } = await sampleLog();
  writeFileSync(join(logDir, 'notes.txt'), 'mine');
  writeFileSync(join(logDir, '5.seg'), 'not a segment name');
  mkdirSync(join(logDir, 'backup'));
  writeFileSync(join(logDir, 'producer.lock.123.abc.tmp'), '{}');
  writeFileSync(join(logDir, idx(99_999)), '');
  writeFileSync(join(logDir, 'cursors', 'client.x.cursor.new'), '');
  writeFileSync(join(logDir, 'cursors', 'README'), '');
  const next = 300;
  writeFileSync(join(logDir, seg(next)), Buffer.alloc(10)); // a roll that never wrote its header
  const r = await verifyUnchanged(logDir);
  assert.ok(r.ok, formatVerifyReport(r));
  const w = r.findings.map((f) => `${f.kind}:${f.file}`).sort();
  assert.equal(w, [
    'foreign-file:5.seg', 'foreign-file:backup', 'foreign-file:cursors/README', 'foreign-file:notes.txt',
    `leftover:${idx(99_999)}`, 'leftover:cursors/client.x.cursor.new', 'leftover:producer.lock.123.abc.tmp', `torn-roll:${seg(next)}`,
  ].sort());
  assert.is(r.segments.length, bases.length + 1);

  const empty = tempDir();
  const e = await verifyUnchanged(empty);
  assert.ok(e.ok);
  assert.equal(kinds(e, 'warning'), ['no-segments']);
  assert.is(e.logEndOffset, null);
});

test('beside a live producer: the directory unchanged while idle, and never a false damage while appending', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.periodic(5), fileRollSize: 8192, indexIntervalBytes: 512 });
  try {
    for (let i = 0; i < 500; i++) p.append(`live-${i}`);
    await p.flush();
    const idle = await verifyUnchanged(logDir);
    assert.ok(idle.ok, formatVerifyReport(idle));
    assert.equal(idle.producerLock, { ownerPid: process.pid, live: true });
    assert.is(idle.logEndOffset, 500);
    // The writer thread writes while verify reads (verify blocks this thread, not the writer).
    let appended = 500;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 400; i++) p.append(`more-${appended++}-${'y'.repeat(i % 90)}`);
      const r = await verifyLog(logDir);
      assert.is(r.damageCount, 0, `round ${round}:\n${formatVerifyReport(r)}`);
      // Warnings only for what a writer in flight looks like: a frame still being written, an index
      // entry not yet written, a segment being created under its temporary name (a roll in progress).
      const inFlight = (f: VerifyReport['findings'][number]): boolean => f.kind === 'torn-tail' || f.kind === 'index'
        || (f.kind === 'leftover' && f.file.endsWith('.seg.new'));
      assert.ok(r.findings.every(inFlight), formatVerifyReport(r));
    }
    await p.flush();
    assert.is((await verifyLog(logDir)).logEndOffset, appended);
  } finally {
    await p.close();
  }
});

test('beside a live producer whose retention deletes the segments verify listed: deletions are warnings, never damage', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: 4096, maxBatchBytes: 1024 });
  try {
    const appended = await appendUntilSegments(p, logDir, 3);
    // A cursor at the durable end: its range is checked against the log end verify finds.
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('v') });
    await c.nonblockingProcess(null, () => 'commit');
    assert.is(c.committedOffset, appended);
    await c.close();
    // A backlog the writer thread writes while verify runs; verify is held up at its second segment
    // (this thread), long enough for retention to delete every segment it listed.
    for (let i = 0; i < 2000; i++) p.append(`more-${i}-${'m'.repeat(i % 60)}`);
    const plan = { rules: [{ op: 'open' as const, path: '\\.seg$', thread: 'main' as const, nth: 2, effect: { delayMs: 1500 } }] };
    const r = await withFaults(plan, () => verifyLog(logDir));
    assert.is(r.damageCount, 0, formatVerifyReport(r));
    assert.ok(r.findings.some((f) => f.kind === 'unreadable' && f.severity === 'warning'), `no segment was deleted while verified:\n${formatVerifyReport(r)}`);
    assert.ok(r.logEndOffset !== null && r.logEndOffset >= 300, `log end ${r.logEndOffset}`);
    await p.flush();
  } finally {
    await p.close();
  }
});

test('beside a live producer whose retention deleted a listed segment between two it reads: no false gap', async () => {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  // Once armed: the writer's first segment unlink waits until verify has listed, its third waits until
  // verify is done; verify waits at its second segment, by which time the first two are deleted.
  const plan = {
    arm,
    rules: [
      { op: 'unlink' as const, path: '\\.seg$', thread: 'writer' as const, nth: 1, effect: { delayMs: 500 } },
      { op: 'unlink' as const, path: '\\.seg$', thread: 'writer' as const, nth: 3, effect: { delayMs: 3000 } },
      { op: 'open' as const, path: '\\.seg$', thread: 'main' as const, nth: 2, effect: { delayMs: 1500 } },
    ],
  };
  await withFaults(plan, async () => {
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: 4096, maxBatchBytes: 1024 });
    try {
      await appendUntilSegments(p, logDir, 4);
      const listed = readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort();
      writeFileSync(arm, '');
      for (let i = 0; i < 300; i++) p.append(`more-${i}-${'m'.repeat(i % 60)}`);
      const r = await verifyLog(logDir);
      assert.is(r.damageCount, 0, formatVerifyReport(r));
      const gone = r.findings.filter((f) => f.kind === 'unreadable' && f.severity === 'warning').map((f) => f.file);
      assert.ok(gone.includes(listed[1]!), `the second listed segment was deleted while verified:\n${formatVerifyReport(r)}`);
      assert.ok(r.segments.some((s) => s.file === listed[2]), `the third was read:\n${formatVerifyReport(r)}`);
      await p.flush();
    } finally {
      await p.close();
    }
  });
});

test('a directory that holds no log (not empty): ERR_INVALID_OPTION naming dir from verifyLog, exit 2 from the CLI; an empty directory verifies OK', async () => {
  const home = tempDir();
  writeFileSync(join(home, 'notes.txt'), 'mine');
  mkdirSync(join(home, 'photos'));
  const before = digestDir(home);
  const err = await rejectsWith(() => verifyLog(home), 'ERR_INVALID_OPTION');
  assert.is((err as Error & { details?: { option?: string } }).details?.option, 'dir');
  assert.match(err.message, 'not a log directory');
  for (const dir of [home, '/etc']) {
    const r = spawnSync(process.execPath, [CLI, 'verify', dir], { encoding: 'utf8' });
    assert.is(r.status, 2, `${dir}: ${r.stdout}${r.stderr}`);
    assert.is(r.stdout, '');
    assert.match(r.stderr, /^reactive-log verify: .*not a log directory.*\(ERR_INVALID_OPTION\)$/m);
  }
  assert.is(digestDir(home), before);

  // An empty directory is a log no producer has written yet: no damage, one warning.
  const empty = tempDir();
  const report = await verifyLog(empty);
  assert.equal({ ok: report.ok, findings: report.findings.map((f) => f.kind) }, { ok: true, findings: ['no-segments'] });
  const r = spawnSync(process.execPath, [CLI, 'verify', empty], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
});

test('bad usage: ERR_INVALID_OPTION from verifyLog, exit 2 from the CLI, nothing created', async () => {
  const parent = tempDir();
  const missing = join(parent, 'nope');
  for (const bad of [missing, '', 'a\0b', 42, null, undefined]) {
    await rejectsWith(() => verifyLog(bad as never), 'ERR_INVALID_OPTION');
  }
  writeFileSync(join(parent, 'file'), 'x');
  await rejectsWith(() => verifyLog(join(parent, 'file')), 'ERR_INVALID_OPTION');
  for (const args of [['verify', missing], ['verify'], ['verify', parent, parent], ['verify', '--bogus', parent]]) {
    const r = cli(...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.length > 0);
  }
  assert.match(cli('verify', missing).stderr, /ERR_INVALID_OPTION/);
  assert.not.ok(existsSync(missing), 'nothing created');
  assert.equal(readdirSync(parent), ['file']);
  // A copy of a good log verifies the same wherever it is.
  const { logDir } = await sampleLog();
  const copy = join(parent, 'copy');
  mkdirSync(copy);
  for (const n of readdirSync(logDir)) if (n !== 'cursors') copyFileSync(join(logDir, n), join(copy, n));
  assert.ok((await verifyLog(copy)).ok);
});

test.run();
