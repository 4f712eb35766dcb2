/**
 * The tail read (SegmentFile.readAtTail: one pread of up to 4000 bytes at the end of a segment being
 * written, without asking the file's size) honours the writer's word as the chunk read does: a frame is
 * taken without a check only when the written end loaded BEFORE the read covers it. A frame the writer
 * published while the pread ran is checked (reader-writer-frames.test.ts covers the chunk read).
 *
 * The log comes from a producer in a child process (reader-kit.ts), read by the reader from src/ with a
 * WriterFrames of the test's own whose written end moves inside the pread (injected into the file layer),
 * so that the counters are those of the reader under test.
 */
import { realpathSync, utimesSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { LogReader } from '../src/reader/log-reader.js';
import { clearReaderCaches } from '../src/reader/verified-cache.js';
import { nodeFileIO, type FileIO } from '../src/storage/file-io.js';
import { suite, tempDir, throwsWith } from './kit.js';
import { ChildProducer, checkRecord, damage, framesOf, payload, track, type FrameAt } from './reader-kit.js';

const test = suite('reader-tail-read-race');
/** SegmentFile's TAIL_READ_BYTES (not exported): the size of the tail read, which no other read of this test has. */
const TAIL_READ_BYTES = 4000;
/** Records per frame: 5 of 200 B, a frame of 1064 B (two of them and a third fit under TAIL_READ_BYTES). */
const PER_FRAME = 5;

const records = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => payload(from + i));
const endOf = (f: FrameAt): number => f.h.baseOffset + f.h.recordCount;

interface Setup {
  p: ChildProducer;
  reader: LogReader;
  /** The third frame, appended after the reader read the first two. */
  third: FrameAt;
  /** The file layer's calls since `watch()`, as `read <length> @<position>`, `fsize`, `stamp`. */
  ops: string[];
  /** Starts recording; with `publishDuringRead`, the writer publishes the third frame inside the next read. */
  watch(publishDuringRead: boolean): void;
  /** The fake writer publishes the third frame now. */
  publish(): void;
}

/**
 * A live log: a producer (left open) wrote two frames, a reader in "the writer's process" (a fake
 * WriterFrames: fresh from 0, written end as the test sets it) read them and stands at the end of the
 * file, then the producer wrote a third frame, not yet published by the fake writer. `damaged`: a byte
 * of the third frame's records is flipped (only its CRC tells).
 */
async function setup(damaged: boolean): Promise<Setup> {
  const dir = tempDir();
  const p = await ChildProducer.open(dir, { syncPolicy: 'never', maxBatchBytes: 32 * 1024, maxTotalBytes: null });
  // One append a frame: appends made together may share a frame.
  await p.append(records(0, PER_FRAME), 'written', PER_FRAME);
  await p.append(records(PER_FRAME, PER_FRAME), 'written', PER_FRAME);
  const logDir = realpathSync(dir);
  const two = framesOf(logDir);
  assert.is(two.length, 2, 'two frames written');
  // The segment's mtime an hour ahead: to the reader a file being written whose stamps cannot settle
  // for a while (SegmentFile's `live`), however slowly the steps below run. Without it the reader
  // takes the tail read only if it comes within 100 ms of the file's last write.
  const ahead = Date.now() / 1000 + 3600;
  utimesSync(two[0]!.path, ahead, ahead);

  let end = endOf(two[1]!);
  let recording = false;
  let publishInRead = false;
  const ops: string[] = [];
  const io: FileIO = {
    ...nodeFileIO,
    read: (fd, buf, offset, length, position) => {
      const got = nodeFileIO.read(fd, buf, offset, length, position);
      if (recording) {
        ops.push(`read ${length} @${position}`);
        if (publishInRead) end = endOf(third); // the writer published the frame while the pread ran
      }
      return got;
    },
    fsize: (fd) => {
      if (recording) ops.push('fsize');
      return nodeFileIO.fsize(fd);
    },
    stamp: (fd) => {
      if (recording) ops.push('stamp');
      return nodeFileIO.stamp!(fd);
    },
  };
  clearReaderCaches();
  const reader = new LogReader(io, logDir);
  reader.writer = { freshFrom: () => 0, writtenEnd: () => end };
  const before = track();
  for (let i = 0; i < end; i++) checkRecord(reader.read(end, true), i);
  assert.is(reader.read(end, true), null, 'nothing past the written end');
  assert.is(before().framesFresh, 2, 'the first two frames were taken on the writer\'s word (published before the read)');

  await p.append(records(2 * PER_FRAME, PER_FRAME), 'written', PER_FRAME);
  const frames = framesOf(logDir);
  assert.is(frames.length, 3, 'a third frame written');
  const third = frames[2]!;
  assert.is(third.h.baseOffset, endOf(two[1]!));
  assert.ok(third.h.frameBytes < TAIL_READ_BYTES, 'the third frame fits in one tail read, short of a full one');
  if (damaged) damage(third.path, third.pos + 200);
  return {
    p, reader, third, ops,
    watch: (publishDuringRead) => { recording = true; publishInRead = publishDuringRead; },
    publish: () => { end = endOf(third); },
  };
}

/** The read the reader made for the third frame: one tail read at its position, with no size or stamp asked first. */
function assertTailRead(s: Setup): void {
  assert.equal(s.ops, [`read ${TAIL_READ_BYTES} @${s.third.pos}`], 'the third frame came from one tail read (readAtTail), no fstat before it');
}

test('a frame the writer published during the tail read is checked, not taken on its word', async () => {
  const s = await setup(false);
  const delta = track();
  s.watch(true);
  const last = endOf(s.third);
  for (let i = s.third.h.baseOffset; i < last; i++) checkRecord(s.reader.read(last, true), i);
  assertTailRead(s);
  const d = delta();
  assert.is(d.framesChecked, 1, 'the frame published during the read is checked');
  assert.is(d.framesFresh, 0, 'it is not taken on the writer\'s word');
  s.reader.close();
  await s.p.close();
});

test('damage in a frame the writer published during the tail read is found', async () => {
  const s = await setup(true);
  const delta = track();
  s.watch(true);
  const last = endOf(s.third);
  // A written end loaded after the pread would hand the damaged records out (checkRecord then fails on
  // their bytes, or no error comes at all).
  const e = throwsWith(() => {
    for (let i = s.third.h.baseOffset; i < last; i++) checkRecord(s.reader.read(last, true), i);
  }, 'ERR_LOG_CORRUPT');
  assert.match(e.message, /crc|checksum/i, `the damage reported is the frame's checksum: ${e.message}`);
  assertTailRead(s);
  const d = delta();
  assert.is(d.framesChecked, 1, 'the damaged frame was checked');
  assert.is(d.framesFresh, 0);
  s.reader.close();
  await s.p.close();
});

test('control: a frame the writer published before the tail read is taken on its word', async () => {
  // The same read with the frame published before it: the tail read does honour the writer's word, so
  // the counts above tell the race apart (they are not checks the tail read makes whatever the writer says).
  const s = await setup(false);
  s.publish();
  const delta = track();
  s.watch(false);
  const last = endOf(s.third);
  for (let i = s.third.h.baseOffset; i < last; i++) checkRecord(s.reader.read(last, true), i);
  assertTailRead(s);
  const d = delta();
  assert.is(d.framesFresh, 1, 'the frame published before the read is taken on the writer\'s word');
  assert.is(d.framesChecked, 0);
  s.reader.close();
  await s.p.close();
});

test.run();
