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
import { DURABLE_HINT_FILE, START_OFFSET_FILE, readDurableHint, readStartOffset } from './durable-hint.js';
import { fsyncDir, readFull, type FileIO } from './file-io.js';
import { findValidFrameAfter } from './frame-scan.js';
import { CURSOR_DIR, highestCursor, lowestCursorOffset } from '../cursor/tx-cursor.js';
import type { IndexEntries } from '../segment/offset-index.js';
import { recoverActive, requireSegmentHeader, type CursorPromise, type Truncation } from './recover-active.js';
import { checkSealedTimes, type SealedTimes } from './sealed-times.js';
import { indexName, openListedSegment, segmentName, type SegmentInfo, listLogDir, createSegment, readSegmentHeader, refuseNewerFormat } from '../segment/segment-files.js';

export type { Truncation } from './recover-active.js';

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

/** Unlinks a file of the log that recovery removes; a directory of that name is damage (ERR_LOG_CORRUPT), not an I/O failure. */
function unlinkFile(io: FileIO, dir: string, name: string): void {
  try {
    io.unlink(join(dir, name));
  } catch (e) {
    throw (e as NodeJS.ErrnoException).code === 'EISDIR' ? LogError.corrupt(name, 0, 'a directory, not a regular file') : e;
  }
}

/**
 * Refuses (ERR_LOG_CORRUPT, before anything is changed) a directory where a file recovery removes or
 * rewrites should be (listed in `names`): a segment's temporary name (`<base>.seg.new`), a segment
 * below the recorded log start, an index whose segment is gone or goes, the newest segment's index.
 * Met later, it would stop a recovery that had already cut a torn tail or removed a torn roll.
 */
export function refuseDirectories(io: FileIO, dir: string, names: readonly string[], what = ''): void {
  for (const name of names) {
    let fd: number;
    try {
      fd = io.open(join(dir, name), 'dir');
    } catch {
      continue; // not a directory (or gone): removable
    }
    io.close(fd);
    throw LogError.corrupt(name, 0, `a directory, not a regular file${what === '' ? '' : `: ${what}`}`);
  }
}

/**
 * Removes the temporary files of segments whose creation was interrupted (`<base>.seg.new`, listed in
 * `names`) that are still there. They never hold a record: a segment is renamed into place before
 * anything is written into it.
 */
function removeUnfinishedSegments(io: FileIO, dir: string, names: readonly string[], removed: string[]): void {
  const left = names.filter((name) => !removed.includes(name));
  for (const name of left) {
    unlinkFile(io, dir, name);
    removed.push(name);
  }
  if (left.length > 0) fsyncDir(io, dir);
}

/**
 * Refuses (ERR_LOG_CORRUPT, before anything is changed) a log whose own files show that segments are
 * gone: no segment at all while durable.offset, start.offset or a transactional cursor (`cursor`,
 * asked only then) names an offset above 0 (records were written; a new segment 0 would hand their
 * offsets out again, and a cursor past them would pass over the records appended there without a
 * word), or a recorded log start past the newest segment's base (retention records only a segment's
 * base: the segments from it on are missing, and the log start would move back). repairLog goes on
 * from the offset they name.
 */
function refuseLostSegments(
  bases: readonly number[], durableHint: number | null, recordedStart: number | null, cursor: () => { name: string; offset: number } | null,
): void {
  const newest = bases[bases.length - 1];
  if (newest === undefined) {
    const c = cursor();
    const named = Math.max(durableHint ?? 0, recordedStart ?? 0, c?.offset ?? 0);
    if (named === 0) return;
    if (c !== null && named === c.offset && named !== durableHint && named !== recordedStart) {
      const file = `${CURSOR_DIR}/${c.name}`;
      throw LogError.corrupt(file, 0, `no segment is here, but the cursor ${file} was committed at offset ${named}: the segments holding records 0 to ${named - 1} are missing (a new log at 0 would hand their offsets out again, and the cursor would pass over the first ${named} records appended)`);
    }
    const file = named === durableHint ? DURABLE_HINT_FILE : START_OFFSET_FILE;
    throw LogError.corrupt(file, 0, `no segment is here, but ${file} names offset ${named}: the segments holding the log are missing`);
  }
  if (recordedStart !== null && recordedStart > newest) {
    throw LogError.corrupt(START_OFFSET_FILE, 0,
      `${START_OFFSET_FILE} names log start ${recordedStart}, but the newest segment starts at ${newest}: the segments from ${recordedStart} on are missing`);
  }
}

