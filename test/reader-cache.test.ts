/**
 * The reader caches (src/reader/verified-cache.ts, segment-list.ts; docs/architecture.md, "Reader
 * caches"): a frame this thread checked is not checked again while its segment file keeps its stamp;
 * damage made after that is still found, also when the damage puts the old mtime back or replaces the
 * file; a file changed within the racy margin is not cached; verifyLog never uses the cache; the cache
 * stays bounded.
 */
import * as assert from 'uvu/assert';
import { copyFileSync, cpSync, renameSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Whence, verifyLog } from '../src/index.js';
import { FRAME_HEADER_BYTES, FRAME_TRAILER_BYTES, type FrameHeader } from '../src/format/frame.js';
import { LogReader } from '../src/reader/log-reader.js';
import { SEEK_READ_BYTES } from '../src/reader/segment-file.js';
import {
  COARSE_SETTLE_MARGIN_MS, MAX_CACHED_FRAMES, MIN_CACHED_FRAME_BYTES, SETTLE_MARGIN_MS, clearReaderCaches, frameMatches, markAtOrBefore,
  recordFrame, unsettledUntilMs, segmentEntry, settled, wallNowMs,
} from '../src/reader/verified-cache.js';
import { slotCapacity, slotsInUse } from '../src/reader/frame-slots.js';
import { nodeFileIO, readOnlyFileIO, type FileIO, type FileStamp } from '../src/storage/file-io.js';
import { readIndex } from '../src/segment/offset-index.js';
import { suite, prng, rejectsWith, tempDir } from './kit.js';
import { ChildProducer, checkRecord, countingIO, damage, framesOf, makeLog, readFrom, settle, track, type FrameAt } from './reader-kit.js';

const test = suite('reader-cache');
const N = 4000;
const cachedFrames = (frames: FrameAt[]) => frames.filter((f) => f.h.frameBytes >= MIN_CACHED_FRAME_BYTES);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
/** What a seek reads to prove the index entry it starts from: the trailer before it and the header of the frame before. */
const ENTRY_PROOF_BYTES = FRAME_TRAILER_BYTES + FRAME_HEADER_BYTES;

test('a frame checked once is trusted while its segment keeps its stamp; seeks read a few KiB of it', async () => {
  const logDir = await makeLog(tempDir(), N, { indexIntervalBytes: 4096 }); // an index entry at nearly every frame
  await settle(logDir);
  clearReaderCaches();
  const frames = framesOf(logDir);
  const big = cachedFrames(frames);
  assert.ok(big.length >= 10, `${big.length} of ${frames.length} frames are large enough to be cached`);

  // From position 0: no search for the end of the log, which would check its last frames too.
  let delta = track();
  assert.equal(await readFrom(logDir, Whence.position(0)), range(N));
  let d = delta();
  assert.is(d.boundsWalks, 0);
  assert.is(d.framesChecked, frames.length, 'the first read checks every frame');
  assert.is(d.framesTrusted, 0);

  delta = track();
  assert.equal(await readFrom(logDir, Whence.position(0)), range(N));
  d = delta();
  assert.is(d.framesTrusted, big.length, 'the second read trusts every frame checked before');
  assert.is(d.framesChecked, frames.length - big.length, 'and checks only the small ones again');

  // Seeks by position into verified frames: no check, no search for the end, and (for a frame that an
  // index entry names) a few KiB read.
  const indexed = new Set(big.filter((f) => readIndex(nodeFileIO, f.path.replace(/\.seg$/, '.idx'), 0, Infinity).positions.includes(f.pos)));
  assert.ok(indexed.size >= 8, `${indexed.size} large frames start at an index entry`);
  for (const f of big.slice(0, 12)) {
    const target = f.h.baseOffset + Math.floor(f.h.recordCount * 0.7);
    delta = track();
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(target)) });
    const it = c.iter();
    checkRecord(it.next().value, target);
    checkRecord(it.next().value, target + 1);
    await c.close();
    d = delta();
    assert.is(d.framesChecked, 0, `seek to ${target}: no frame checked`);
    assert.is(d.boundsWalks, 0, `seek to ${target}: the end of the log is not searched`);
    assert.ok(d.framesTrusted >= 1);

    const counter = countingIO();
    const r = new LogReader(counter.io, logDir);
    assert.ok(r.seekToRecord(target));
    checkRecord(r.read(Infinity, false), target);
    r.close();
    const budget = 32 + FRAME_HEADER_BYTES + SEEK_READ_BYTES + ENTRY_PROOF_BYTES;
    if (indexed.has(f)) assert.ok(counter.bytesRead() <= budget, `seek to ${target} read ${counter.bytesRead()} bytes of a ${f.h.frameBytes}-byte frame`);
  }
  // The rest of a frame entered near its end, and the frames after it, read on correctly.
  const last = big[0]!.h;
  const from = last.baseOffset + last.recordCount - 3;
  assert.equal(await readFrom(logDir, Whence.position(from)), range(N - from).map((i) => from + i));
});

