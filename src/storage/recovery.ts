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
import { FORMAT_VERSION, FRAME_TRAILER_BYTES, SEGMENT_HEADER_BYTES, decodeFrameHeader, encodeSegmentHeader, type SegmentHeader } from '../format/frame.js';
import { DURABLE_HINT_FILE, readDurableHint, readStartOffset } from './durable-hint.js';
import { fsyncDir, readFull, writeAll, type FileIO } from './file-io.js';
import { findValidFrameAfter, readFrameAt, scanFrames, type ScanEnd } from './frame-scan.js';
import { encodeIndexEntries, readIndex, type IndexEntries } from '../segment/offset-index.js';
import { indexName, segmentName, type SegmentInfo, listLogDir, createSegment, readSegmentHeader, refuseNewerFormat } from '../segment/segment-files.js';

export interface RecoveredLog {
  /** Ascending by base offset; the last one is the active segment. */
  readonly segments: SegmentInfo[];
  readonly nextOffset: number;
  /** Index entries of the active segment, kept and rebuilt. */
  readonly activeIndex: IndexEntries;
  /** Bytes cut from a torn tail, and where (null when the tail was whole). */
  readonly truncated: Truncation | null;
  /** Files removed as the leftovers of an interrupted segment roll or retention. */
  readonly removed: string[];
  /**
   * The active segment's format version. Below FORMAT_VERSION (a log written by 0.1 that holds
   * records) the writer rolls before its first frame, so that format-2 records never land in a
   * segment whose header says version 1. An empty active segment of version 1 was given a version-2
   * header in place instead.
   */
  readonly activeFormatVersion: number;
}

/** A torn tail cut by recovery: the file, the byte position it was cut at, how many bytes, and why. */
export interface Truncation {
  readonly file: string;
  readonly position: number;
  readonly bytes: number;
  readonly reason: string;
}

/** Unlinks a file of the log that recovery removes; a directory of that name is damage (ERR_LOG_CORRUPT), not an I/O failure. */
function unlinkFile(io: FileIO, dir: string, name: string): void {
  try {
    io.unlink(join(dir, name));
  } catch (e) {
    throw (e as NodeJS.ErrnoException).code === 'EISDIR' ? LogError.corrupt(name, 0, 'a directory, not a regular file') : e;
  }
}

/**
 * Removes the temporary files of segments whose creation was interrupted (`<base>.seg.new`). They never
 * hold a record: a segment is renamed into place before anything is written into it. Returns the
 * segment base offsets listed.
 */
function removeUnfinishedSegments(io: FileIO, dir: string, removed: string[]): number[] {
  const listing = listLogDir(io, dir);
  for (const name of listing.newSegments) {
    unlinkFile(io, dir, name);
    removed.push(name);
  }
  if (listing.newSegments.length > 0) fsyncDir(io, dir);
  return listing.bases;
}

/** The header of segment `base` open at `fd`, which must be valid and name `base`; else ERR_LOG_CORRUPT. */
function requireSegmentHeader(io: FileIO, fd: number, base: number): SegmentHeader {
  const name = segmentName(base);
  const h = readSegmentHeader(io, fd, segmentName(base));
  if (typeof h === 'string') throw LogError.corrupt(name, 0, h);
  if (h.baseOffset !== base) throw LogError.corrupt(name, 8, `header names base offset ${h.baseOffset}, the file name ${base}`);
  return h;
}

