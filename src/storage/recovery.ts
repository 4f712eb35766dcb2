/**
 * Opening a log directory for writing: find the segments, check that they chain, and recover the tail
 * of the last one. Bounded work: each sealed segment costs two small reads (its header and its last
 * frame's header); the last segment is scanned only from its last trustworthy index entry.
 *
 * A torn tail (the bytes a crash left unfinished) is truncated to the last valid frame and the
 * truncation fsynced before anything is appended. Damage anywhere else is ERR_LOG_CORRUPT, naming the
 * file and the byte position; it is never skipped.
 */
import { join } from 'node:path';
import { LogError } from '../errors.js';
import { FRAME_TRAILER_BYTES, SEGMENT_HEADER_BYTES, decodeFrameHeader } from '../format/frame.js';
import { DURABLE_HINT_FILE, readDurableHint, readStartOffset } from './durable-hint.js';
import { fsyncDir, readFull, writeAll, type FileIO } from './file-io.js';
import { findValidFrameAfter, readFrameAt, scanFrames } from './frame-scan.js';
import { encodeIndexEntries, readIndex } from '../segment/offset-index.js';
import { indexName, parseIndexName, parseNewSegmentName, parseSegmentName, segmentName, type SegmentInfo, listSegmentBases, createSegment, readSegmentHeader } from '../segment/segment-files.js';

export interface RecoveredLog {
  /** Ascending by base offset; the last one is the active segment. */
  readonly segments: SegmentInfo[];
  readonly nextOffset: number;
  /** Index entries of the active segment, kept and rebuilt. */
  readonly activeIndex: { offsets: number[]; positions: number[] };
  /** Bytes cut from a torn tail, and where (null when the tail was whole). */
  readonly truncated: { readonly file: string; readonly position: number; readonly bytes: number; readonly reason: string } | null;
  /** Files removed as the leftovers of an interrupted segment roll or retention. */
  readonly removed: string[];
}

/**
 * Removes the temporary files of segments whose creation was interrupted (`<base>.seg.new`). They never
 * hold a record: a segment is renamed into place before anything is written into it.
 */
function removeUnfinishedSegments(io: FileIO, dir: string, removed: string[]): void {
  let any = false;
  for (const name of io.readdir(dir)) {
    if (parseNewSegmentName(name) === null) continue;
    io.unlink(join(dir, name));
    removed.push(name);
    any = true;
  }
  if (any) fsyncDir(io, dir);
}

/** Reads a sealed segment's header and last frame header; returns what retention and chaining need. */
function inspectSealed(io: FileIO, dir: string, base: number): SegmentInfo {
  const name = segmentName(base);
  const fd = io.open(join(dir, name), 'r');
  try {
    const bytes = io.fsize(fd);
    const h = readSegmentHeader(io, fd);
    if (typeof h === 'string') throw LogError.corrupt(name, 0, h);
    if (h.baseOffset !== base) throw LogError.corrupt(name, 8, `header names base offset ${h.baseOffset}, the file name ${base}`);
    if (bytes === SEGMENT_HEADER_BYTES) return { baseOffset: base, endOffset: base, bytes, lastTimestampMs: h.createdMs };
    const trailer = Buffer.allocUnsafe(FRAME_TRAILER_BYTES);
    if (bytes < SEGMENT_HEADER_BYTES + FRAME_TRAILER_BYTES || readFull(io, fd, trailer, 0, FRAME_TRAILER_BYTES, bytes - FRAME_TRAILER_BYTES) < FRAME_TRAILER_BYTES) {
      throw LogError.corrupt(name, bytes, 'sealed segment is shorter than one frame');
    }
    const lastFrameBytes = trailer.readUInt32LE(0);
    const lastAt = bytes - lastFrameBytes;
    if (lastAt < SEGMENT_HEADER_BYTES) throw LogError.corrupt(name, bytes - FRAME_TRAILER_BYTES, 'last frame trailer points before the first frame');
    const fh = Buffer.allocUnsafe(64);
    const got = readFull(io, fd, fh, 0, 64, lastAt);
    const last = decodeFrameHeader(fh.subarray(0, got), 0);
    if (typeof last === 'string') throw LogError.corrupt(name, lastAt, `last frame: ${last}`);
    if (last.frameBytes !== lastFrameBytes) throw LogError.corrupt(name, lastAt, 'last frame length does not match its trailer');
    return { baseOffset: base, endOffset: last.baseOffset + last.recordCount, bytes, lastTimestampMs: last.timestampMs };
  } finally {
    io.close(fd);
  }
}

