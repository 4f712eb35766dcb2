/**
 * The sparse offset index of one segment (`<base>.idx`): 16-byte entries `[u64 offset][u64 position]`
 * naming the position of a frame that starts with that offset. It is derived data: it can always be
 * rebuilt from the segment, and every entry is checked before it is trusted: a damaged index costs a
 * longer scan (docs/format.md says what the check, one frame back, cannot tell).
 */
import { LogError } from '../errors.js';
import {
  FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, FRAME_TRAILER_BYTES, INDEX_ENTRY_BYTES, RECORD_LENGTH_BYTES,
  SEGMENT_HEADER_BYTES, decodeFrameHeader, readU64, writeU64,
} from '../format/frame.js';
import { readFull, type FileIO } from '../storage/file-io.js';

export interface IndexEntries {
  /** Offsets, ascending. */
  readonly offsets: number[];
  /** Byte positions in the segment, ascending, same length. */
  readonly positions: number[];
}

/** The entries of an index file as stored, unchecked, up to a bound; what the verifier starts from. */
export interface RawIndex extends IndexEntries {
  /** Bytes after the last whole entry (a torn append), normally 0. */
  readonly partialBytes: number;
  /** Whole entries past the bound, not read: more than the segment can have frames for. */
  readonly excessEntries: number;
}

/** The smallest frame: header, one record's length word, trailer. */
const MIN_FRAME_BYTES = FRAME_OVERHEAD_BYTES + RECORD_LENGTH_BYTES;
/** Entries read at once (64 KiB): a huge index file is never held whole. */
const READ_ENTRIES = 4096;

/** The most entries an index of a segment of `segmentBytes` can hold: one per frame at most. */
export function maxIndexEntries(segmentBytes: number): number {
  return Math.max(0, Math.floor((segmentBytes - SEGMENT_HEADER_BYTES) / MIN_FRAME_BYTES));
}

/**
 * Opens an index file and hands its whole entries, in order and at most `maxEntries` of them, to
 * `take` until it returns false, reading READ_ENTRIES at a time. Returns the file's size, or null
 * when it cannot be opened (missing). Something other than a regular file at `path` is
 * ERR_LOG_CORRUPT: it is never read, and never taken for a missing index.
 */
function eachEntry(io: FileIO, path: string, maxEntries: number, take: (offset: number, position: number) => boolean): number | null {
  let fd: number;
  try {
    fd = io.open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EFTYPE') throw LogError.fromSystem(e, 'opening the index', path);
    return null;
  }
  try {
    const bytes = io.fsize(fd);
    const entries = Math.min(Math.floor(bytes / INDEX_ENTRY_BYTES), maxEntries);
    const buf = Buffer.allocUnsafe(Math.min(entries, READ_ENTRIES) * INDEX_ENTRY_BYTES);
    for (let first = 0; first < entries;) {
      const want = Math.min(entries - first, READ_ENTRIES) * INDEX_ENTRY_BYTES;
      const n = readFull(io, fd, buf, 0, want, first * INDEX_ENTRY_BYTES);
      const v = new DataView(buf.buffer, buf.byteOffset, n);
      for (let at = 0; at + INDEX_ENTRY_BYTES <= n; at += INDEX_ENTRY_BYTES) {
        if (!take(readU64(v, at), readU64(v, at + 8))) return bytes;
      }
      if (n < want) break; // the file shrank meanwhile
      first += READ_ENTRIES;
    }
    return bytes;
  } finally {
    io.close(fd);
  }
}

/**
 * Reads the whole entries of an index file, unchecked, up to `maxIndexEntries(segmentBytes)`: the
 * entries past that bound are counted, never read. Null when the file cannot be opened (missing);
 * something other than a regular file is ERR_LOG_CORRUPT (see eachEntry).
 */
export function readRawIndex(io: FileIO, path: string, segmentBytes: number): RawIndex | null {
  const offsets: number[] = [];
  const positions: number[] = [];
  const maxEntries = maxIndexEntries(segmentBytes);
  const bytes = eachEntry(io, path, maxEntries, (offset, position) => {
    offsets.push(offset);
    positions.push(position);
    return true;
  });
  if (bytes === null) return null;
  const whole = Math.floor(bytes / INDEX_ENTRY_BYTES);
  return { offsets, positions, partialBytes: bytes % INDEX_ENTRY_BYTES, excessEntries: Math.max(0, whole - maxEntries) };
}

/**
 * How an index entry `[offset, position]` stands after the last trusted entry (`lastOffset` at byte
 * `lastPosition`; the segment's base offset and the end of its header before the first): `'in-order'`
 * (above it in both offset and position, and inside the segment's `segmentBytes`), `'out-of-order'`,
 * or `'past-end'` (in order, but at or past the end of the segment). The one rule readIndex, the
 * verifier (verify-segment.ts) and repair's index rebuild (repair-index.ts) judge entries by.
 */
