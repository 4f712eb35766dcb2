/**
 * The on-disk format of segment files, byte by byte (docs/format.md explains it in prose).
 *
 * Segment file `<base offset, 20 digits>.seg`:
 *   SEGMENT HEADER (32 bytes)
 *     0  u32  magic 0x474f4c52 ("RLOG" little endian)
 *     4  u16  format version (2; segments of version 1 are read as well)
 *     6  u16  header bytes (32)
 *     8  u64  base offset (the offset of the first record in this file; equals the file name)
 *    16  f64  created, ms since epoch
 *    24  u32  reserved, zero
 *    28  u32  CRC-32 of bytes 0..27
 *   FRAME*   (one per batch the writer wrote)
 *     0  u32  magic 0x48435242 ("BRCH" little endian)
 *     4  u32  CRC-32 of bytes 8 .. frameBytes-4 (the rest of the header and the body)
 *     8  u32  frame bytes (header + body + trailer)
 *    12  u32  record count (at least 1)
 *    16  u64  base offset (offset of the first record in this frame)
 *    24  f64  timestamp, ms since epoch, when the writer framed the batch
 *    32  u64  durable position: every byte of this file below it was fsynced before this frame was written
 *    40  body: record count times [u32 length word][payload]: bit 31 of the word flags an attribute
 *             block at the payload's start (format 2, src/format/record.ts), bits 0-30 are its length
 *   end  u32  frame bytes again (lets a reader find the last frame from the end of a sealed file)
 *
 * All integers are little endian; u64 values stay below 2^53.
 */
import { crc32 } from 'node:zlib';
import { LogError } from '../errors.js';
import { RECORD_ATTRIBUTES_FLAG, RECORD_LENGTH_MASK, decodeAttributes } from './record.js';

/** The format version this code writes into new segments. */
export const FORMAT_VERSION = 2;
/** The oldest format version this code reads (and continues: a log of version 1 keeps its segments). */
export const OLDEST_FORMAT_VERSION = 1;
/** The first format version whose writer never stamps a frame below the frame before it ("Timestamps" in docs/format.md). */
export const MONOTONE_TIMESTAMPS_VERSION = 2;
export const SEGMENT_MAGIC = 0x474f4c52;
export const SEGMENT_HEADER_BYTES = 32;
export const FRAME_MAGIC = 0x48435242;
export const FRAME_HEADER_BYTES = 40;
export const FRAME_TRAILER_BYTES = 4;
export const FRAME_OVERHEAD_BYTES = FRAME_HEADER_BYTES + FRAME_TRAILER_BYTES;
export const RECORD_LENGTH_BYTES = 4;
export { RECORD_ATTRIBUTES_FLAG, RECORD_LENGTH_MASK };
/** A frame never claims more than this; anything larger is damage, not a record. */
export const MAX_FRAME_BYTES = 0xfffffff0;

export function writeU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % 0x1_0000_0000, true);
  view.setUint32(at + 4, Math.floor(value / 0x1_0000_0000), true);
}

export function readU64(view: DataView, at: number): number {
  return view.getUint32(at + 4, true) * 0x1_0000_0000 + view.getUint32(at, true);
}

/**
 * The little-endian u32 at `b[at]` (in bounds), composed from its bytes. For per-record paths:
 * `Buffer#readUInt32LE` costs a generic property lookup per call in V8's optimized code (the method
 * on Buffer.prototype is not constant-folded, seen as `Builtins_LoadIC` in `perf`), and a DataView
 * would be one more object per buffer.
 */
export function u32At(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x100_0000;
}

export function encodeSegmentHeader(baseOffset: number, createdMs: number): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  v.setUint32(0, SEGMENT_MAGIC, true);
  v.setUint16(4, FORMAT_VERSION, true);
  v.setUint16(6, SEGMENT_HEADER_BYTES, true);
  writeU64(v, 8, baseOffset);
  v.setFloat64(16, createdMs, true);
  v.setUint32(28, crc32(b.subarray(0, 28)), true);
  return b;
}

export interface SegmentHeader {
  readonly baseOffset: number;
  readonly createdMs: number;
  /** OLDEST_FORMAT_VERSION to FORMAT_VERSION. */
  readonly version: number;
}

/**
 * Decodes a segment header; returns a reason string when it is not a valid one. A header that is
 * valid (magic and checksum) but names a version newer than FORMAT_VERSION is no damage: it throws
 * ERR_UNSUPPORTED_FORMAT, so that nobody takes the file for a torn one, or reads it as this version.
 */
export function decodeSegmentHeader(b: Uint8Array, file = 'segment'): SegmentHeader | string {
  if (b.byteLength < SEGMENT_HEADER_BYTES) return 'segment header is short';
  const v = new DataView(b.buffer, b.byteOffset, SEGMENT_HEADER_BYTES);
  if (v.getUint32(0, true) !== SEGMENT_MAGIC) return 'bad segment magic';
  if (v.getUint32(28, true) !== crc32(b.subarray(0, 28))) return 'segment header checksum mismatch';
  const version = v.getUint16(4, true);
  if (version > FORMAT_VERSION) throw LogError.unsupportedFormat(file, `format version ${version}; this one reads ${OLDEST_FORMAT_VERSION} to ${FORMAT_VERSION}`);
  if (version < OLDEST_FORMAT_VERSION) return `unsupported format version ${version}`;
  return { baseOffset: readU64(v, 8), createdMs: v.getFloat64(16, true), version };
}

export interface FrameHeader {
  readonly frameBytes: number;
  readonly recordCount: number;
  readonly baseOffset: number;
  readonly timestampMs: number;
  readonly durablePosition: number;
  readonly crc: number;
}

