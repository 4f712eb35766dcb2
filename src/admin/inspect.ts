/**
 * `inspectLog(dir)`: what an operator asks of a log, from any process, cheaply. It reads the
 * directory listing, each segment's size and first frame header, the newest segment's index and the
 * frames after its last entry (to find the end), `durable.offset`, the lock files' owner information
 * and the cursor files, plus per cursor the index of the segment it points into. It never reads
 * records, takes no lock and writes nothing.
 */
import { join } from 'node:path';
import type { CursorLag } from '../types.js';
import { hasBackend, isLogBackend, type LogBackend } from '../backend/backend-types.js';
import { LogError } from '../errors.js';
import { describe, noExtraArguments } from '../validate.js';
import { cursorDir, lowestCursorOffset } from '../cursor/tx-cursor.js';
import { readCursorFile } from '../cursor/cursor-file.js';
import { cursorFolderNames } from '../cursor/cursor-folder.js';
import { SEGMENT_HEADER_BYTES } from '../format/frame.js';
import { readLogBounds } from '../reader/log-bounds.js';
import { listLogDir } from '../segment/segment-files.js';
import { readDurableHint, recordedLogStart } from '../storage/durable-hint.js';
import { fileIO, type FileIO } from '../storage/file-io.js';
import { lockOwner, producerLockPath } from '../storage/lock.js';
import { adminLogDir, coded } from './admin-dir.js';
import { cursorIdOfFile, cursorNames } from './cursor-ids.js';
import { withSegmentHeaders } from './frame-walk.js';
import type { CursorSummary, LockHolder, LogInfo, SegmentSummary } from './inspect-types.js';

export type { CursorSummary, LockHolder, LogInfo, SegmentSummary } from './inspect-types.js';

/**
 * Inspects the log at `dir`, from any process, cheaply: it reads the directory listing, segment and
 * frame headers, the newest index, `durable.offset`, the lock files and the cursor files. It never
 * reads records, takes no lock and writes nothing.
 *
 * @throws {@link LogError} `ERR_INVALID_OPTION` when `dir` is no log directory.
 *
 * @example
 * ```ts
 * const info = await inspectLog('./data/orders');
 * console.log(info.nextOffset - info.logStartOffset, 'records,', info.cursors.length, 'cursors');
 * ```
 */
export function inspectLog(dir: string): Promise<LogInfo>;
/**
 * Inspects a log on a backend (`reactive-log/jetstream`), from any process: on JetStream the stream's
 * bounds and bytes, the producer's lease and the cursors of the cursors bucket with their lag (one
 * stream info, the buckets' entries, one stored message per cursor behind the end); `segments` is
 * empty. Creates nothing, takes no lease and writes nothing. See docs/jetstream.md.
 *
 * @throws {@link LogError} `ERR_INVALID_OPTION` for a backend whose log does not exist (no stream);
 *   `ERR_IO` when the engine does not answer.
 *
 * @example
 * ```ts
 * const info = await inspectLog({ backend: jetstream({ servers: 'nats://127.0.0.1:4222', stream: 'orders' }) });
 * for (const c of info.cursors) console.log(c.id, c.lag.records);
 * ```
 */
export function inspectLog(where: { backend: LogBackend }): Promise<LogInfo>;
export async function inspectLog(where: string | { backend: LogBackend }): Promise<LogInfo> {
  noExtraArguments('options', 'inspectLog(dir) (it takes no options)', arguments.length, 1);
  if (hasBackend(where)) {
    if (!isLogBackend(where.backend) || typeof where.backend.inspect !== 'function') throw LogError.invalidOption('backend', `expected a backend made by a backend factory such as jetstream(), got ${describe(where.backend)}`);
    return where.backend.inspect();
  }
  const io = await fileIO();
  const dir = adminLogDir(io, where);
  return coded('inspecting the log', () => inspectWith(io, dir));
}

/** inspectLog on a checked real directory path. */
export function inspectWith(io: FileIO, dir: string): LogInfo {
  const listed = logOffsets(io, dir, true);
  const { nextOffset: end, producer } = listed;
  const segments = summarize(io, dir, listed.bases, end);
  // Retention may delete the oldest segments after the listing: the log then starts at the first one read.
  const logStartOffset = Math.max(listed.logStartOffset, Math.min(segments[0]?.baseOffset ?? end, end));
  // No readable durable.offset: no record is proven durable, and a transactional consumer in another
  // process hands out none past its position (local-source.ts), so no cursor lags (docs/admin.md).
  const durableOffset = listed.durableKnown ? Math.max(logStartOffset, listed.durableOffset) : logStartOffset;
  const totalBytes = segments.reduce((n, s) => n + s.bytes, 0);
  // A cursor never committed starts at the start retention recorded, as a new cursor does (consumer-start.ts).
  const newStart = Math.max(logStartOffset, Math.min(listed.recordedStart ?? 0, end));
  const cursors = listCursors(io, dir, { logStartOffset, durableOffset, segments, nextOffset: end }, newStart);
  return { logStartOffset, nextOffset: end, durableOffset, totalBytes, segments, producer, cursors };
}

