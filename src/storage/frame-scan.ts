/**
 * Sequential frame scanning over a segment file: the one loop shared by recovery, the verifier and
 * the search for valid data after a damaged frame.
 */
import {
  FRAME_HEADER_BYTES, FRAME_MAGIC, checkFrame, decodeFrameHeader, type FrameHeader,
} from '../format/frame.js';
import { readFull, type FileIO } from './file-io.js';

const CHUNK_BYTES = 1024 * 1024;

export interface ScanEnd {
  /** Byte position after the last valid frame. */
  readonly position: number;
  /** Offset after the last valid frame's records. */
  readonly nextOffset: number;
  /** Timestamp of the last valid frame, or null if none was seen. */
  readonly lastTimestampMs: number | null;
  /** Why scanning stopped before `fileBytes`, or null if it reached it. */
  readonly bad: string | null;
}

/**
 * Walks frames from `start` (expecting `expectedOffset` there) up to `fileBytes`, checking each one
 * fully. Stops at the first frame that is incomplete, fails its checks, or does not carry the expected
 * offset. `onFrame` sees each valid frame, its position, and its bytes: `bytes` from `at` (valid until
 * onFrame returns).
 */
export function scanFrames(
  io: FileIO, fd: number, fileBytes: number, start: number, expectedOffset: number,
  onFrame?: (position: number, header: FrameHeader, bytes: Buffer, at: number) => void,
): ScanEnd {
  let buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(FRAME_HEADER_BYTES, fileBytes - start)));
  let bufPos = start; // file position of buf[0]
  let bufLen = 0;
  let pos = start;
  let next = expectedOffset;
  let lastTs: number | null = null;
  while (pos < fileBytes) {
    // Make sure the header is in the buffer.
    if (pos + FRAME_HEADER_BYTES > bufPos + bufLen) {
      bufPos = pos;
      bufLen = readFull(io, fd, buf, 0, Math.min(buf.byteLength, fileBytes - pos), pos);
    }
    const h = decodeFrameHeader(buf.subarray(0, bufLen), pos - bufPos);
    if (typeof h === 'string') return { position: pos, nextOffset: next, lastTimestampMs: lastTs, bad: h };
    if (h.baseOffset !== next) return { position: pos, nextOffset: next, lastTimestampMs: lastTs, bad: `frame holds offset ${h.baseOffset}, expected ${next}` };
    if (pos + h.frameBytes > fileBytes) return { position: pos, nextOffset: next, lastTimestampMs: lastTs, bad: 'frame runs past the end of the file' };
    if (pos + h.frameBytes > bufPos + bufLen) {
      if (h.frameBytes > buf.byteLength) buf = Buffer.allocUnsafe(h.frameBytes);
      bufPos = pos;
      bufLen = readFull(io, fd, buf, 0, Math.min(buf.byteLength, fileBytes - pos), pos);
      if (bufLen < h.frameBytes) return { position: pos, nextOffset: next, lastTimestampMs: lastTs, bad: 'frame runs past the end of the file' };
    }
    const why = checkFrame(buf.subarray(0, bufLen), pos - bufPos, h);
    if (why !== null) return { position: pos, nextOffset: next, lastTimestampMs: lastTs, bad: why };
    onFrame?.(pos, h, buf, pos - bufPos);
    pos += h.frameBytes;
    next += h.recordCount;
    lastTs = h.timestampMs;
  }
  return { position: pos, nextOffset: next, lastTimestampMs: lastTs, bad: null };
}

/**
 * The buffer readFrameAt reads frames into, reused (grown to the largest frame read, up to
 * CHUNK_BYTES; a larger frame gets a buffer of its own): nothing read into it leaves the function. A fresh buffer for every frame costs the page faults of memory the allocator maps
 * anew (recovery checks up to one frame per index entry).
 */
let frameScratch: Buffer | null = null;

/** Reads and fully checks the one frame at `position`; returns its header, or a reason string. */
export function readFrameAt(io: FileIO, fd: number, fileBytes: number, position: number): FrameHeader | string {
  const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  if (readFull(io, fd, head, 0, FRAME_HEADER_BYTES, position) < FRAME_HEADER_BYTES) return 'frame header is short';
  const h = decodeFrameHeader(head, 0);
  if (typeof h === 'string') return h;
  if (position + h.frameBytes > fileBytes) return 'frame runs past the end of the file';
  let whole = frameScratch;
  if (whole === null || whole.byteLength < h.frameBytes) {
    whole = Buffer.allocUnsafe(h.frameBytes);
    if (h.frameBytes <= CHUNK_BYTES) frameScratch = whole;
  }
  if (readFull(io, fd, whole, 0, h.frameBytes, position) < h.frameBytes) return 'frame is short';
  return checkFrame(whole, 0, h) ?? h;
}

/**
 * Looks for any fully valid frame starting after `from`. With `durableAbove`, only a frame whose durable
 * position is above `from` (and not past its own start) counts: such a frame proves that the bytes at
 * `from` had been fsynced before it was written, so damage there is not a torn tail. With
 * `notBeforeMs` (the timestamp of the last valid frame before `from`, in a segment of format 2, whose
 * writer never stamps a frame below the one before), a frame stamped earlier does not count either: it
 * was not written after that frame by this segment's writer (a record's payload can hold a whole
 * segment file of another log, whose frames all sit at or past their own positions). Returns that
 * frame's position, or null.
 */
export function findValidFrameAfter(
  io: FileIO, fd: number, fileBytes: number, from: number, durableAbove: boolean, notBeforeMs: number | null = null,
): number | null {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(FRAME_MAGIC, 0);
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let base = from + 1;
  while (base < fileBytes) {
    const n = readFull(io, fd, chunk, 0, Math.min(CHUNK_BYTES, fileBytes - base), base);
    if (n < 4) return null;
    const view = chunk.subarray(0, n);
    for (let at = view.indexOf(magic); at >= 0; at = view.indexOf(magic, at + 1)) {
      const h = readFrameAt(io, fd, fileBytes, base + at);
      // A frame's durable position never lies past its own start: a frame that says otherwise is not
      // this file's (a record's payload can hold the bytes of a whole frame of another log).
      if (typeof h === 'string' || (notBeforeMs !== null && !(h.timestampMs >= notBeforeMs))) continue;
      if (!durableAbove || (h.durablePosition > from && h.durablePosition <= base + at)) return base + at;
    }
    if (n < CHUNK_BYTES) return null;
    base += n - 3; // overlap so a magic split across chunks is still found
  }
  return null;
}
