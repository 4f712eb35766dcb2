/**
 * A reader tailing another process's log searches for proof of damage (a valid frame after invalid
 * bytes, written after an fsync that covered them) once per place and file size. The place names the
 * segment: a frame being written at byte P of one segment (no proof then) says nothing of invalid bytes
 * at the same byte P of a later segment of the same size, where a valid frame after them proves damage.
 * The reader must report ERR_LOG_CORRUPT there, not wait as for a frame being written.
 */
import * as assert from 'uvu/assert';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { LogReader } from '../src/reader/log-reader.js';
import { nodeFileIO } from '../src/storage/file-io.js';
import {
  FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, RECORD_LENGTH_BYTES, SEGMENT_HEADER_BYTES, encodeSegmentHeader, fillFrameHeader, headerCrc,
} from '../src/format/frame.js';
import { segmentName } from '../src/segment/segment-files.js';
import { suite, tempDir } from './kit.js';

const test = suite('reader-proof-memo-segment');

/** A valid frame of `records` from offset `base`, its durable position `durablePosition`. */
function frame(base: number, records: readonly string[], durablePosition: number): Buffer {
  const body = Buffer.concat(records.map((r) => {
    const b = Buffer.alloc(RECORD_LENGTH_BYTES + Buffer.byteLength(r));
    b.writeUInt32LE(Buffer.byteLength(r), 0);
    b.write(r, RECORD_LENGTH_BYTES);
    return b;
  }));
  const bytes = body.length + FRAME_OVERHEAD_BYTES;
  const f = Buffer.alloc(bytes);
  fillFrameHeader(new DataView(f.buffer, f.byteOffset, FRAME_HEADER_BYTES), bytes, records.length, base, 1_700_000_000_000, durablePosition);
  body.copy(f, FRAME_HEADER_BYTES);
  f.writeUInt32LE(bytes, bytes - 4);
  f.writeUInt32LE(crc32(f.subarray(FRAME_HEADER_BYTES, bytes - 4), headerCrc(f)), 4);
  return f;
}

test('invalid bytes at the byte and size where an earlier segment had a frame being written: the proof is searched, ERR_LOG_CORRUPT', () => {
  const dir = tempDir();
  const segA = join(dir, segmentName(0));
  const segB = join(dir, segmentName(2));
  const first = frame(0, ['a0'], 0);
  const P = SEGMENT_HEADER_BYTES + first.length;
  const growing = frame(1, ['x'.repeat(400)], P);
  const S = P + 200;
  // Segment 0 as a tailing reader finds it: its second frame half written (the file ends at S).
  writeFileSync(segA, Buffer.concat([encodeSegmentHeader(0, 1_700_000_000_000), first, growing.subarray(0, S - P)]));

  const reader = new LogReader(nodeFileIO, dir);
  try {
    assert.is(reader.read(Infinity, false)?.offset, 0);
    assert.is(reader.read(Infinity, false), null, 'the frame being written at byte P is not read yet');

    // The writer finishes that frame and rolls to segment 2, which holds at byte P a damaged frame
    // followed by a valid one whose durable position lies past P, and is S bytes long.
    appendFileSync(segA, growing.subarray(S - P));
    const damaged = frame(3, ['y'.repeat(50)], P);
    damaged[FRAME_HEADER_BYTES + RECORD_LENGTH_BYTES] ^= 0xff;
    const proof = frame(4, ['z'.repeat(S - P - damaged.length - FRAME_OVERHEAD_BYTES - RECORD_LENGTH_BYTES)], P + damaged.length);
    const b = Buffer.concat([encodeSegmentHeader(2, 1_700_000_000_000), frame(2, ['b2'], 0), damaged, proof]);
    assert.is(b.length, S, 'segment 2 is as long as segment 0 was');
    assert.is(SEGMENT_HEADER_BYTES + frame(2, ['b2'], 0).length, P, 'its damaged frame starts at byte P');
    writeFileSync(segB, b);

    assert.is(reader.read(Infinity, false)?.offset, 1);
    assert.is(reader.read(Infinity, false)?.offset, 2);
    let code: string | null = null;
    for (let tries = 0; tries < 3 && code === null; tries++) {
      try {
        const m = reader.read(Infinity, false);
        assert.is(m, null, 'nothing past the damaged frame is handed out');
      } catch (e) {
        code = (e as { code?: string }).code ?? String(e);
      }
    }
    assert.is(code, 'ERR_LOG_CORRUPT', 'the damage a valid frame after it proves is reported');
  } finally {
    reader.close();
  }

  // A fresh reader judges the same files so: the damage is provable.
  const fresh = new LogReader(nodeFileIO, dir);
  try {
    for (let i = 0; i < 3; i++) assert.is(fresh.read(Infinity, false)?.offset, i);
    let code: string | null = null;
    try { fresh.read(Infinity, false); } catch (e) { code = (e as { code?: string }).code ?? String(e); }
    assert.is(code, 'ERR_LOG_CORRUPT', 'a fresh reader reports it');
  } finally {
    fresh.close();
  }
});

test.run();