/**
 * Reads a sealed segment's header and last frame header; returns what retention and chaining need, and
 * adds to `times` what checkSealedTimes needs.
 */
function inspectSealed(io: FileIO, dir: string, base: number, times: SealedTimes[]): SegmentInfo {
  const name = segmentName(base);
  const fd = openListedSegment(io, dir, base, 'r');
  try {
    const fileBytes = io.fsize(fd);
    const h = requireSegmentHeader(io, fd, base);
    if (fileBytes === SEGMENT_HEADER_BYTES) {
      times.push({ createdMs: h.createdMs, lastPosition: null });
      return { baseOffset: base, endOffset: base, bytes: fileBytes, lastTimestampMs: h.createdMs };
    }
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
    times.push({ createdMs: h.createdMs, lastPosition });
    return { baseOffset: base, endOffset: last.baseOffset + last.recordCount, bytes: fileBytes, lastTimestampMs: last.timestampMs };
  } finally {
    io.close(fd);
  }
}

/**
 * The recorded log start below which an interrupted retention left segments to delete, or null (none
 * to delete). It must name a listed segment, and no transactional cursor may point below it: under
 * blockingMinimumRetention the writer records the new start, reads the cursors again, and writes the
 * old start back when one now points into the segment; stopped in between (killed, a failed write, a
 * power loss that kept only the first of the two unsynced writes), it leaves a start that was never
 * confirmed. The segments are then kept, and the writer records their start again.
 */
export function retentionStart(io: FileIO, dir: string, bases: readonly number[], recordedStart: number | null): number | null {
  if (recordedStart === null || !bases.includes(recordedStart) || bases[0] === recordedStart) return null;
  const lowest = lowestCursorOffset(io, dir);
  return lowest !== null && lowest < recordedStart ? null : recordedStart;
}