/** Reads a sealed segment's header and last frame header; returns what retention and chaining need. */
function inspectSealed(io: FileIO, dir: string, base: number): SegmentInfo {
  const name = segmentName(base);
  const fd = io.open(join(dir, name), 'r');
  try {
    const fileBytes = io.fsize(fd);
    const h = requireSegmentHeader(io, fd, base);
    if (fileBytes === SEGMENT_HEADER_BYTES) return { baseOffset: base, endOffset: base, bytes: fileBytes, lastTimestampMs: h.createdMs };
    const trailer = Buffer.allocUnsafe(FRAME_TRAILER_BYTES);
    if (fileBytes < SEGMENT_HEADER_BYTES + FRAME_TRAILER_BYTES || readFull(io, fd, trailer, 0, FRAME_TRAILER_BYTES, fileBytes - FRAME_TRAILER_BYTES) < FRAME_TRAILER_BYTES) {
      throw LogError.corrupt(name, fileBytes, 'sealed segment is shorter than one frame');
    }
    const lastFrameBytes = trailer.readUInt32LE(0);
    const lastPosition = fileBytes - lastFrameBytes;
    if (lastPosition < SEGMENT_HEADER_BYTES) throw LogError.corrupt(name, fileBytes - FRAME_TRAILER_BYTES, 'last frame trailer points before the first frame');
    const fh = Buffer.allocUnsafe(64);
    const got = readFull(io, fd, fh, 0, 64, lastPosition);
    const last = decodeFrameHeader(fh.subarray(0, got), 0);
    if (typeof last === 'string') throw LogError.corrupt(name, lastPosition, `last frame: ${last}`);
    if (last.frameBytes !== lastFrameBytes) throw LogError.corrupt(name, lastPosition, 'last frame length does not match its trailer');
    return { baseOffset: base, endOffset: last.baseOffset + last.recordCount, bytes: fileBytes, lastTimestampMs: last.timestampMs };
  } finally {
    io.close(fd);
  }
}

/** Opens and recovers `dir` (which must exist). The caller holds the producer lock. */
export function recoverLog(io: FileIO, dir: string, indexIntervalBytes: number, nowMs: number): RecoveredLog {
  refuseNewerFormat(io, dir);
  const removed: string[] = [];
  let bases = removeUnfinishedSegments(io, dir, removed);
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
  const tornRoll = setAsideTornRoll(io, dir, bases, durableHint, nowMs, removed);
  const segments = inspectChain(io, dir, bases);
  const { info, activeIndex, truncated, formatVersion } = recoverActive(io, dir, bases[bases.length - 1]!, indexIntervalBytes, durableHint);
  segments.push(info);
  removeLeftovers(io, dir, tornRoll, retired, removed);
  // Entries made durable before anything goes into them: a segment a roll renamed just before a crash.
  fsyncDir(io, dir);
  return { segments, nextOffset: info.endOffset, activeIndex, truncated, removed, activeFormatVersion: formatVersion };
}


/**
 * A last segment whose header never became whole is what a crash during a roll leaves behind. Beside
 * older segments it is taken out of `bases` and returned, to be removed only once everything else has
 * been checked: a recovery that fails changes nothing, so running it again fails the same way (before,
 * a failed recovery could already have removed one such file, and the next attempt took the segment
 * before it for another torn roll; found by the corruption properties). The only segment is started
 * again at once, unless durable.offset says it held records.
 */
function setAsideTornRoll(io: FileIO, dir: string, bases: number[], durableHint: number | null, nowMs: number, removed: string[]): number | null {
  if (bases.length > 1) return isTornRoll(io, dir, bases[bases.length - 1]!) ? bases.pop()! : null;
  const only = bases[0]!;
  if (!isTornRoll(io, dir, only)) return null;
  if (durableHint !== null && durableHint > only) {
    throw LogError.corrupt(segmentName(only), 0, `records ${only} to ${durableHint - 1} were reported durable (${DURABLE_HINT_FILE}) but the only segment holds no valid header or frame`);
  }
  io.unlink(join(dir, segmentName(only)));
  removed.push(segmentName(only));
  createSegment(io, dir, only, nowMs);
  return null;
}

/**
 * The sealed segments of `bases` (all but the last, the active one), inspected, after checking that
 * they chain up to the active segment's base: a gap is damage, and then the active tail is not touched.
 */
function inspectChain(io: FileIO, dir: string, bases: readonly number[]): SegmentInfo[] {
  const segments: SegmentInfo[] = [];
  for (let i = 0; i < bases.length - 1; i++) segments.push(inspectSealed(io, dir, bases[i]!));
  for (let i = 1; i < segments.length; i++) {
    if (segments[i - 1]!.endOffset !== segments[i]!.baseOffset) throw unchained(segments[i - 1]!, segments[i]!.baseOffset);
  }
  const last = segments[segments.length - 1];
  const activeBase = bases[bases.length - 1]!;
  if (last !== undefined && last.endOffset !== activeBase) throw unchained(last, activeBase);
  return segments;
}

