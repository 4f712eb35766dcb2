/**
 * A pool worker's reader (LaneReader, shared by the lanes a worker thread runs) after a seek that
 * failed (EIO) stands at the offset that seek was asked for, and the next read makes the seek again.
 * A lane that then moves forward (skipTo, or a jump from another lane's hint) to a record past that
 * offset must read that record, not the one the failed seek aimed at: before, the move went through
 * while the seek stayed pending, the next read made it, and the lane reported the record it was
 * given as "dispatched but cannot be read" (ERR_LOG_CORRUPT) after a passing I/O error.
 */
import * as assert from 'uvu/assert';
import { ErrorCode, LogError } from '../src/index.js';
import { LaneReader } from '../src/reader/lane-reader.js';
import { clearReaderCaches } from '../src/reader/verified-cache.js';
import { nodeFileIO, type FileIO } from '../src/storage/file-io.js';
import { suite, tempDir } from './kit.js';
import { makeLog } from './reader-kit.js';

const test = suite('lane-reader-seek-failed');
const N = 6_000; // several frames and segments (reader-kit)

/** nodeFileIO whose listings of the directory fail with EIO while `failing` is set (a seek then fails before it opens a segment). */
function flakyIO(): { io: FileIO; fail: (on: boolean) => void } {
  let failing = false;
  const io: FileIO = {
    ...nodeFileIO,
    readdir: (dir) => {
      if (failing) throw Object.assign(new Error('EIO: injected, scandir'), { code: 'EIO', errno: -5, syscall: 'scandir' });
      return nodeFileIO.readdir(dir);
    },
  };
  return { io, fail: (on) => { failing = on; } };
}

/**
 * A seek at `offset` that fails (EIO listing the directory). The process's reader caches are emptied
 * first: once the directory's stamp is older than the racy-timestamp margin (a slow or loaded run),
 * a seek takes its cached listing and lists nothing, and would not fail.
 */
function failedSeek(reader: LaneReader, fail: (on: boolean) => void, offset: number): void {
  clearReaderCaches();
  fail(true);
  try {
    assert.throws(() => reader.seek(offset), (e: unknown) => e instanceof LogError && e.code === ErrorCode.IO);
  } finally {
    fail(false);
  }
  assert.is(reader.nextOffset, offset);
}

test('after a failed seek, a skip forward reads the record skipped to', async () => {
  const logDir = await makeLog(tempDir(), N);
  const { io, fail } = flakyIO();
  const reader = new LaneReader(io, logDir);
  try {
    reader.seek(0);
    for (let i = 0; i < 5; i++) assert.is(reader.read(Infinity, false)?.offset, i);
    failedSeek(reader, fail, 3000);
    // A lane's move (pool-lane.ts readRecord): forward by skipping, else a seek.
    if (!reader.skipTo(3100)) reader.seek(3100);
    assert.is(reader.read(Infinity, false)?.offset, 3100);
    assert.is(reader.read(Infinity, false)?.offset, 3101);
  } finally {
    reader.close();
  }
});

test('after a failed seek, a jump from another lane\'s hint reads the record jumped to', async () => {
  const logDir = await makeLog(tempDir(), N);
  const { io, fail } = flakyIO();
  const a = new LaneReader(nodeFileIO, logDir);
  const b = new LaneReader(io, logDir);
  try {
    a.seek(3050);
    assert.is(a.read(Infinity, false)?.offset, 3050);
    const h = a.hint()!;
    b.seek(0);
    assert.is(b.read(Infinity, false)?.offset, 0);
    failedSeek(b, fail, 3000);
    if (!b.jumpTo(h, 3060) && !b.skipTo(3060)) b.seek(3060);
    assert.is(b.read(Infinity, false)?.offset, 3060);
    assert.is(b.read(Infinity, false)?.offset, 3061);
  } finally {
    a.close();
    b.close();
  }
});

test.run();