/** Fills a frame header in `out` (FRAME_HEADER_BYTES). The CRC field is left zero: the writer sets it (bytes 4-7) once the body's CRC is known. */
export function fillFrameHeader(out: DataView, frameBytes: number, recordCount: number, baseOffset: number, timestampMs: number, durablePosition: number): void {
  out.setUint32(0, FRAME_MAGIC, true);
  out.setUint32(4, 0, true);
  out.setUint32(8, frameBytes, true);
  out.setUint32(12, recordCount, true);
  writeU64(out, 16, baseOffset);
  out.setFloat64(24, timestampMs, true);
  writeU64(out, 32, durablePosition);
}

/** CRC-32 of the header fields after the CRC slot; continue it over the body with `crc32(body, value)`. */
export function headerCrc(header: Uint8Array): number {
  return crc32(header.subarray(8, FRAME_HEADER_BYTES));
}

/**
 * Reads the fixed header fields at `at`; returns a reason string for a header that cannot be the start
 * of a frame (bad magic, impossible length). Does not check the CRC: see `checkFrame`.
 */
export function decodeFrameHeader(b: Uint8Array, at: number): FrameHeader | string {
  if (b.byteLength - at < FRAME_HEADER_BYTES) return 'frame header is short';
  const v = new DataView(b.buffer, b.byteOffset + at, FRAME_HEADER_BYTES);
  if (v.getUint32(0, true) !== FRAME_MAGIC) return 'bad frame magic';
  const frameBytes = v.getUint32(8, true);
  const recordCount = v.getUint32(12, true);
  if (frameBytes < FRAME_OVERHEAD_BYTES + RECORD_LENGTH_BYTES || frameBytes > MAX_FRAME_BYTES) return `impossible frame length ${frameBytes}`;
  if (recordCount === 0 || recordCount > (frameBytes - FRAME_OVERHEAD_BYTES) / RECORD_LENGTH_BYTES) return `impossible record count ${recordCount}`;
  return {
    frameBytes,
    recordCount,
    baseOffset: readU64(v, 16),
    timestampMs: v.getFloat64(24, true),
    durablePosition: readU64(v, 32),
    crc: v.getUint32(4, true),
  };
}

/**
 * Checks a whole frame held in `b` at `at` (header already decoded): CRC, trailer, and that the record
 * lengths fill the body exactly. Returns null when valid, else the reason.
 */
export function checkFrame(b: Uint8Array, at: number, h: FrameHeader): string | null {
  if (b.byteLength - at < h.frameBytes) return 'frame is short';
  const end = at + h.frameBytes;
  const v = new DataView(b.buffer, b.byteOffset + at, h.frameBytes);
  if (v.getUint32(h.frameBytes - FRAME_TRAILER_BYTES, true) !== h.frameBytes) return 'frame trailer does not match its length';
  const crc = crc32(b.subarray(at + FRAME_HEADER_BYTES, end - FRAME_TRAILER_BYTES), headerCrc(b.subarray(at, at + FRAME_HEADER_BYTES)));
  if (crc !== h.crc) return 'frame checksum mismatch';
  let p = FRAME_HEADER_BYTES;
  const bodyEnd = h.frameBytes - FRAME_TRAILER_BYTES;
  for (let i = 0; i < h.recordCount; i++) {
    if (p + RECORD_LENGTH_BYTES > bodyEnd) return 'record lengths overrun the frame';
    const word = v.getUint32(p, true);
    const next = p + RECORD_LENGTH_BYTES + (word & RECORD_LENGTH_MASK);
    // An attribute block is checked by its shape here, so that a reader never meets one it cannot decode.
    if (word > RECORD_LENGTH_MASK && next <= bodyEnd) {
      const why = decodeAttributes(b, at + p + RECORD_LENGTH_BYTES, at + next, false, true);
      if (typeof why === 'string') return `record ${h.baseOffset + i}: ${why}`;
    }
    p = next;
  }
  if (p !== bodyEnd) return 'record lengths do not fill the frame';
  return null;
}

/**
 * The write half of the pair with `checkFrame`: checks a frame the writer built, before it is written,
 * the way a reader will decode it: the header decodes (magic, a possible length and record count), its
 * length is the body's slices plus the overhead, and the trailer repeats it. Costs a few field reads
 * per frame and one step per body slice; record bytes are not read (the CRC covers them). Returns null
 * when valid, else the reason.
 */
export function checkBuiltFrame(
  header: Uint8Array, body: readonly Uint8Array[], trailer: Uint8Array, recordCount: number, baseOffset: number,
): string | null {
  const h = decodeFrameHeader(header, 0);
  if (typeof h === 'string') return h;
  if (h.recordCount !== recordCount || h.baseOffset !== baseOffset) {
    return `it claims ${h.recordCount} records from ${h.baseOffset} for ${recordCount} records from ${baseOffset}`;
  }
  let bodyBytes = 0;
  for (const slice of body) bodyBytes += slice.byteLength;
  if (h.frameBytes !== bodyBytes + FRAME_OVERHEAD_BYTES) return `frame length ${h.frameBytes} does not match a body of ${bodyBytes} bytes`;
  const trailerBytes = (trailer[0]! | (trailer[1]! << 8) | (trailer[2]! << 16) | (trailer[3]! << 24)) >>> 0;
  if (trailerBytes !== h.frameBytes) return `frame trailer ${trailerBytes} does not match its length ${h.frameBytes}`;
  return null;
}

/** Index file `<base>.idx`: 16-byte entries `[u64 offset][u64 position]`, one per indexIntervalBytes. */
export const INDEX_ENTRY_BYTES = 16;
