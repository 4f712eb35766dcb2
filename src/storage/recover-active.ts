/**
 * Recovery of a log's active segment (src/storage/recovery.ts runs it): start from its last index
 * entry that proves itself, scan its tail, cut a torn tail (damage is ERR_LOG_CORRUPT), fsync it and
 * rewrite its index.
 */
import { join } from 'node:path';
import { LogError } from '../errors.js';
import { FORMAT_VERSION, FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES, encodeSegmentHeader, type SegmentHeader } from '../format/frame.js';
import { DURABLE_HINT_FILE } from './durable-hint.js';
import { readFull, writeAll, type FileIO } from './file-io.js';
import { durabilityProof } from './durability-proof.js';
import { readFrameAt, scanFrames, type ScanEnd } from './frame-scan.js';
import { encodeIndexEntries, entryFrame, readIndex, type IndexEntries } from '../segment/offset-index.js';
import { indexName, openListedSegment, segmentName, readSegmentHeader, type SegmentInfo } from '../segment/segment-files.js';

/** A torn tail cut by recovery: the file, the byte position it was cut at, how many bytes, and why. */
export interface Truncation {
  readonly file: string;
  readonly position: number;
  readonly bytes: number;
  readonly reason: string;
}

/** The header of segment `base` open at `fd`, which must be valid and name `base`; else ERR_LOG_CORRUPT. */
export function requireSegmentHeader(io: FileIO, fd: number, base: number): SegmentHeader {
  const name = segmentName(base);
  const h = readSegmentHeader(io, fd, segmentName(base));
  if (typeof h === 'string') throw LogError.corrupt(name, 0, h);
  if (h.baseOffset !== base) throw LogError.corrupt(name, 8, `header names base offset ${h.baseOffset}, the file name ${base}`);
  return h;
}

/** The transactional cursor naming the highest offset (its file, relative to the log directory): the log must reach it. */
export interface CursorPromise {
  readonly file: string;
  readonly offset: number;
}

/** The active segment after recovery: its info, its index entries (kept and rebuilt), and a torn tail cut. */
export interface RecoveredActive {
  readonly info: SegmentInfo;
  readonly activeIndex: IndexEntries;
  readonly truncated: Truncation | null;
  readonly formatVersion: number;
  /** Its header's creation time. */
  readonly createdMs: number;
}

/**
 * Recovers the active segment `base`: start from its index, scan its tail, judge where the valid frames
 * end (cut a torn tail; damage is ERR_LOG_CORRUPT), fsync it, and rewrite its index.
 */
export function recoverActive(io: FileIO, dir: string, base: number, indexIntervalBytes: number, durableHint: number | null, cursor: CursorPromise | null = null): RecoveredActive {
  const name = segmentName(base);
  const fd = openListedSegment(io, dir, base, 'r+');
  try {
    const fileBytes = io.fsize(fd);
    const h = requireSegmentHeader(io, fd, base);
    const index = readIndex(io, join(dir, indexName(base)), base, fileBytes);
    let start = scanStart(io, fd, fileBytes, base, index);
    let { end, lastTimestampMs } = scanTail(io, fd, fileBytes, start, indexIntervalBytes);
    if (end.bad !== null && start.position !== SEGMENT_HEADER_BYTES) {
      // Two frames stored in a record's payload pass every check an entry gets: a scan started at the
      // second stops at the record's trailer. Only a scan from the first frame tells a torn tail.
      start = { position: SEGMENT_HEADER_BYTES, offset: base, entries: { offsets: [], positions: [] } };
      ({ end, lastTimestampMs } = scanTail(io, fd, fileBytes, start, indexIntervalBytes));
    }
    if (cursor !== null && end.nextOffset < cursor.offset) {
      // A cursor commits only records proven durable: they are lost, not torn. Going on below it, the
      // log would hand those offsets out again, and the cursor pass over the records appended there.
      throw LogError.corrupt(cursor.file, 0, `the cursor was committed at offset ${cursor.offset}, but the log ends at ${end.nextOffset} (${name}): records ${end.nextOffset} to ${cursor.offset - 1}, durable when it committed them, are missing`);
    }
    const truncated = judgeTail(io, dir, base, fd, fileBytes, end, durableHint, h.version, lastTimestampMs);
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
      createdMs: h.createdMs,
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
 * Start from the last index entry that points at a valid frame holding the offset it claims, that
 * proves itself as the readers' entries do (entryFrame: the frame before it ends there and chains to
 * that offset), and whose position lies in bytes proven durable: some such indexed frame at or after it
 * carries a durable position at or above it, and not past its own start. The index is never fsynced,
 * so any bytes may be in it: an entry naming a frame stored inside a record's payload proves nothing
 * and costs nothing. The bytes before the start are not rescanned, which is only right for
 * durable bytes (damage there is found by readers, as in sealed segments). Frames written after the
 * last fsync may be torn by a crash while a later one survives with its index entry; a start past them
 * would keep the torn frame inside the log for good instead of cutting the tail there (found by the
 * corruption properties).
 */
function scanStart(io: FileIO, fd: number, fileBytes: number, base: number, index: IndexEntries): ScanStart {
  const readAt = (position: number, bytes: number): Buffer => {
    const b = Buffer.allocUnsafe(bytes);
    return b.subarray(0, readFull(io, fd, b, 0, bytes, position));
  };
  let provenDurablePosition = SEGMENT_HEADER_BYTES;
  let proofSeen = false;
  for (let i = index.offsets.length - 1; i >= 0; i--) {
    const entryPosition = index.positions[i]!;
    // The writer's durable position only grows, frame after frame: once the newest valid frame gave
    // its own, an older frame proves no more, and an entry past that position cannot be the start, so
    // it is passed over unread (under SyncPolicy.never() that is every entry of the segment).
    if (proofSeen && entryPosition > provenDurablePosition) continue;
    // The entry proves itself as the readers' do (the frame before it ends there and chains to its
    // offset): a header alone may be a frame stored in a record's payload.
    if (entryFrame(readAt, base, index.offsets[i]!, entryPosition, FRAME_HEADER_BYTES) === null) continue;
    const f = readFrameAt(io, fd, fileBytes, entryPosition);
    if (typeof f === 'string' || f.baseOffset !== index.offsets[i]) continue;
    // A frame's durable position never lies past its own start; one that says otherwise proves nothing.
    if (f.durablePosition <= entryPosition) {
      provenDurablePosition = Math.max(provenDurablePosition, f.durablePosition);
      proofSeen = true;
    }
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
 * fsync covered the damaged bytes (they were corrupted later); a frame stamped before `lastTimestampMs`
 * (the last valid frame's time) in a segment of format 2 shows nothing (durabilityProof: the rule
 * verifyLog and the readers judge by too).
 */
function judgeTail(
  io: FileIO, dir: string, base: number, fd: number, fileBytes: number, end: ScanEnd, durableHint: number | null,
  formatVersion: number, lastTimestampMs: number | null,
): Truncation | null {
  const name = segmentName(base);
  if (durableHint !== null && end.nextOffset < durableHint) {
    throw LogError.corrupt(name, end.position,
      `records ${end.nextOffset} to ${durableHint - 1} were reported durable (${DURABLE_HINT_FILE}) but are not in the log${end.bad !== null ? `: ${end.bad}` : ''}`);
  }
  if (end.bad === null) return null;
  const proof = durabilityProof(io, { dir, base, fd, fileBytes, from: end.position }, formatVersion, () => lastTimestampMs);
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