test('a seek to the first record of a verified frame, as a seek by time makes, reads a few KiB of it', async () => {
  const logDir = await makeLog(tempDir(), N, { indexIntervalBytes: 4096 });
  await settle(logDir);
  clearReaderCaches();
  assert.equal(await readFrom(logDir, Whence.position(0)), range(N)); // checks (and caches) every frame
  const indexed = cachedFrames(framesOf(logDir))
    .filter((f) => readIndex(nodeFileIO, f.path.replace(/\.seg$/, '.idx'), 0, Infinity).positions.includes(f.pos));
  assert.ok(indexed.length >= 8, `${indexed.length} large frames start at an index entry`);
  const budget = 32 + FRAME_HEADER_BYTES + SEEK_READ_BYTES + ENTRY_PROOF_BYTES;
  for (const f of indexed.slice(0, 12)) {
    assert.ok(f.h.frameBytes > 2 * budget, `frame at ${f.pos} holds ${f.h.frameBytes} bytes`);
    // A seek by time to the frame's own timestamp lands on a record of that frame or before it (and
    // reads the segment's index, which the counted seek below then finds cached).
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.timestamp(f.h.timestampMs)) });
    const m = c.iter().next().value;
    await c.close();
    assert.ok(m !== undefined && m.offset <= f.h.baseOffset && m.timestamp >= f.h.timestampMs, `seek by time to ${f.h.timestampMs}`);
    const counter = countingIO();
    const r = new LogReader(counter.io, logDir);
    const delta = track();
    assert.ok(r.seekToRecord(f.h.baseOffset));
    checkRecord(r.read(Infinity, false), f.h.baseOffset);
    checkRecord(r.read(Infinity, false), f.h.baseOffset + 1);
    r.close();
    assert.ok(counter.bytesRead() <= budget, `seek to ${f.h.baseOffset} read ${counter.bytesRead()} bytes of a ${f.h.frameBytes}-byte frame`);
    assert.is(delta().framesChecked, 0);
  }
});

