/**
 * A reader tailing another process's log holds the header of a frame that is not whole in the file yet
 * (a torn tail: its producer died while writing it). Before the reader reads the rest, the next
 * producer's recovery cuts that frame and writes others in its place (here: G, fsynced, then G2). The
 * rest the reader reads is G's: it must be judged as G, from G's own header, and handed out, never
 * checked against the header of the frame that is gone (which made G look damaged, and G2, written
 * after an fsync that covered G, then passed for proof of damage: ERR_LOG_CORRUPT on a healthy log).
 */
import * as assert from 'uvu/assert';
import { closeSync, openSync, writeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { LogReader } from '../src/reader/log-reader.js';
import { nodeFileIO } from '../src/storage/file-io.js';
import { SEGMENT_HEADER_BYTES } from '../src/format/frame.js';
import { suite, tempDir } from './kit.js';
import { FIRST_FIVE, rewrittenTail, segmentBytes } from './torn-tail-kit.js';

const test = suite('reader-refill-rewritten');

test('the rest of a torn frame rewritten by recovery is read as the frame now there, from its own header', async () => {
  // A: five records in one frame, then a 5000-byte record (T) whose frame the test tears.
  const a = await segmentBytes(async (p) => {
    p.appendBatch(FIRST_FIVE);
    await p.flush();
    p.append(Buffer.alloc(5000, 0x74));
    await p.flush();
  });
  // B: the same first frame (same sizes, so the same positions), then G (6000 bytes, fsynced) and G2.
  const b = await rewrittenTail();
  const firstFrameEnd = SEGMENT_HEADER_BYTES + a.readUInt32LE(SEGMENT_HEADER_BYTES + 8);
  assert.is(b.readUInt32LE(SEGMENT_HEADER_BYTES + 8), firstFrameEnd - SEGMENT_HEADER_BYTES, 'the first frame has the same size in both logs');

  const dir = tempDir();
  const path = join(dir, '00000000000000000000.seg');
  const tornEnd = firstFrameEnd + 3000; // T's header and part of its body
  const fd = openSync(path, 'w');
  writeSync(fd, a, 0, tornEnd, 0);
  closeSync(fd);

  // Recovery's rewrite lands between the reader's read of T's header and its read of the rest: at the
  // first size or stamp the reader asks for once it has handed out the first frame's records.
  let armed = false;
  let rewritten = false;
  const rewrite = (): void => {
    if (!armed || rewritten) return;
    rewritten = true;
    const w = openSync(path, 'r+');
    ftruncateSync(w, firstFrameEnd);
    writeSync(w, b, firstFrameEnd, b.length - firstFrameEnd, firstFrameEnd);
    closeSync(w);
  };
  const io = {
    ...nodeFileIO,
    fsize: (fd: number) => { rewrite(); return nodeFileIO.fsize(fd); },
    stamp: (fd: number) => { rewrite(); return nodeFileIO.stamp!(fd); },
  };

  const reader = new LogReader(io, dir);
  const got: string[] = [];
  for (let m = reader.read(Infinity, false); m !== null; m = reader.read(Infinity, false)) {
    got.push(Buffer.from(m.data).toString());
    if (m.offset === 4) armed = true;
  }
  // The first pass may stop at T (not whole); reading on after the rewrite goes through G and G2.
  for (let tries = 0; tries < 3 && got.length < 7; tries++) {
    for (let m = reader.read(Infinity, false); m !== null; m = reader.read(Infinity, false)) got.push(Buffer.from(m.data).toString());
  }
  reader.close();
  assert.ok(rewritten, 'the rewrite happened between the two reads');
  assert.equal(got, [...FIRST_FIVE, 'g'.repeat(6000), 'g2']);
});

test.run();
