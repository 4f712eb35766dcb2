/**
 * A broken internal invariant is ERR_INTERNAL, never ERR_LOG_CORRUPT or an I/O error: a cursor asked to
 * move backwards, a ring record the writer finds reaching past the published head (the write half of
 * the pair assertion: nothing of that frame reaches the file), and a message from the writer thread
 * that the protocol does not know. Each breaks the invariant by hand, through internals.
 */
import * as assert from 'uvu/assert';
import { Producer, SyncPolicy } from '../dist/index.js';
import { CursorFile } from '../src/cursor/cursor-file.js';
import { I32, controlViews, type SharedLog } from '../src/ring/layout.js';
import { fileIO } from '../src/storage/file-io.js';
import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, checkBuiltFrame, fillFrameHeader } from '../src/format/frame.js';
import { suite, rejectsWith, tempDir, throwsWith, waitFor, readTexts } from './kit.js';
const test = suite('internal');

/** The producer's shared memory and writer thread, which no public API exposes. */
function internals(p: Producer): { shared: SharedLog; worker: { emit(event: string, m: unknown): boolean } } {
  return p as unknown as { shared: SharedLog; worker: { emit(event: string, m: unknown): boolean } };
}

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

test('a ring record reaching past the published head fails the writer with ERR_INTERNAL before it writes', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  p.append('r0');
  await p.flush();
  // Publish 8 bytes whose length field claims 1,000: a producer-side bug the writer must not frame.
  const { shared } = internals(p);
  const c = controlViews(shared.control);
  const head = Atomics.load(c.i32, I32.HEAD) >>> 0;
  new DataView(shared.ring).setUint32(head & (shared.ring.byteLength - 1), 1000, true);
  Atomics.store(c.i32, I32.HEAD, (head + 8) | 0);
  Atomics.add(c.i32, I32.WRITER_WAKE, 1);
  Atomics.notify(c.i32, I32.WRITER_WAKE);
  await waitFor(() => p.error !== null, 'the writer to fail');
  const err = await rejectsWith(p.flush(), 'ERR_INTERNAL');
  assert.match(err.message, 'reaches past the published head');
  assert.is(p.error?.code, 'ERR_INTERNAL');
  assert.is(p.writtenOffset, 1, 'nothing of the bad frame was published');
  throwsWith(() => p.append('r1'), 'ERR_INTERNAL');
  await rejectsWith(p.close(), 'ERR_INTERNAL');
  assert.equal(await readTexts(logDir), ['r0'], 'nothing of the bad frame reached the file');
});

test('a message the writer protocol does not know fails the producer with ERR_INTERNAL', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  p.append('r0');
  await p.flush();
  internals(p).worker.emit('message', { type: 'bogus' });
  assert.is(p.error?.code, 'ERR_INTERNAL');
  assert.match(p.error!.message, 'bogus');
  throwsWith(() => p.append('r1'), 'ERR_INTERNAL');
  await rejectsWith(p.flush(), 'ERR_INTERNAL');
  await rejectsWith(p.close(), 'ERR_INTERNAL');
  // The writer thread is stopped and the lock released: the directory opens again.
  const q = await Producer.open({ logDir });
  assert.is(q.nextOffset, 1);
  await q.close();
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