test('damage made after this process checked a frame is found on the next read (ERR_LOG_CORRUPT)', async () => {
  const src = await makeLog(tempDir(), N);
  const cases = [
    'in place', 'in place, mtime put back', 'a damaged copy renamed over it, mtime put back', 'while a seek holds part of the frame',
    'the segment header, after seeks skipped reading it',
  ];
  const dirs = cases.map(() => join(tempDir(), 'log'));
  // Every file gets an mtime of a past second plus 0.5 s, which utimes can put back exactly.
  const pastS = Math.floor(Date.now() / 1000) - 10 + 0.5;
  for (const d of dirs) {
    cpSync(src, d, { recursive: true });
    for (const f of framesOf(d)) utimesSync(f.path, pastS, pastS);
  }
  for (const d of dirs) await settle(d);
  clearReaderCaches();
  for (const d of dirs) {
    assert.equal(await readFrom(d), range(N), 'read once: frames noted as verified');
    assert.equal(await readFrom(d, Whence.position(500)), range(N).slice(500), 'a seek: the segment header noted as checked');
  }
  for (const [i, dir] of dirs.entries()) {
    const f = cachedFrames(framesOf(dir))[1]!; // in the first, sealed segment
    const middle = f.pos + Math.floor(f.h.frameBytes / 2);
    assert.ok(segmentEntry(f.path)?.frames.has(f.pos), `${cases[i]}: the frame is cached before the damage`);
    const before = nodeFileIO.stampPath!(f.path);
    if (i === 0) damage(f.path, middle);
    if (i === 1) {
      damage(f.path, middle);
      utimesSync(f.path, pastS, pastS);
      const after = nodeFileIO.stampPath!(f.path);
      assert.ok(after.mtimeNs === before.mtimeNs && after.size === before.size && after.ino === before.ino, 'only ctime shows the change');
    }
    if (i === 2) {
      copyFileSync(f.path, `${f.path}.tmp`);
      damage(`${f.path}.tmp`, middle);
      utimesSync(`${f.path}.tmp`, pastS, pastS);
      renameSync(`${f.path}.tmp`, f.path);
      assert.is(nodeFileIO.stampPath!(f.path).mtimeNs, before.mtimeNs, 'the same size and mtime, another file');
    }
    if (i === 4) {
      assert.ok(segmentEntry(f.path)?.headerChecked, 'the header is cached before the damage');
      damage(f.path, 5); // the format version
    }
    if (i === 3) {
      // A consumer seeks to a record early in the frame (a few KiB of it read and trusted), then the
      // frame's second half is damaged: reading on must read and check the rest, and fail.
      const c = await Consumer.open({ logDir: dir, style: ConsumerStyle.nonTx(Whence.position(f.h.baseOffset + 1)) });
      try {
        const it = c.iter();
        checkRecord(it.next().value, f.h.baseOffset + 1);
        damage(f.path, f.pos + f.h.frameBytes - 100);
        const err = (() => {
          try {
            for (let m = it.next(); !m.done; m = it.next()) checkRecord(m.value);
          } catch (e) {
            return e as { code?: string };
          }
          return null;
        })();
        assert.is(err?.code, 'ERR_LOG_CORRUPT', `${cases[i]}: reading on`);
      } finally {
        await c.close();
      }
      continue;
    }
    await rejectsWith(readFrom(dir), 'ERR_LOG_CORRUPT');
    await rejectsWith(readFrom(dir, Whence.position(f.h.baseOffset + 5)), 'ERR_LOG_CORRUPT');
  }
});

test('random byte flips in cached frames of sealed segments: the exact prefix, then ERR_LOG_CORRUPT', async () => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  console.log(`  reader-cache damage seed ${seed} (SEED=${seed} replays)`);
  const random = prng(seed);
  const src = await makeLog(tempDir(), N);
  const dirs = range(24).map(() => join(tempDir(), 'log'));
  for (const d of dirs) cpSync(src, d, { recursive: true });
  for (const d of dirs) await settle(d);
  for (const dir of dirs) {
    const frames = framesOf(dir);
    const lastSeg = frames[frames.length - 1]!.path;
    const sealed = cachedFrames(frames).filter((f) => f.path !== lastSeg);
    const f = sealed[Math.floor(random() * sealed.length)]!;
    const at = f.pos + Math.floor(random() * f.h.frameBytes); // header, records or trailer
    const from = Math.floor(random() * f.h.baseOffset);
    const inside = f.h.baseOffset + Math.floor(random() * f.h.recordCount);
    assert.equal(await readFrom(dir), range(N));
    assert.equal(await readFrom(dir, Whence.position(inside)), range(N).slice(inside), 'a seek into it: cached');
    damage(f.path, at);
    const what = `byte ${at} of ${f.path} (frame at ${f.pos}, offsets ${f.h.baseOffset}+${f.h.recordCount})`;
    for (const start of [0, from, inside]) {
      const seen: number[] = [];
      const err = await readFrom(dir, Whence.position(start), seen).then(() => null, (e: { code?: string }) => e);
      assert.is(err?.code, 'ERR_LOG_CORRUPT', `${what}, read from ${start}`);
      assert.equal(seen, range(Math.max(0, f.h.baseOffset - start)).map((i) => start + i), `${what}, read from ${start}: the records before it`);
    }
  }
});