/**
 * The log's start, end and durable end. With `kept`, the start is the one the next producer's
 * recovery keeps: while no producer holds the log, it reads the cursors' offsets when a start is
 * recorded above the oldest segment (retentionStart in recovery.ts). `durableOffset` is where a reset
 * to 'latest' goes: with no readable durable.offset (`durableKnown` false) the end of the files
 * (inspectLog then reports the log start: no record is proven durable).
 */
export function logOffsets(io: FileIO, dir: string, kept = false): { bases: number[]; logStartOffset: number; nextOffset: number; durableOffset: number; durableKnown: boolean; recordedStart: number | null; producer: LogInfo['producer'] } {
  const { bases } = listLogDir(io, dir);
  const end = readLogBounds(io, dir).end;
  // A start retention recorded (start.offset) above the oldest segment: a crash or a failed unlink
  // interrupted that deletion, and the segments below it are leftovers that recovery deletes (as a new
  // cursor and a reset to 'oldest' take it, the log starts there), unless a transactional cursor points
  // below it while no producer holds the log: then the next producer's recovery keeps them, the
  // cursor's consumer reads them, and (with `kept`) the log starts at the oldest segment. (A live
  // writer is deleting them, or writes the old start back: retention.ts; either way it is its call.)
  const producer = liveHolder(io, producerLockPath(dir));
  const recorded = bases.length > 0 ? recordedLogStart(io, dir, bases) : null;
  const held = kept && producer === null && recorded !== null && recorded > bases[0]! && (lowestCursorOffset(io, dir) ?? recorded) < recorded;
  const oldest = bases.length > 0 ? Math.max(bases[0]!, held ? 0 : recorded ?? 0) : end;
  const logStartOffset = Math.min(oldest, end);
  const hint = durableHint(io, dir, producer !== null);
  // No readable hint: the end of the whole frames in the files, where a consumer in another process
  // may open (consumer-start.ts), never the log start (a reset to 'latest' would rewind). A live
  // writer never leaves the file empty or short (durable-hint.ts), so only a file removed or damaged
  // by hand, or lost in an OS crash, stays unknown.
  const durableOffset = Math.max(logStartOffset, Math.min(end, hint ?? end));
  return { bases, logStartOffset, nextOffset: end, durableOffset, durableKnown: hint !== null, recordedStart: recorded, producer };
}

/** Reads of durable.offset while a producer is alive, before it counts as unknown. */
const HINT_READS = 3;

/**
 * durable.offset, null when unknown. While a producer is alive a read can meet its 12-byte rewrite
 * half done (a checksum mismatch): the file is read again before it counts as unknown.
 */
function durableHint(io: FileIO, dir: string, producerAlive: boolean): number | null {
  for (let i = 1; ; i++) {
    const hint = readDurableHint(io, dir);
    if (hint !== null || !producerAlive || i >= HINT_READS) return hint;
  }
}

/** Each segment's size, record count and first timestamp (`end`: the log's end); none for a segment deleted since the listing. */
function summarize(io: FileIO, dir: string, bases: readonly number[], end: number): SegmentSummary[] {
  return bases.map((base, i): SegmentSummary | null => withSegmentHeaders(io, dir, base, (s) => ({
    baseOffset: base,
    bytes: s.size,
    records: Math.max(0, (i + 1 < bases.length ? bases[i + 1]! : end) - base),
    oldestTimestamp: s.first()?.header.timestampMs ?? null,
  }), null)).filter((s): s is SegmentSummary => s !== null);
}

/**
 * How far a reader at `from` is behind `end`, as a cursor's lag in inspectLog: records, the segment
 * bytes from the frame holding `from` on, and the time between that frame and the one before `end`.
 */
export function lagBehind(io: FileIO, dir: string, from: number, end: number): CursorLag {
  const { bases } = listLogDir(io, dir);
  const logStartOffset = bases.length > 0 ? Math.min(bases[0]!, end) : end;
  return lagOf(io, dir, { logStartOffset, durableOffset: end, segments: summarize(io, dir, bases, end) }, from);
}

