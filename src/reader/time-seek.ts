/**
 * Seek by time: the offset of the first record stored at or after a time, found without reading the
 * log. A record's timestamp is its frame's, and along a log of format 2 frame timestamps never
 * decrease (the writer clamps its clock to the last frame's), so the search is a binary search twice:
 * over the segments by the timestamp of their first frame, then over the chosen segment's offset
 * index by the timestamp of the frame each entry names, then a walk over frame headers from that
 * entry (at most indexIntervalBytes of frames). Each step reads one frame header (40 bytes).
 *
 * Frame headers read here are checked for shape (magic, a possible length and record count), not by
 * checksum: the search only picks where reading starts, and the reader checks every frame it reads
 * from there. Records written by format 1, whose timestamps could step back with the wall clock,
 * give a record at or after the time, not always the first one.
 */
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES, decodeFrameHeader, type FrameHeader } from '../format/frame.js';
import { readIndex, type IndexEntries } from '../segment/offset-index.js';
import { segmentEntry } from './verified-cache.js';
import { indexName, segmentName } from '../segment/segment-files.js';
import { readFull, type FileIO } from '../storage/file-io.js';
import { join, sep } from 'node:path';

/** A segment open for the search: its frames' headers by position. */
class SegmentFrames {
  private readonly buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  readonly size: number;

  constructor(private readonly io: FileIO, private readonly fd: number) {
    this.size = io.fsize(fd);
  }

  /** The header of the frame at `position`; null past the end, at a partial frame or at bytes that are no frame. */
  frameAt(position: number): FrameHeader | null {
    if (position + FRAME_HEADER_BYTES > this.size) return null;
    const n = readFull(this.io, this.fd, this.buf, 0, FRAME_HEADER_BYTES, position);
    if (n < FRAME_HEADER_BYTES) return null;
    const h = decodeFrameHeader(this.buf, 0);
    if (typeof h === 'string' || position + h.frameBytes > this.size) return null;
    return h;
  }
}

function withSegment<T>(io: FileIO, dir: string, base: number, use: (s: SegmentFrames) => T, missing: T): T {
  let fd: number;
  try {
    fd = io.open(join(dir, segmentName(base)), 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return missing; // deleted by retention meanwhile
    throw e;
  }
  try {
    return use(new SegmentFrames(io, fd));
  } finally {
    io.close(fd);
  }
}

/** The timestamp of a segment's first frame; +Infinity when it holds none (yet), or is gone. */
function firstTimestamp(io: FileIO, dir: string, base: number): number {
  return withSegment(io, dir, base, (s) => s.frameAt(SEGMENT_HEADER_BYTES)?.timestampMs ?? Infinity, Infinity);
}

/**
 * The position of the frame named by the last index entry whose frame is older than `ms`, or the
 * first frame's when none is; null when an entry's position does not hold a frame starting at its
 * offset (a stale or damaged index).
 */
function walkStart(s: SegmentFrames, index: IndexEntries, ms: number): number | null {
  let lo = 0;
  let hi = index.positions.length - 1;
  let from = SEGMENT_HEADER_BYTES;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const h = s.frameAt(index.positions[mid]!);
    if (h === null || h.baseOffset !== index.offsets[mid]) return null;
    if (h.timestampMs < ms) {
      from = index.positions[mid]!;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return from;
}

/**
 * In one segment whose first frame is older than `ms`: the base offset of its first frame stored at
 * or after `ms`, or null when every frame it holds is older.
 */
function firstAtOrAfterIn(io: FileIO, dir: string, base: number, ms: number): number | null {
  return withSegment(io, dir, base, (s) => {
    const path = (dir.endsWith(sep) ? dir : dir + sep) + segmentName(base); // the key the readers' cache uses
    const cached = io.stamp === undefined ? undefined : segmentEntry(path)?.index ?? undefined;
    let from = cached === undefined ? null : walkStart(s, cached, ms);
    // A cached index is a hint: an entry whose frame does not hold its offset sends us to the file's.
    if (from === null) from = walkStart(s, readIndex(io, join(dir, indexName(base)), base, s.size), ms) ?? SEGMENT_HEADER_BYTES;
    for (let at = from; ;) {
      const h = s.frameAt(at);
      if (h === null) return null;
      if (h.timestampMs >= ms) return h.baseOffset;
      at += h.frameBytes;
    }
  }, null);
}

/**
 * The offset of the first record stored at or after `ms` among the segments `bases` (ascending, the
 * log's segments from its start); `endOffset` (the next offset appended) when none is. The caller
 * clamps the answer to the log's start.
 */
export function offsetAtTime(io: FileIO, dir: string, bases: readonly number[], ms: number, endOffset: number): number {
  // The last segment whose first frame is older than ms.
  let lo = 0;
  let hi = bases.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (firstTimestamp(io, dir, bases[mid]!) < ms) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (found < 0) return bases.length > 0 ? bases[0]! : endOffset;
  const within = firstAtOrAfterIn(io, dir, bases[found]!, ms);
  if (within !== null) return within;
  return found + 1 < bases.length ? bases[found + 1]! : endOffset;
}