test('a file changed within the racy margin is checked, not cached; once settled it is cached again', async () => {
  const logDir = await makeLog(tempDir(), N);
  await settle(logDir);
  clearReaderCaches();
  const frames = framesOf(logDir);
  const big = cachedFrames(frames).length;
  await readFrom(logDir);
  const seg = frames[0]!.path;
  const inSeg = cachedFrames(frames).filter((f) => f.path === seg).length;
  let conclusive = false;
  for (let attempt = 0; attempt < 20 && !conclusive; attempt++) {
    const now = new Date();
    utimesSync(seg, now, now); // a change: the stamp moves, and the file is racy for a while
    const changedMs = Number(nodeFileIO.stampPath!(seg).ctimeNs / 1_000_000n);
    let delta = track();
    await readFrom(logDir, Whence.position(0));
    let d = delta();
    assert.is(d.framesTrusted, big - inSeg, 'the changed segment\'s frames are checked again');
    delta = track();
    await readFrom(logDir, Whence.position(0));
    d = delta();
    // Meaningful only if both reads ended within the margin after the change (a slow machine may not).
    if (Date.now() < changedMs + SETTLE_MARGIN_MS) {
      conclusive = true;
      assert.is(d.framesTrusted, big - inSeg, 'checked within the margin: not trusted on the next read');
    }
  }
  assert.ok(conclusive, 'no attempt read the log twice within the racy margin');
  await settle(logDir);
  await readFrom(logDir, Whence.position(0));
  const delta = track();
  await readFrom(logDir, Whence.position(0));
  assert.is(delta().framesTrusted, big, 'settled: checked once more, then trusted');
});

test('verifyLog never uses the cache: its file layer has no stamp, and nothing is trusted while it runs', async () => {
  const logDir = await makeLog(tempDir(), N);
  await settle(logDir);
  await readFrom(logDir);
  await readFrom(logDir);
  assert.is(readOnlyFileIO(nodeFileIO).stamp, undefined);
  assert.is(readOnlyFileIO(nodeFileIO).stampPath, undefined);
  const f = cachedFrames(framesOf(logDir))[0]!;
  damage(f.path, f.pos + 1000);
  const delta = track();
  const report = await verifyLog(logDir);
  assert.is(delta().framesTrusted, 0);
  assert.not.ok(report.ok, 'verify reports the damage');
});

const stampAt = (ms: number, extraNs = 123_456n): FileStamp => {
  const ns = BigInt(ms) * 1_000_000n + extraNs;
  return { dev: 1n, ino: 2n, size: 3n, mtimeNs: ns, ctimeNs: ns };
};
const frame = (baseOffset: number): FrameHeader => ({ frameBytes: MIN_CACHED_FRAME_BYTES, recordCount: 1, baseOffset, timestampMs: 0, durablePosition: 0, crc: 7 });
const body = Buffer.alloc(MIN_CACHED_FRAME_BYTES);
body.writeUInt32LE(MIN_CACHED_FRAME_BYTES - 48, FRAME_HEADER_BYTES);

test('unsettledUntilMs is exactly where settled() turns true, for times on and off whole milliseconds', () => {
  const now = Date.now();
  const seed = Number(process.env.SEED ?? now % 1_000_000);
  const random = prng(seed);
  for (let i = 0; i < 2_000; i++) {
    const ms = now - Math.floor(random() * 5_000);
    // On a whole millisecond (utimes with a Date), just off it, or anywhere; a second mtime or ctime.
    const extra = [0n, 1n, 999_999n, BigInt(Math.floor(random() * 1_000_000))][i % 4]!;
    const other = BigInt(ms - Math.floor(random() * 50)) * 1_000_000n;
    const base = stampAt(ms, extra);
    const stamp = i % 3 === 0 ? { ...base, mtimeNs: other } : i % 3 === 1 ? { ...base, ctimeNs: other } : base;
    const until = unsettledUntilMs(stamp);
    assert.ok(Number.isInteger(until), `seed ${seed}: ${until}`);
    for (const w of [until - 2, until - 1, until, until + 1]) {
      assert.is(settled(stamp, w), w >= until, `seed ${seed}: stamp ${stamp.mtimeNs}/${stamp.ctimeNs}, wall ${w}, until ${until}`);
    }
  }
});

