/**
 * A reader in the writer's process takes the frames that writer wrote lately without checking their CRC
 * again (WriterFrames: src/reader/reader-contracts.ts, SegmentFile.checkFrame; docs/architecture.md,
 * "Frames of this process's writer"): a frame from the writer's fresh start on that ends at or below the
 * written end loaded before the read that brought it. Everything else is checked as before: frames
 * below the fresh start, frames past that end, and frames a read brought while the writer published
 * more (the race: the end is loaded before the read, never after).
 *
 * The logs come from a producer in a child process (reader-kit.ts), read by the reader from src/ with a
 * WriterFrames of the test's own, so that the counters are those of the reader under test.
 */
import * as assert from 'uvu/assert';
import { LogReader } from '../src/reader/log-reader.js';
import type { WriterFrames } from '../src/reader/reader-contracts.js';
import { clearReaderCaches } from '../src/reader/verified-cache.js';
import { nodeFileIO, type FileIO } from '../src/storage/file-io.js';
import { suite, tempDir, throwsWith } from './kit.js';
import { checkRecord, damage, framesOf, makeLog, track, type FrameAt } from './reader-kit.js';

const test = suite('reader-writer-frames');
const N = 8000;

/**
 * Reads the whole log with `reader`, checking each record: up to a published end, as a consumer in the
 * writer's process reads (`strict`: a frame below it that fails its checks is damage), or as a tail of
 * the files without one.
 */
function readAll(reader: LogReader, n: number, strict = false): void {
  const limit = strict ? n : Infinity;
  for (let i = 0; i < n; i++) checkRecord(reader.read(limit, strict), i);
  assert.is(reader.read(limit, strict), null, 'nothing past the log');
}

const endOf = (f: FrameAt): number => f.h.baseOffset + f.h.recordCount;

test('frames from the fresh start up to the written end are taken on the writer\'s word; the others are checked', async () => {
  const logDir = await makeLog(tempDir(), N);
  const frames = framesOf(logDir);
  assert.ok(frames.length >= 40 && new Set(frames.map((f) => f.path)).size >= 3, `${frames.length} frames in several segments`);
  const from = frames[10]!.h.baseOffset;
  const written = endOf(frames[frames.length - 8]!);
  const cases: Array<{ name: string; writer: WriterFrames | null; fresh: (f: FrameAt) => boolean }> = [
    { name: 'no writer', writer: null, fresh: () => false },
    { name: 'all fresh', writer: { freshFrom: () => 0, writtenEnd: () => N }, fresh: () => true },
    { name: 'a window', writer: { freshFrom: () => from, writtenEnd: () => written }, fresh: (f) => f.h.baseOffset >= from && endOf(f) <= written },
    { name: 'none fresh', writer: { freshFrom: () => Infinity, writtenEnd: () => N }, fresh: () => false },
  ];
  for (const c of cases) {
    clearReaderCaches();
    const reader = new LogReader(nodeFileIO, logDir);
    reader.writer = c.writer;
    const delta = track();
    readAll(reader, N);
    const d = delta();
    const fresh = frames.filter(c.fresh).length;
    assert.is(d.framesFresh, fresh, `${c.name}: frames taken on the writer's word`);
    assert.is(d.framesChecked, frames.length - fresh, `${c.name}: frames checked`);
    reader.close();
  }
});

test('damage outside the writer\'s fresh frames is found (below its start, past its written end)', async () => {
  for (const which of ['below the fresh start', 'past the written end']) {
    const dir = await makeLog(tempDir(), N);
    const frames = framesOf(dir);
    const from = frames[10]!.h.baseOffset;
    const written = endOf(frames[frames.length - 8]!);
    const f = frames[which === 'below the fresh start' ? 3 : frames.length - 3]!;
    damage(f.path, f.pos + 200); // a byte of a record: only the CRC tells
    clearReaderCaches();
    const reader = new LogReader(nodeFileIO, dir);
    reader.writer = { freshFrom: () => from, writtenEnd: () => written };
    throwsWith(() => readAll(reader, N), 'ERR_LOG_CORRUPT');
    reader.close();
  }
});

test('the written end is the one loaded before the read: frames the writer published during a read are checked', async () => {
  const logDir = await makeLog(tempDir(), N);
  const frames = framesOf(logDir);
  const first = frames.filter((f) => f.path === frames[0]!.path);
  // The writer has published the first two frames when the reader's first read starts, and publishes
  // everything while that read runs (injected into the read). The read brings the first segment's
  // frames (512 KiB, under one read of 1 MiB): only the first two may be taken on the writer's word.
  let end = endOf(frames[1]!);
  const io: FileIO = {
    ...nodeFileIO,
    read: (fd, buf, offset, length, position) => {
      const got = nodeFileIO.read(fd, buf, offset, length, position);
      if (length > 64 * 1024) end = N; // a chunk's read (the segment's header and the like come before)
      return got;
    },
  };
  clearReaderCaches();
  const reader = new LogReader(io, logDir);
  reader.writer = { freshFrom: () => 0, writtenEnd: () => end };
  const delta = track();
  for (let i = 0; i < endOf(first[first.length - 1]!); i++) checkRecord(reader.read(N, true), i);
  const d = delta();
  assert.is(d.framesFresh, 2, 'the frames published before the read');
  assert.is(d.framesChecked, first.length - 2, 'the frames published during it');
  reader.close();

  // The same with damage in the third frame: found, where a written end loaded after the read would
  // pass it. (Strict, as in the writer's process: a tail of the files would read a frame that fails its
  // checks again, as one perhaps being written, and this fake writer has published it by then.)
  const dir = await makeLog(tempDir(), N);
  const dirFrames = framesOf(dir);
  const f = dirFrames[2]!;
  damage(f.path, f.pos + 200);
  end = endOf(dirFrames[1]!);
  clearReaderCaches();
  const damaged = new LogReader(io, dir);
  damaged.writer = { freshFrom: () => 0, writtenEnd: () => end };
  throwsWith(() => readAll(damaged, N, true), 'ERR_LOG_CORRUPT');
  damaged.close();
});

test('a writer that stops during a read vouches for none of what it brought', async () => {
  const logDir = await makeLog(tempDir(), N);
  const frames = framesOf(logDir);
  let running = true;
  const io: FileIO = {
    ...nodeFileIO,
    read: (fd, buf, offset, length, position) => {
      const got = nodeFileIO.read(fd, buf, offset, length, position);
      if (length > 64 * 1024) running = false; // the writer closed (or failed) while the first chunk was read
      return got;
    },
  };
  clearReaderCaches();
  const reader = new LogReader(io, logDir);
  reader.writer = { freshFrom: () => (running ? 0 : Infinity), writtenEnd: () => N };
  const delta = track();
  readAll(reader, N, true);
  const d = delta();
  assert.is(d.framesFresh, 0);
  assert.is(d.framesChecked, frames.length);
  reader.close();
});

test.run();