export function entryOrder(offset: number, position: number, lastOffset: number, lastPosition: number, segmentBytes: number): 'in-order' | 'out-of-order' | 'past-end' {
  if (offset <= lastOffset || position <= lastPosition) return 'out-of-order';
  return position >= segmentBytes ? 'past-end' : 'in-order';
}

/** An entry of an index as entryOrders judges it. */
export type JudgedEntry =
  | { readonly order: 'in-order' | 'past-end' }
  /** Not above the last entry in order, `lastOffset` at byte `lastPosition`. */
  | { readonly order: 'out-of-order'; readonly lastOffset: number; readonly lastPosition: number };

/**
 * Every entry of an index of segment `baseOffset` (`segmentBytes` long) judged by entryOrder, each
 * against the last entry before it that was in order (so one bad entry is one finding, not all that
 * follow it).
 */
export function entryOrders(baseOffset: number, offsets: readonly number[], positions: readonly number[], segmentBytes: number): JudgedEntry[] {
  let lastOffset = baseOffset;
  let lastPosition = SEGMENT_HEADER_BYTES;
  return offsets.map((offset, i): JudgedEntry => {
    const position = positions[i]!;
    const order = entryOrder(offset, position, lastOffset, lastPosition, segmentBytes);
    if (order === 'out-of-order') return { order, lastOffset, lastPosition };
    if (order === 'in-order') {
      lastOffset = offset;
      lastPosition = position;
    }
    return { order };
  });
}

/**
 * Reads the entries of an index file that can be used (empty when it is missing): the longest prefix
 * that is strictly increasing in both offset and position, lies above `baseOffset` and the segment
 * header, and stays below `segmentBytes`. Reading stops at the first entry that breaks the rule and
 * never goes past `maxIndexEntries(segmentBytes)`, so a huge or garbage file costs bounded reads, not
 * its size in memory.
 */
export function readIndex(io: FileIO, path: string, baseOffset: number, segmentBytes: number): IndexEntries {
  const offsets: number[] = [];
  const positions: number[] = [];
  let lastOffset = baseOffset;
  let lastPosition = SEGMENT_HEADER_BYTES;
  eachEntry(io, path, maxIndexEntries(segmentBytes), (offset, position) => {
    if (entryOrder(offset, position, lastOffset, lastPosition, segmentBytes) !== 'in-order') return false;
    offsets.push(lastOffset = offset);
    positions.push(lastPosition = position);
    return true;
  });
  return { offsets, positions };
}

/**
 * The first `bytes` bytes (at least a header) of the frame index entry `[offset, at]` of segment
 * `baseOffset` names, read by `readAt`, if the entry proves itself; else null. It proves itself when a
 * frame header naming `offset` stands at `at` and the frame before it ends there: the 4 bytes before
 * `at` (its trailer, read with the frame's first bytes) give its length L, and the frame header at
 * `at - L` names that length and records up to just before `offset` (a second read, of 40 bytes). A
 * header alone proves nothing: a record's payload may hold a whole frame (a log that stores another
 * log's bytes). The segment's first frame needs no frame before it.
 */
export function entryFrame(
  readAt: (position: number, bytes: number) => Buffer, baseOffset: number, offset: number, at: number, bytes: number,
): Buffer | null {
  const buf = readAt(at - FRAME_TRAILER_BYTES, FRAME_TRAILER_BYTES + bytes);
  if (buf.byteLength < FRAME_TRAILER_BYTES + FRAME_HEADER_BYTES) return null;
  const frame = buf.subarray(FRAME_TRAILER_BYTES);
  const h = decodeFrameHeader(frame, 0);
  if (typeof h === 'string' || h.baseOffset !== offset) return null;
  if (at === SEGMENT_HEADER_BYTES) return offset === baseOffset ? frame : null;
  const length = buf.readUInt32LE(0);
  if (length < MIN_FRAME_BYTES || at - length < SEGMENT_HEADER_BYTES) return null;
  const before = decodeFrameHeader(readAt(at - length, FRAME_HEADER_BYTES), 0);
  return typeof before !== 'string' && before.frameBytes === length && before.baseOffset + before.recordCount === offset ? frame : null;
}

/** Index of the greatest entry whose offset is at most `offset`, or -1 if none is. */
export function floorEntry(entries: IndexEntries, offset: number): number {
  let lo = 0;
  let hi = entries.offsets.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (entries.offsets[mid]! <= offset) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

export function encodeIndexEntries(offsets: readonly number[], positions: readonly number[]): Buffer {
  const b = Buffer.alloc(offsets.length * INDEX_ENTRY_BYTES);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < offsets.length; i++) {
    writeU64(v, i * INDEX_ENTRY_BYTES, offsets[i]!);
    writeU64(v, i * INDEX_ENTRY_BYTES + 8, positions[i]!);
  }
  return b;
}