test('the racy-timestamp rule: margins, whole-second times, a clock that steps back', () => {
  const now = Date.now();
  assert.ok(settled(stampAt(now - SETTLE_MARGIN_MS - 1), now));
  assert.not.ok(settled(stampAt(now - SETTLE_MARGIN_MS + 5), now), 'inside the margin');
  assert.not.ok(settled(stampAt(now + 1000), now), 'in the future');
  assert.not.ok(settled({ ...stampAt(now - 1000), ctimeNs: stampAt(now).ctimeNs }, now), 'ctime inside the margin');
  const whole = stampAt(Math.floor((now - 1000) / 1000) * 1000, 0n);
  assert.not.ok(settled(whole, now), 'whole-second times take the coarse margin');
  assert.ok(settled(stampAt(now - COARSE_SETTLE_MARGIN_MS - 1000, 0n), now));

  clearReaderCaches();
  recordFrame('/x/a.seg', stampAt(now - 10_000), wallNowMs(), 32, frame(0), body, 0);
  assert.ok(segmentEntry('/x/a.seg')?.frames.has(32));
  const realNow = Date.now;
  try {
    Date.now = () => realNow() - 60_000; // the wall clock steps back a minute
    wallNowMs();
    assert.is(segmentEntry('/x/a.seg'), undefined, 'a clock stepping back empties the caches');
  } finally {
    Date.now = realNow;
    wallNowMs();
  }
});

test('a verified frame matches only the header it was checked with: another length, record count, base offset or stored CRC is another frame, checked again', () => {
  clearReaderCaches();
  const h = frame(40);
  recordFrame('/x/m.seg', stampAt(Date.now() - 10_000), wallNowMs(), 32, h, body, 0);
  const slot = segmentEntry('/x/m.seg')!.frames.get(32)!;
  assert.ok(frameMatches(slot, { ...h }), 'the same header');
  // A frame rewritten in place with the same shape and other bytes differs in its stored CRC only.
  for (const [what, other] of [
    ['frameBytes', { ...h, frameBytes: h.frameBytes + 8 }],
    ['recordCount', { ...h, recordCount: 2 }],
    ['baseOffset', { ...h, baseOffset: 41 }],
    ['crc', { ...h, crc: h.crc + 1 }],
  ] as const) assert.not.ok(frameMatches(slot, other), `another ${what}: not the verified frame`);
  clearReaderCaches();
});

test('the cache is bounded: whole segments are evicted, least recently used first', () => {
  clearReaderCaches();
  const stamp = stampAt(Date.now() - 10_000);
  const perSegment = MAX_CACHED_FRAMES / 2;
  for (const seg of ['a', 'b', 'c']) {
    for (let i = 0; i < perSegment; i++) recordFrame(`/x/${seg}.seg`, stamp, wallNowMs(), 32 + i * MIN_CACHED_FRAME_BYTES, frame(i), body, 0);
  }
  assert.is(segmentEntry('/x/a.seg'), undefined, 'the oldest segment went');
  assert.is(segmentEntry('/x/b.seg')?.frames.size, perSegment);
  assert.is(segmentEntry('/x/c.seg')?.frames.size, perSegment);
  recordFrame('/x/d.seg', stamp, wallNowMs(), 32, { ...frame(0), frameBytes: MIN_CACHED_FRAME_BYTES - 1 }, body, 0);
  assert.is(segmentEntry('/x/d.seg'), undefined, 'a frame under the floor is not kept');
  clearReaderCaches();
});

