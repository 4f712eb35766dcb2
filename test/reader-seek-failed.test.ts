/**
 * A seek that fails (a read or open of the segment failing with EIO) leaves the reader standing at the
 * offset it was asked for: `nextOffset` names it and the next read makes the seek again. Before, the
 * reader stood wherever the failed seek had left it: a pool call whose closing seek (RecordFeed's
 * endPoolCall, the reader put back at the first record not done) failed made the next pool call start
 * there, at record 0 of a cursor committed at 40, and its commit broke the cursor's invariant
 * (ERR_INTERNAL "cursor would move backwards", found by fault-loop-pool with SEED=102865).
 */
import * as assert from 'uvu/assert';
import { ErrorCode, LogError } from '../src/index.js';
import { LogReader } from '../src/reader/log-reader.js';
import { nodeFileIO, type FileIO } from '../src/storage/file-io.js';
import { suite, tempDir } from './kit.js';
import { makeLog } from './reader-kit.js';

const test = suite('reader-seek-failed');

/** nodeFileIO whose reads and opens fail with EIO while `failing` is set. */
function flakyIO(): { io: FileIO; fail: (on: boolean) => void } {
  let failing = false;
  const eio = (): never => {
    throw Object.assign(new Error('EIO: injected, read'), { code: 'EIO', errno: -5, syscall: 'read' });
  };
  const io: FileIO = {
    ...nodeFileIO,
    open: (path, flags, mode) => (failing ? eio() : nodeFileIO.open(path, flags, mode)),
    read: (fd, buf, offset, length, position) => (failing ? eio() : nodeFileIO.read(fd, buf, offset, length, position)),
  };
  return { io, fail: (on) => { failing = on; } };
}

test('a failed seek: nextOffset is the target, and the next read seeks again and reads the record there', async () => {
  const logDir = await makeLog(tempDir(), 400);
  const { io, fail } = flakyIO();
  const reader = new LogReader(io, logDir);
  try {
    reader.seek(0);
    for (let i = 0; i < 5; i++) assert.is(reader.read(400, false)?.offset, i);
    fail(true);
    const err = (() => {
      try {
        reader.seek(300);
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(err instanceof LogError && err.code === ErrorCode.IO, `the seek fails with ERR_IO: ${String(err)}`);
    assert.is(reader.nextOffset, 300, 'the reader stands at the offset it was asked for');
    // Still failing: the read fails too, and the reader still stands there.
    assert.throws(() => reader.read(400, false), (e: unknown) => e instanceof LogError && e.code === ErrorCode.IO);
    assert.is(reader.nextOffset, 300);
    fail(false);
    assert.is(reader.read(400, false)?.offset, 300, 'the next read makes the seek and reads record 300');
    assert.is(reader.read(400, false)?.offset, 301);
  } finally {
    fail(false);
    reader.close();
  }
});

test.run();
