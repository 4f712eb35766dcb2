/**
 * The sparse offset index of one segment (`<base>.idx`): 16-byte entries `[u64 offset][u64 position]`
 * naming the position of a frame that starts with that offset. It is derived data: it can always be
 * rebuilt from the segment, every entry is checked before it is trusted, and a damaged index costs a
 * longer scan, never a wrong record.
 */
import { LogError } from '../errors.js';
import { INDEX_ENTRY_BYTES, SEGMENT_HEADER_BYTES, readU64, writeU64 } from '../format/frame.js';
import { readFull, type FileIO } from '../storage/file-io.js';

export interface IndexEntries {
  /** Offsets, ascending. */
  readonly offsets: number[];
  /** Byte positions in the segment, ascending, same length. */
  readonly positions: number[];
}

/** Every entry of an index file as stored, unchecked; what the verifier and `readIndex` start from. */
export interface RawIndex extends IndexEntries {
  /** Bytes after the last whole entry (a torn append), normally 0. */
  readonly partialBytes: number;
}

/**
 * Reads every whole entry of an index file; null when it cannot be opened (missing). Something other
 * than a regular file at `path` is ERR_LOG_CORRUPT: it is never read, and never taken for a missing index.
 */
export function readRawIndex(io: FileIO, path: string): RawIndex | null {
  let fd: number;
  try {
    fd = io.open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EFTYPE') throw LogError.fromSystem(e, 'opening the index', path);
    return null;
  }
  try {
    const bytes = io.fsize(fd);
    const buf = Buffer.allocUnsafe(bytes - (bytes % INDEX_ENTRY_BYTES));
    const n = readFull(io, fd, buf, 0, buf.byteLength, 0);
    const v = new DataView(buf.buffer, buf.byteOffset, n);
    const offsets: number[] = [];
    const positions: number[] = [];
    for (let at = 0; at + INDEX_ENTRY_BYTES <= n; at += INDEX_ENTRY_BYTES) {
      offsets.push(readU64(v, at));
      positions.push(readU64(v, at + 8));
    }
    return { offsets, positions, partialBytes: bytes % INDEX_ENTRY_BYTES };
  } finally {
    io.close(fd);
  }
}

/**
 * How many leading entries can be used: the longest prefix that is strictly increasing in both offset
 * and position, lies above `baseOffset` and the segment header, and stays below `segmentBytes`.
 */
export function trustedEntryCount(raw: IndexEntries, baseOffset: number, segmentBytes: number): number {
  let lastOffset = baseOffset;
  let lastPosition = SEGMENT_HEADER_BYTES;
  let i = 0;
  for (; i < raw.offsets.length; i++) {
    const offset = raw.offsets[i]!;
    const position = raw.positions[i]!;
    if (offset <= lastOffset || position <= lastPosition || position >= segmentBytes) break;
    lastOffset = offset;
    lastPosition = position;
  }
  return i;
}

/** Reads an index file, keeping only its trusted prefix (see `trustedEntryCount`); empty when missing. */
export function readIndex(io: FileIO, path: string, baseOffset: number, segmentBytes: number): IndexEntries {
  const raw = readRawIndex(io, path);
  if (raw === null) return { offsets: [], positions: [] };
  const n = trustedEntryCount(raw, baseOffset, segmentBytes);
  return { offsets: raw.offsets.slice(0, n), positions: raw.positions.slice(0, n) };
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