function liveHolder(io: FileIO, lockPath: string): LockHolder | null {
  const o = lockOwner(io, lockPath);
  return o === null || !o.live ? null : { pid: o.pid, host: o.host };
}

interface LogShape {
  readonly logStartOffset: number;
  readonly durableOffset: number;
  readonly segments: readonly SegmentSummary[];
}

/** The shape listCursors reads: with the end of the records in the files (a cursor past it cannot open). */
interface CursorLogShape extends LogShape {
  readonly nextOffset: number;
}

/** Each cursor with its lag; one never committed counts from `newStart` (where its consumer starts) when that is later. */
function listCursors(io: FileIO, dir: string, log: CursorLogShape, newStart: number): CursorSummary[] {
  const names = cursorFolderNames(io, cursorDir(dir));
  const out: CursorSummary[] = [];
  for (const name of names) {
    const id = cursorIdOfFile(name);
    if (id === null) continue;
    const c = cursorNames(dir, id);
    const value = readCursorFile(io, join(cursorDir(dir), name), name);
    if (value === null) continue; // deleted meanwhile
    const from = value.sequence === 1 ? Math.max(value.offset, newStart) : value.offset;
    // Past the end of the records in the files, as the consumer's open judges it (consumer-start.ts):
    // the end was read before the cursor, so a consumer that committed records appended since reads
    // past it; the end is read again before the cursor counts as past it.
    const pastEnd = value.offset > log.nextOffset && value.offset > readLogBounds(io, dir).end;
    out.push({ id, style: c.style, committedOffset: value.offset, lag: lagOf(io, dir, log, from), owner: liveHolder(io, c.lockPath), pastEnd });
  }
  return out;
}

/** The segment holding `offset`: the last one whose base is at most it; -1 when none is. */
function segmentIndexOf(segments: readonly SegmentSummary[], offset: number): number {
  let i = segments.length - 1;
  while (i >= 0 && segments[i]!.baseOffset > offset) i--;
  return i;
}

/** The frame holding `offset`: its segment's index, position, end and timestamp; null when not found. */
function frameOf(io: FileIO, dir: string, segments: readonly SegmentSummary[], offset: number): { seg: number; position: number; end: number; timestampMs: number } | null {
  const seg = segmentIndexOf(segments, offset);
  if (seg < 0) return null;
  const f = withSegmentHeaders(io, dir, segments[seg]!.baseOffset, (s) => s.frameHolding(offset), null);
  return f === null ? null : { seg, position: f.position, end: f.position + f.header.frameBytes, timestampMs: f.header.timestampMs };
}

/**
 * The first frame of the first segment after `seg` that is still there: retention may delete the
 * segment holding a cursor's offset after the listing, and the lag then counts from the oldest frame
 * left, as for a cursor retention passed.
 */
function oldestFrameAfter(io: FileIO, dir: string, segments: readonly SegmentSummary[], seg: number): { seg: number; position: number; end: number; timestampMs: number } | null {
  for (let i = Math.max(seg, -1) + 1; i < segments.length; i++) {
    const f = withSegmentHeaders(io, dir, segments[i]!.baseOffset, (s) => ({ found: s.first() }), null);
    if (f === null) continue; // deleted as well
    if (f.found === null) return null;
    return { seg: i, position: f.found.position, end: f.found.position + f.found.header.frameBytes, timestampMs: f.found.header.timestampMs };
  }
  return null;
}

function lagOf(io: FileIO, dir: string, log: LogShape, committed: number): CursorLag {
  const from = Math.max(committed, log.logStartOffset);
  if (from >= log.durableOffset) return { records: 0, bytes: 0, ms: 0 };
  const first = frameOf(io, dir, log.segments, from) ?? oldestFrameAfter(io, dir, log.segments, segmentIndexOf(log.segments, from));
  const newest = frameOf(io, dir, log.segments, log.durableOffset - 1);
  // The bytes of the frames from the one holding `from` to the one holding the last durable record:
  // records written after that (not durable yet) are no part of this lag, as in `records` and `ms`,
  // nor are the headers of the segments they span (each segment's frames start after its header).
  let bytes = 0;
  if (first !== null) {
    const last = newest ?? { seg: log.segments.length - 1, end: log.segments.at(-1)!.bytes };
    for (let i = first.seg; i <= last.seg; i++) {
      const to = i === last.seg ? last.end : log.segments[i]!.bytes;
      bytes += Math.max(0, to - (i === first.seg ? first.position : SEGMENT_HEADER_BYTES));
    }
  }
  const ms = first !== null && newest !== null ? Math.max(0, newest.timestampMs - first.timestampMs) : 0;
  return { records: log.durableOffset - from, bytes, ms };
}