/** Opens and recovers `dir` (which must exist). The caller holds the producer lock. */
export function recoverLog(io: FileIO, dir: string, indexIntervalBytes: number, nowMs: number): RecoveredLog {
  refuseNewerFormat(io, dir);
  // The writer's last report of durable progress: records below it were fsynced, so they must be
  // here; a tail that would cut them, or a missing newest segment, is damage, not a torn tail.
  const durableHint = readDurableHint(io, dir);
  // Retention records the new log start before it deletes the segments below it. Segments still below
  // a recorded start that names a segment here are what an interrupted retention (a crash, a failed
  // unlink) left: no longer part of the log, so they are not checked, and they are deleted once
  // everything else has passed: the log start never moves back, unless a transactional cursor points
  // below it (retentionStart): then they are kept, and the log reopens at their start.
  const recordedStart = readStartOffset(io, dir);
  const listing = listLogDir(io, dir);
  let bases = listing.bases;
  refuseLostSegments(bases, durableHint, recordedStart, () => highestCursor(io, dir));
  const start = retentionStart(io, dir, bases, recordedStart);
  const kept = start !== null ? bases.filter((b) => b >= start) : bases;
  const touchedIndexes = [...listing.indexes].filter((b) => !kept.includes(b) || b === kept[kept.length - 1]).map(indexName);
  const retiredSegments = bases.filter((b) => !kept.includes(b)).map(segmentName);
  refuseDirectories(io, dir, [...listing.newSegments, ...touchedIndexes, ...retiredSegments]);
  const unfinished = listing.newSegments;
  const removed: string[] = [];
  if (bases.length === 0) {
    // A log never written (refuseLostSegments passed): nothing is left to check, and it starts at 0.
    // createSegment creates its temporary file exclusively: the leftovers go first.
    removeUnfinishedSegments(io, dir, unfinished, removed);
    createSegment(io, dir, 0, nowMs);
    bases = [0];
  }
  let retired: number[] = [];
  if (start !== null) {
    retired = bases.filter((b) => b < start);
    bases = bases.filter((b) => b >= start);
  }
  // The transactional cursor naming the highest offset: the log must reach it (its records were durable).
  const high = highestCursor(io, dir);
  const cursor = high === null ? null : { file: `${CURSOR_DIR}/${high.name}`, offset: high.offset };
  const tornRoll = setAsideTornRoll(io, dir, bases, durableHint, nowMs, unfinished, removed, cursor);
  const times: SealedTimes[] = [];
  const segments = inspectChain(io, dir, bases, times);
  const { info, activeIndex, truncated, formatVersion, createdMs } = recoverActive(io, dir, bases[bases.length - 1]!, indexIntervalBytes, durableHint, cursor);
  // The writer's clock starts at the newest timestamp of these, and retention ages segments by them.
  checkSealedTimes(io, dir, segments, times, createdMs);
  segments.push(info);
  removeUnfinishedSegments(io, dir, unfinished, removed);
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
function setAsideTornRoll(
  io: FileIO, dir: string, bases: number[], durableHint: number | null, nowMs: number, unfinished: readonly string[], removed: string[], cursor: CursorPromise | null,
): number | null {
  if (bases.length > 1) return isTornRoll(io, dir, bases[bases.length - 1]!) ? bases.pop()! : null;
  const only = bases[0]!;
  if (!isTornRoll(io, dir, only)) return null;
  if (durableHint !== null && durableHint > only) {
    throw LogError.corrupt(segmentName(only), 0, `records ${only} to ${durableHint - 1} were reported durable (${DURABLE_HINT_FILE}) but the only segment holds no valid header or frame`);
  }
  // Refused before the torn segment is replaced, as recoverActive refuses a log ending below a cursor:
  // a refused open changes nothing.
  if (cursor !== null && cursor.offset > only) {
    throw LogError.corrupt(cursor.file, 0, `the cursor was committed at offset ${cursor.offset}, but the only segment (${segmentName(only)}) holds no valid header or frame: records ${only} to ${cursor.offset - 1}, durable when it committed them, are missing`);
  }
  // Nothing is left to check: the leftovers go first (createSegment creates its temporary file
  // exclusively). The new segment is renamed over the torn one: a recovery that fails or is killed
  // meanwhile leaves the torn file for the next one, never a log without a segment (which recovery
  // refuses once durable.offset or start.offset names its base).
  removeUnfinishedSegments(io, dir, unfinished, removed);
  createSegment(io, dir, only, nowMs, true);
  removed.push(segmentName(only));
  return null;
}

/**
 * The sealed segments of `bases` (all but the last, the active one), inspected, after checking that
 * they chain up to the active segment's base: a gap is damage, and then the active tail is not touched.
 */
function inspectChain(io: FileIO, dir: string, bases: readonly number[], times: SealedTimes[]): SegmentInfo[] {
  const segments: SegmentInfo[] = [];
  for (let i = 0; i < bases.length - 1; i++) segments.push(inspectSealed(io, dir, bases[i]!, times));
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
  const fd = openListedSegment(io, dir, base, 'r');
  try {
    const fileBytes = io.fsize(fd);
    if (typeof readSegmentHeader(io, fd, segmentName(base)) !== 'string') return false;
    // The header is bad. Only a file with no valid frame anywhere is a torn roll; otherwise it is damage.
    return fileBytes <= SEGMENT_HEADER_BYTES || findValidFrameAfter(io, fd, fileBytes, -1, false) === null;
  } finally {
    io.close(fd);
  }
}