/** Opens and recovers `dir` (which must exist). The caller holds the producer lock. */
export function recoverLog(io: FileIO, dir: string, indexIntervalBytes: number, nowMs: number): RecoveredLog {
  const removed: string[] = [];
  removeUnfinishedSegments(io, dir, removed);
  let bases = listSegmentBases(io, dir);
  if (bases.length === 0) {
    createSegment(io, dir, 0, nowMs);
    bases = [0];
  }
  // The writer's last report of durable progress: records below it were fsynced, so they must be
  // here; a tail that would cut them, or a missing newest segment, is damage, not a torn tail.
  const durableHint = readDurableHint(io, dir);
  // Retention records the new log start before it deletes the segments below it. Segments still below
  // a recorded start that names a segment here are what an interrupted retention (a crash, a failed
  // unlink) left: no longer part of the log, so they are not checked, and they are deleted once
  // everything else has passed. The log start never moves back.
  const recordedStart = readStartOffset(io, dir);
  let retired: number[] = [];
  if (recordedStart !== null && bases.includes(recordedStart)) {
    retired = bases.filter((b) => b < recordedStart);
    bases = bases.filter((b) => b >= recordedStart);
  }
  // A last segment whose header never became whole is what a crash during a roll leaves behind. It is
  // removed only once everything else has been checked: a recovery that fails changes nothing, so
  // running it again fails the same way (before, a failed recovery could already have removed one
  // such file, and the next attempt took the segment before it for another torn roll; found by the
  // corruption properties).
  let tornRoll: number | null = null;
  if (bases.length > 1) {
    if (isTornRoll(io, dir, bases[bases.length - 1]!)) tornRoll = bases.pop()!;
  } else if (isTornRoll(io, dir, bases[0]!)) {
    // The only segment has no whole header and no valid frame: start it again.
    const only = bases[0]!;
    if (durableHint !== null && durableHint > only) {
      throw LogError.corrupt(segmentName(only), 0, `records ${only} to ${durableHint - 1} were reported durable (${DURABLE_HINT_FILE}) but the only segment holds no valid header or frame`);
    }
    io.unlink(join(dir, segmentName(only)));
    removed.push(segmentName(only));
    createSegment(io, dir, only, nowMs);
  }

  const segments: SegmentInfo[] = [];
  for (let i = 0; i < bases.length - 1; i++) segments.push(inspectSealed(io, dir, bases[i]!));
  const activeBase = bases[bases.length - 1]!;
  // Check the chain before the active segment's tail is touched: a gap is damage, and then nothing is cut.
  for (let i = 1; i < segments.length; i++) {
    if (segments[i - 1]!.endOffset !== segments[i]!.baseOffset) throw unchained(segments[i - 1]!, segments[i]!.baseOffset);
  }
  const last = segments[segments.length - 1];
  if (last !== undefined && last.endOffset !== activeBase) throw unchained(last, activeBase);
  const { info, activeIndex, truncated } = recoverActive(io, dir, activeBase, indexIntervalBytes, durableHint);
  segments.push(info);
  if (tornRoll !== null) {
    io.unlink(join(dir, segmentName(tornRoll)));
    try { io.unlink(join(dir, indexName(tornRoll))); } catch { /* never created */ }
    fsyncDir(io, dir);
    removed.push(segmentName(tornRoll));
  }
  // Oldest first, as retention deletes: start.offset still names the start if this is cut short.
  for (const b of retired) {
    io.unlink(join(dir, segmentName(b)));
    removed.push(segmentName(b));
  }
  const orphans = removeOrphanIndexes(io, dir, removed);
  if (retired.length > 0 || orphans > 0) fsyncDir(io, dir);
  return { segments, nextOffset: info.endOffset, activeIndex, truncated, removed };
}

/**
 * Removes index files whose segment is not there: what a crash between retention's two unlinks leaves
 * (and the index of a segment removed above). An index is derived data of its segment alone. Returns
 * how many were removed; the caller fsyncs the directory.
 */
function removeOrphanIndexes(io: FileIO, dir: string, removed: string[]): number {
  const names = io.readdir(dir);
  const bases = new Set<number>();
  for (const name of names) {
    const b = parseSegmentName(name);
    if (b !== null) bases.add(b);
  }
  let n = 0;
  for (const name of names) {
    const b = parseIndexName(name);
    if (b === null || bases.has(b)) continue;
    io.unlink(join(dir, name));
    removed.push(name);
    n++;
  }
  return n;
}

function unchained(prev: SegmentInfo, nextBase: number): LogError {
  return LogError.corrupt(segmentName(nextBase), 0,
    `segments do not chain: ${segmentName(prev.baseOffset)} ends at offset ${prev.endOffset}, the next starts at ${nextBase}`);
}