/** Once everything passed: removes the torn roll, the retired segments and orphan indexes, then fsyncs the directory. */
function removeLeftovers(io: FileIO, dir: string, tornRoll: number | null, retired: readonly number[], removed: string[]): void {
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
}

/**
 * Removes index files whose segment is not there: what a crash between retention's two unlinks leaves
 * (and the index of a segment removed above). An index is derived data of its segment alone. Returns
 * how many were removed; the caller fsyncs the directory.
 */
function removeOrphanIndexes(io: FileIO, dir: string, removed: string[]): number {
  const listing = listLogDir(io, dir);
  let n = 0;
  for (const base of listing.indexes) {
    if (listing.bases.includes(base)) continue;
    const name = indexName(base);
    unlinkFile(io, dir, name);
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
    const fileBytes = io.fsize(fd);
    if (typeof readSegmentHeader(io, fd, segmentName(base)) !== 'string') return false;
    // The header is bad. Only a file with no valid frame anywhere is a torn roll; otherwise it is damage.
    return fileBytes <= SEGMENT_HEADER_BYTES || findValidFrameAfter(io, fd, fileBytes, -1, false) === null;
  } finally {
    io.close(fd);
  }
}

/** The active segment after recovery: its info, its index entries (kept and rebuilt), and a torn tail cut. */
interface RecoveredActive {
  readonly info: SegmentInfo;
  readonly activeIndex: IndexEntries;
  readonly truncated: Truncation | null;
  readonly formatVersion: number;
}

/**
 * Recovers the active segment `base`: start from its index, scan its tail, judge where the valid frames
 * end (cut a torn tail; damage is ERR_LOG_CORRUPT), fsync it, and rewrite its index.
 */
function recoverActive(io: FileIO, dir: string, base: number, indexIntervalBytes: number, durableHint: number | null): RecoveredActive {
  const name = segmentName(base);
  const fd = io.open(join(dir, name), 'r+');
  try {
    const fileBytes = io.fsize(fd);
    const h = requireSegmentHeader(io, fd, base);
    const index = readIndex(io, join(dir, indexName(base)), base, fileBytes);
    const start = scanStart(io, fd, fileBytes, base, index);
    const { end, lastTimestampMs } = scanTail(io, fd, fileBytes, start, indexIntervalBytes);
    const truncated = judgeTail(io, fd, name, fileBytes, end, durableHint);
    let formatVersion = h.version;
    if (formatVersion < FORMAT_VERSION && end.nextOffset === base) {
      // An empty segment of an older format: it takes this format's header, in place (one sector; a
      // torn write leaves a torn header on an empty newest segment, which recovery recreates).
      writeAll(io, fd, [encodeSegmentHeader(base, h.createdMs)], 0);
      formatVersion = FORMAT_VERSION;
    }
    // Make whatever a crashed process left in the page cache durable before anything new is appended.
    io.fdatasync(fd);
    rewriteIndex(io, dir, base, start.entries);
    return {
      info: { baseOffset: base, endOffset: end.nextOffset, bytes: end.position, lastTimestampMs: lastTimestampMs ?? h.createdMs },
      activeIndex: start.entries,
      truncated,
      formatVersion,
    };
  } finally {
    io.close(fd);
  }
}

/** Where the scan of the active segment starts: a frame's position and offset, and the index entries kept up to it. */
interface ScanStart {
  readonly position: number;
  readonly offset: number;
  /** The kept entries; the scan appends the entries it rebuilds. */
  readonly entries: { offsets: number[]; positions: number[] };
}

