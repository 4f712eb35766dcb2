/**
 * A broken internal invariant is ERR_INTERNAL, never ERR_LOG_CORRUPT or an I/O error: a cursor asked to
 * move backwards, and the writer's check of a frame it built refusing a header that disagrees with it.
 * Each breaks the invariant by hand, through modules of src/ (this file loads nothing of dist/);
 * internal-producer.test.ts has the invariants of a running producer and its writer thread.
 */
import * as assert from 'uvu/assert';
import { CursorFile } from '../src/cursor/cursor-file.js';
import { fileIO } from '../src/storage/file-io.js';
import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, checkBuiltFrame, fillFrameHeader } from '../src/format/frame.js';
import { suite, tempDir, throwsWith } from './kit.js';

const test = suite('internal');

test('a cursor asked to move backwards throws ERR_INTERNAL and keeps its offset', async () => {
  const io = await fileIO();
  const dir = tempDir();
  const cursor = CursorFile.open(io, dir, 'c', 0);
  try {
    cursor.commit(10, null);
    const err = throwsWith(() => cursor.commit(9, null), 'ERR_INTERNAL');
    assert.match(err.message, 'backwards from 10 to 9');
    assert.is(cursor.value.offset, 10);
  } finally {
    cursor.close();
  }
});

test('the writer\'s check of a built frame refuses a header that disagrees with what it frames', () => {
  // One record of 5 bytes: [u32 length][5 bytes], framed for offset 7.
  const body = [Uint8Array.of(5, 0, 0, 0, 1, 2, 3, 4, 5)];
  const frameBytes = 9 + FRAME_OVERHEAD_BYTES;
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  fillFrameHeader(new DataView(header.buffer), frameBytes, 1, 7, 0, 0);
  const trailer = Uint8Array.of(frameBytes, 0, 0, 0);
  assert.is(checkBuiltFrame(header, body, trailer, 1, 7), null);
  assert.match(checkBuiltFrame(header, body, trailer, 2, 7) ?? '', /claims 1 records from 7 for 2 records from 7/);
  assert.match(checkBuiltFrame(header, body, trailer, 1, 8) ?? '', /from 7 for 1 records from 8/);
  assert.match(checkBuiltFrame(header, [body[0]!.subarray(0, 8)], trailer, 1, 7) ?? '', /does not match a body of 8 bytes/);
  assert.match(checkBuiltFrame(header, body, Uint8Array.of(0, 0, 0, 0), 1, 7) ?? '', /trailer 0 does not match/);
});

test.run();