function isTornRoll(io: FileIO, dir: string, base: number): boolean {
  const fd = io.open(join(dir, segmentName(base)), 'r');
  try {
    const bytes = io.fsize(fd);
    if (typeof readSegmentHeader(io, fd) !== 'string') return false;
    // The header is bad. Only a file with no valid frame anywhere is a torn roll; otherwise it is damage.
    return bytes <= SEGMENT_HEADER_BYTES || findValidFrameAfter(io, fd, bytes, -1, false) === null;
  } finally {
    io.close(fd);
  }
}

function recoverActive(io: FileIO, dir: string, base: number, indexIntervalBytes: number, durableHint: number | null) {
  const name = segmentName(base);
  const fd = io.open(join(dir, name), 'r+');
  try {
    const bytes = io.fsize(fd);
    const h = readSegmentHeader(io, fd);
    if (typeof h === 'string') throw LogError.corrupt(name, 0, h);
    if (h.baseOffset !== base) throw LogError.corrupt(name, 8, `header names base offset ${h.baseOffset}, the file name ${base}`);

    // Start from the last index entry that points at a valid frame holding the offset it claims, and
    // whose position lies in bytes proven durable: some valid indexed frame at or after it carries a
    // durable position at or above it. The bytes before the start are not rescanned, which is only
    // right for durable bytes (damage there is found by readers, as in sealed segments). Frames written
    // after the last fsync may be torn by a crash while a later one survives with its index entry; a
    // start past them would keep the torn frame inside the log for good instead of cutting the tail
    // there (found by the corruption properties).
    const idx = readIndex(io, join(dir, indexName(base)), base, bytes);
    let start = SEGMENT_HEADER_BYTES;
    let startOffset = base;
    let keep = 0;
    let provenDurable = SEGMENT_HEADER_BYTES;
    for (let i = idx.offsets.length - 1; i >= 0; i--) {
      const f = readFrameAt(io, fd, bytes, idx.positions[i]!);
      if (typeof f === 'string' || f.baseOffset !== idx.offsets[i]) continue;
      provenDurable = Math.max(provenDurable, f.durablePosition);
      if (idx.positions[i]! <= provenDurable) {
        start = idx.positions[i]!;
        startOffset = idx.offsets[i]!;
        keep = i + 1;
        break;
      }
    }
    const offsets = idx.offsets.slice(0, keep);
    const positions = idx.positions.slice(0, keep);
    let lastIndexed = keep > 0 ? positions[keep - 1]! : SEGMENT_HEADER_BYTES;
    let lastTs = h.createdMs;
    const end = scanFrames(io, fd, bytes, start, startOffset, (pos, fh) => {
      if (pos - lastIndexed >= indexIntervalBytes) {
        offsets.push(fh.baseOffset);
        positions.push(pos);
        lastIndexed = pos;
      }
    });
    if (end.lastTimestampMs !== null) lastTs = end.lastTimestampMs;
    else if (keep > 0) {
      // Nothing scanned past the kept entry means that frame is the last: take its timestamp.
      const f = readFrameAt(io, fd, bytes, start);
      if (typeof f !== 'string') lastTs = f.timestampMs;
    }

    if (durableHint !== null && end.nextOffset < durableHint) {
      throw LogError.corrupt(name, end.position,
        `records ${end.nextOffset} to ${durableHint - 1} were reported durable (${DURABLE_HINT_FILE}) but are not in the log${end.bad !== null ? `: ${end.bad}` : ''}`);
    }
    let truncated: RecoveredLog['truncated'] = null;
    if (end.bad !== null) {
      // Damage followed by a frame written after an fsync that covered the damaged bytes is not a torn
      // tail: those bytes were durable, so they were corrupted later.
      const proof = findValidFrameAfter(io, fd, bytes, end.position, true);
      if (proof !== null) {
        throw LogError.corrupt(name, end.position, `${end.bad}; a valid frame at byte ${proof} shows these bytes had been made durable`);
      }
      io.ftruncate(fd, end.position);
      truncated = { file: name, position: end.position, bytes: bytes - end.position, reason: end.bad };
    }
    // Make whatever a crashed process left in the page cache durable before anything new is appended.
    io.fdatasync(fd);

    const ifd = io.open(join(dir, indexName(base)), 'w');
    try {
      if (offsets.length > 0) writeAll(io, ifd, [encodeIndexEntries(offsets, positions)], 0);
    } finally {
      io.close(ifd);
    }
    return {
      info: { baseOffset: base, endOffset: end.nextOffset, bytes: end.position, lastTimestampMs: lastTs },
      activeIndex: { offsets, positions },
      truncated,
    };
  } finally {
    io.close(fd);
  }
}