/**
 * Start from the last index entry that points at a valid frame holding the offset it claims, and whose
 * position lies in bytes proven durable: some valid indexed frame at or after it carries a durable
 * position at or above it. The bytes before the start are not rescanned, which is only right for
 * durable bytes (damage there is found by readers, as in sealed segments). Frames written after the
 * last fsync may be torn by a crash while a later one survives with its index entry; a start past them
 * would keep the torn frame inside the log for good instead of cutting the tail there (found by the
 * corruption properties).
 */
function scanStart(io: FileIO, fd: number, fileBytes: number, base: number, index: IndexEntries): ScanStart {
  let provenDurablePosition = SEGMENT_HEADER_BYTES;
  for (let i = index.offsets.length - 1; i >= 0; i--) {
    const entryPosition = index.positions[i]!;
    const f = readFrameAt(io, fd, fileBytes, entryPosition);
    if (typeof f === 'string' || f.baseOffset !== index.offsets[i]) continue;
    provenDurablePosition = Math.max(provenDurablePosition, f.durablePosition);
    if (entryPosition <= provenDurablePosition) {
      const entries = { offsets: index.offsets.slice(0, i + 1), positions: index.positions.slice(0, i + 1) };
      return { position: entryPosition, offset: index.offsets[i]!, entries };
    }
  }
  return { position: SEGMENT_HEADER_BYTES, offset: base, entries: { offsets: [], positions: [] } };
}

/**
 * Scans the frames from `start` to where the valid ones end, adding an index entry for the first frame
 * past every `indexIntervalBytes`. Returns the scan's end and the newest frame's timestamp (null when
 * the segment holds no frame).
 */
function scanTail(io: FileIO, fd: number, fileBytes: number, start: ScanStart, indexIntervalBytes: number): { end: ScanEnd; lastTimestampMs: number | null } {
  const { offsets, positions } = start.entries;
  let lastIndexedPosition = positions.length > 0 ? positions[positions.length - 1]! : SEGMENT_HEADER_BYTES;
  const end = scanFrames(io, fd, fileBytes, start.position, start.offset, (framePosition, fh) => {
    if (framePosition - lastIndexedPosition >= indexIntervalBytes) {
      offsets.push(fh.baseOffset);
      positions.push(framePosition);
      lastIndexedPosition = framePosition;
    }
  });
  if (end.lastTimestampMs !== null || positions.length === 0) return { end, lastTimestampMs: end.lastTimestampMs };
  // Nothing scanned past the kept entry means that frame is the last: take its timestamp.
  const f = readFrameAt(io, fd, fileBytes, start.position);
  return { end, lastTimestampMs: typeof f === 'string' ? null : f.timestampMs };
}

/**
 * Where the valid frames end: a torn tail there is cut (and returned). It is damage, ERR_LOG_CORRUPT,
 * when it would cut records durable.offset reported durable, or when a valid frame after it shows an
 * fsync covered the damaged bytes (they were corrupted later).
 */
function judgeTail(io: FileIO, fd: number, name: string, fileBytes: number, end: ScanEnd, durableHint: number | null): Truncation | null {
  if (durableHint !== null && end.nextOffset < durableHint) {
    throw LogError.corrupt(name, end.position,
      `records ${end.nextOffset} to ${durableHint - 1} were reported durable (${DURABLE_HINT_FILE}) but are not in the log${end.bad !== null ? `: ${end.bad}` : ''}`);
  }
  if (end.bad === null) return null;
  const proof = findValidFrameAfter(io, fd, fileBytes, end.position, true);
  if (proof !== null) {
    throw LogError.corrupt(name, end.position, `${end.bad}; a valid frame at byte ${proof} shows these bytes had been made durable`);
  }
  io.ftruncate(fd, end.position);
  return { file: name, position: end.position, bytes: fileBytes - end.position, reason: end.bad };
}

/** Rewrites the active segment's index with `entries` (the kept and rebuilt ones). */
function rewriteIndex(io: FileIO, dir: string, base: number, entries: IndexEntries): void {
  const ifd = io.open(join(dir, indexName(base)), 'w');
  try {
    if (entries.offsets.length > 0) writeAll(io, ifd, [encodeIndexEntries(entries.offsets, entries.positions)], 0);
  } finally {
    io.close(ifd);
  }
}
