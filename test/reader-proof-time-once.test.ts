/**
 * A reader tailing another process's log, at a frame still being written whose payload holds a valid
 * frame of another log (stamped before this log's last frame, its durable position past the reader's
 * byte), judges that frame no proof of damage by the time of the last valid frame before it
 * (storage/durability-proof.ts). The bytes before its position do not change while it waits there, so
 * that time is read once: each poll that finds the file grown must not scan the segment again from its
 * first frame (a full segment scan per poll beside a large record being written).
 */
import * as assert from 'uvu/assert';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { LogReader } from '../src/reader/log-reader.js';
import {
  FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, RECORD_LENGTH_BYTES, SEGMENT_HEADER_BYTES, encodeSegmentHeader, fillFrameHeader, headerCrc,
} from '../src/format/frame.js';
import { segmentName } from '../src/segment/segment-files.js';
import { countingIO } from './reader-kit.js';
import { suite, tempDir } from './kit.js';

const test = suite('reader-proof-time-once');

const LATE = 2_000_000_000_000;
const EARLY = 1_700_000_000_000;

/** A valid frame of `records` from offset `base`, stamped `ts`, its durable position `durablePosition`. */
function frame(base: number, records: readonly Buffer[], ts: number, durablePosition: number): Buffer {
  const body = Buffer.concat(records.map((r) => {
    const b = Buffer.alloc(RECORD_LENGTH_BYTES + r.length);
    b.writeUInt32LE(r.length, 0);
    r.copy(b, RECORD_LENGTH_BYTES);
    return b;
  }));
  const bytes = body.length + FRAME_OVERHEAD_BYTES;
  const f = Buffer.alloc(bytes);
  fillFrameHeader(new DataView(f.buffer, f.byteOffset, FRAME_HEADER_BYTES), bytes, records.length, base, ts, durablePosition);
  body.copy(f, FRAME_HEADER_BYTES);
  f.writeUInt32LE(bytes, bytes - 4);
  f.writeUInt32LE(crc32(f.subarray(FRAME_HEADER_BYTES, bytes - 4), headerCrc(f)), 4);
  return f;
}

test('polls at a frame being written that holds an older frame: the segment before it is scanned once, not per poll', () => {
  const dir = tempDir();
  const seg = join(dir, segmentName(0));
  // 64 flushed frames of 32 KiB: 2 MiB before the frame being written.
  const parts: Buffer[] = [encodeSegmentHeader(0, EARLY)];
  let pos = SEGMENT_HEADER_BYTES;
  const n = 64;
  for (let i = 0; i < n; i++) {
    const f = frame(i, [Buffer.alloc(32 * 1024, 0x61 + (i % 26))], LATE, pos);
    parts.push(f);
    pos += f.length;
  }
  const P = pos;
  // The record being written holds, 64 bytes into its payload, a frame of another log whose durable
  // position lies past P and not past its own start here (a candidate proof), stamped EARLY.
  const innerAt = P + FRAME_HEADER_BYTES + RECORD_LENGTH_BYTES + 64;
  const inner = frame(7, [Buffer.from('inner record')], EARLY, innerAt);
  const payload = Buffer.alloc(256 * 1024, 0x7a);
  inner.copy(payload, 64);
  const growing = frame(n, [payload], LATE, P);
  let shown = innerAt - P + inner.length + 100;
  writeFileSync(seg, Buffer.concat([...parts, growing.subarray(0, shown)]));

  const counter = countingIO();
  const reader = new LogReader(counter.io, dir);
  try {
    for (let i = 0; i < n; i++) assert.is(reader.read(Infinity, false)?.offset, i);
    assert.is(reader.read(Infinity, false), null, 'the frame being written is not handed out, nor taken for damage');
    counter.reset();
    const polls = 8;
    for (let k = 0; k < polls; k++) {
      appendFileSync(seg, growing.subarray(shown, shown + 1000));
      shown += 1000;
      assert.is(reader.read(Infinity, false), null, `poll ${k}: still being written`);
    }
    const perPoll = counter.bytesRead() / polls;
    assert.ok(perPoll < (P - SEGMENT_HEADER_BYTES) / 2, `a poll reads ${Math.round(perPoll)} bytes; the ${P - SEGMENT_HEADER_BYTES} bytes of frames before the reader's position are not scanned again each time`);
    appendFileSync(seg, growing.subarray(shown));
    const m = reader.read(Infinity, false);
    assert.is(m?.offset, n, 'the frame, once whole, is read');
  } finally {
    reader.close();
  }
});

test.run();
