/**
 * The torn-tail rule, one for recovery (recover-active.ts), verifyLog (verify/verify-segment.ts) and
 * readers in other processes (reader/frame-judging.ts): bytes in the newest segment that are not a valid
 * frame are damage when a valid frame after them shows an fsync covered them, else a torn tail
 * (docs/format.md, "Recovery").
 */
import { join } from 'node:path';
import { FRAME_TRAILER_BYTES, MONOTONE_TIMESTAMPS_VERSION, SEGMENT_HEADER_BYTES } from '../format/frame.js';
import { readFull, type FileIO } from './file-io.js';
import { findValidFrameAfter, readFrameAt } from './frame-scan.js';
import { listLogDir, readSegmentHeader, segmentName } from '../segment/segment-files.js';

/** Where bad bytes lie: segment `base` of the log in `dir`, open at `fd` and read up to `fileBytes`, at byte `from`. */
export interface BadBytes {
  readonly dir: string;
  readonly base: number;
  readonly fd: number;
  readonly fileBytes: number;
  readonly from: number;
}

/**
 * The valid frame after the bad bytes whose durable position shows an fsync covered them
 * (findValidFrameAfter with `durableAbove`), or null: they are a torn tail. In a segment of format
 * `formatVersion` 2 or later a frame stamped before the log's last valid frame before them shows
 * nothing: the writer never stamps a frame below the one before along the log (docs/format.md,
 * "Timestamps"), so such a frame is stale bytes (a record holding a whole segment file of another log).
 * That frame is the segment's last valid one before `from` (`lastTimestampMs`, null when unknown), or,
 * when `from` is the segment's first frame, the previous segment's last (timestampBeforeSegment); in
 * the log's first segment (base 0), none precedes, and its creation time bounds its frames instead
 * (firstSegmentCreatedMs).
 * Both are asked only once a candidate was found: a caller that must scan for them (a reader) scans
 * only then.
 */
export function durabilityProof(io: FileIO, at: BadBytes, formatVersion: number, lastTimestampMs: () => number | null): number | null {
  const proof = findValidFrameAfter(io, at.fd, at.fileBytes, at.from, true);
  if (proof === null || formatVersion < MONOTONE_TIMESTAMPS_VERSION) return proof;
  const notBeforeMs = at.from > SEGMENT_HEADER_BYTES ? lastTimestampMs()
    : at.base === 0 ? firstSegmentCreatedMs(io, at.fd) : timestampBeforeSegment(io, at.dir, at.base);
  return notBeforeMs === null ? proof : findValidFrameAfter(io, at.fd, at.fileBytes, at.from, true, notBeforeMs);
}

/**
 * The timestamp of the log's last frame before segment `base`: the last frame of the segment before it,
 * read whole and checked, when that frame's records end where `base` begins; else null (no such
 * segment, or it does not end so).
 */
export function timestampBeforeSegment(io: FileIO, dir: string, base: number): number | null {
  const before = listLogDir(io, dir).bases.filter((b) => b < base);
  if (before.length === 0) return null;
  let fd: number;
  try {
    fd = io.open(join(dir, segmentName(before[before.length - 1]!)), 'r');
  } catch {
    return null; // gone since the listing (retention): nothing bounds the time
  }
  try {
    const fileBytes = io.fsize(fd);
    const trailer = Buffer.alloc(FRAME_TRAILER_BYTES);
    if (fileBytes < SEGMENT_HEADER_BYTES + FRAME_TRAILER_BYTES || readFull(io, fd, trailer, 0, FRAME_TRAILER_BYTES, fileBytes - FRAME_TRAILER_BYTES) < FRAME_TRAILER_BYTES) return null;
    const last = readFrameAt(io, fd, fileBytes, fileBytes - trailer.readUInt32LE(0));
    return typeof last !== 'string' && last.baseOffset + last.recordCount === base ? last.timestampMs : null;
  } finally {
    io.close(fd);
  }
}

/**
 * The creation time of segment 0 open at `fd`, or null (its header not valid). Only recovery creates a
 * segment 0 (for a log never written, or repairLog for a log cut to nothing), and the writer starts its
 * clock at the time recovery gives an empty segment, its creation time: every frame of it is stamped no
 * earlier. (A segment a roll made is stamped on the clock without moving it, so a clock stepped back
 * before its first frame can stamp that frame below the segment's creation: timestampBeforeSegment.)
 */
function firstSegmentCreatedMs(io: FileIO, fd: number): number | null {
  const h = readSegmentHeader(io, fd);
  return typeof h === 'string' || h.baseOffset !== 0 ? null : h.createdMs;
}