/** A frame of MIN_CACHED_FRAME_BYTES holding 15 records of 1,024 bytes with their length words, then one of 980. */
const manyRecords: FrameHeader = { ...frame(0), recordCount: 16 };
const manyBody = Buffer.alloc(MIN_CACHED_FRAME_BYTES);
for (let i = 0; i < 16; i++) manyBody.writeUInt32LE(i < 15 ? 1020 : 976, FRAME_HEADER_BYTES + i * 1024);

test('cached frames live in reused slots: an evicted segment frees them for the next frames and keeps none itself', () => {
  clearReaderCaches();
  const stamp = stampAt(Date.now() - 10_000);
  const perSegment = MAX_CACHED_FRAMES / 4;
  const position = (i: number) => 32 + i * MIN_CACHED_FRAME_BYTES;
  for (let i = 0; i < perSegment; i++) recordFrame('/x/0.seg', stamp, wallNowMs(), position(i), { ...manyRecords, baseOffset: 16 * i }, manyBody, 0);
  const first = segmentEntry('/x/0.seg')!;
  const firstSlot = first.frames.get(position(0))!;
  assert.equal(markAtOrBefore(firstSlot, 5), [4, FRAME_HEADER_BYTES + 4 * 1024], 'a record start is noted every 2 KiB');
  // Eleven more segments: three times what the cache holds.
  for (let seg = 1; seg < 12; seg++) {
    for (let i = 0; i < perSegment; i++) recordFrame(`/x/${seg}.seg`, stamp, wallNowMs(), position(i), frame(seg * perSegment + i), body, 0);
  }
  assert.is(segmentEntry('/x/0.seg'), undefined, 'the first segment was evicted');
  assert.is(first.frames.size, 0, 'an evicted entry keeps no frames: a reader still holding it trusts nothing from it');
  assert.is(slotsInUse(), MAX_CACHED_FRAMES, 'each cached frame holds one slot, an evicted one none');
  assert.is(slotCapacity(), MAX_CACHED_FRAMES, 'the slots never outgrow the bound');
  for (let seg = 8; seg < 12; seg++) {
    const e = segmentEntry(`/x/${seg}.seg`)!;
    for (let i = 0; i < perSegment; i += 97) {
      const slot = e.frames.get(position(i))!;
      assert.ok(frameMatches(slot, frame(seg * perSegment + i)), `segment ${seg}, frame ${i}: its slot holds its header`);
      assert.not.ok(frameMatches(slot, { ...manyRecords, baseOffset: 16 * i }), 'not the header of a frame that held the slot before');
      assert.equal(markAtOrBefore(slot, 5), [0, FRAME_HEADER_BYTES], 'nor its record starts');
    }
  }
  clearReaderCaches();
  assert.is(slotsInUse(), 0, 'emptying the caches frees every slot');
});

test('a reader at the end of a segment being written stamps it about once per racy margin, not once per read', async () => {
  // A stamp of a file written moments ago cannot be settled, so it could note nothing: the reader
  // skips stamping until the margin has passed since the change it saw, and reads the size instead.
  const logDir = tempDir();
  const p = await ChildProducer.open(logDir, { syncPolicy: 'never', maxTotalBytes: null });
  let stamps = 0;
  const io: FileIO = { ...nodeFileIO, stamp: (fd) => { stamps++; return nodeFileIO.stamp!(fd); } };
  const r = new LogReader(io, logDir);
  try {
    r.seek(0);
    const n = 300;
    const t0 = Date.now();
    for (let i = 0; i < n; i++) {
      const { writtenOffset } = await p.append([`live-${i}`], 'written');
      assert.is(writtenOffset, i + 1, `record ${i} written`);
      const m = r.read(writtenOffset, true);
      assert.is(m === null ? null : Buffer.from(m.data).toString(), `live-${i}`);
    }
    const margins = (Date.now() - t0) / SETTLE_MARGIN_MS;
    assert.ok(stamps <= 2 + 2 * Math.ceil(margins), `${stamps} stamps for ${n} reads at the end over ${margins.toFixed(1)} margins`);
  } finally {
    r.close();
    await p.close();
  }
});

test.run();
