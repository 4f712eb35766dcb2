/**
 * `inspectLog(dir)`: what an operator asks of a log, from any process, cheaply. It reads the
 * directory listing, each segment's size and first frame header, the newest segment's index and the
 * frames after its last entry (to find the end), `durable.offset`, the lock files' owner information
 * and the cursor files, plus per cursor the index of the segment it points into. It never reads
 * records, takes no lock and writes nothing.
 */
import { join } from 'node:path';
import type { CursorLag } from '../types.js';
import { cursorDir } from '../cursor/tx-cursor.js';
import { readCursorFile } from '../cursor/cursor-file.js';
import { LogReader } from '../reader/log-reader.js';
import { listLogDir } from '../segment/segment-files.js';
import { readDurableHint } from '../storage/durable-hint.js';
import { fileIO, type FileIO } from '../storage/file-io.js';
import { lockOwner, producerLockPath } from '../storage/lock.js';
import { adminLogDir } from './admin-dir.js';
import { cursorIdOfFile, cursorNames } from './cursor-ids.js';
import { withSegmentHeaders } from './frame-walk.js';

/** A process that holds a lock. */
export interface LockHolder {
  /** Its process id. */
  readonly pid: number;
  /** The host name it runs on. */
  readonly host: string;
}

/** One segment file. */
export interface SegmentSummary {
  /** The offset of its first record (in its file name). */
  readonly baseOffset: number;
  /** The segment file's size in bytes (header and frame overhead included). */
  readonly bytes: number;
  /** Records in it, from the file names (and the log's end for the newest segment). */
  readonly records: number;
  /** The timestamp of its first record; null while it holds none. */
  readonly oldestTimestamp: number | null;
}

/** One transactional cursor. */
export interface CursorSummary {
  /** The consumer id of a clientTx cursor; '@global' for the globalTx one. */
  readonly id: string;
  /** The style of the consumer that keeps it. */
  readonly style: 'clientTx' | 'globalTx';
  /** The next offset the cursor's consumer takes. */
  readonly committedOffset: number;
  /** How far it is behind the log's durable end. */
  readonly lag: CursorLag;
  /** The live consumer that holds the cursor open; null when none does. */
  readonly owner: LockHolder | null;
}

/** What inspectLog reports. */
export interface LogInfo {
  /** The oldest offset still stored. */
  readonly logStartOffset: number;
  /** The offset the next appended record gets: the end of the whole, valid frames in the files. */
  readonly nextOffset: number;
  /** The end of the durable records, from durable.offset (see docs/admin.md). */
  readonly durableOffset: number;
  /** The bytes of all segment files. */
  readonly totalBytes: number;
  /** Every segment file, oldest first. */
  readonly segments: SegmentSummary[];
  /** The live producer holding the log; null when none does. */
  readonly producer: LockHolder | null;
  /** Every transactional cursor, by file name. */
  readonly cursors: CursorSummary[];
}

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
export async function inspectLog(dir: string): Promise<LogInfo> {
  const io = await fileIO();
  return inspectWith(io, adminLogDir(io, dir));
}

/** inspectLog on a checked real directory path. */
export function inspectWith(io: FileIO, dir: string): LogInfo {
  const { bases } = listLogDir(io, dir);
  const reader = new LogReader(io, dir);
  let end: number;
  try {
    end = reader.bounds().end;
  } finally {
    reader.close();
  }
  const segments = summarize(io, dir, bases, end);
  const logStartOffset = bases.length > 0 ? Math.min(bases[0]!, end) : end;
  const producer = liveHolder(io, producerLockPath(dir));
  const hint = readDurableHint(io, dir);
  // No hint: nothing was synced since the directory was created, or it is a log of a closed producer
  // whose hint was removed; with no producer alive, every whole frame in the files is all there is.
  const durableOffset = Math.max(logStartOffset, Math.min(end, hint ?? (producer === null ? end : logStartOffset)));
  const totalBytes = segments.reduce((n, s) => n + s.bytes, 0);
  const cursors = listCursors(io, dir, { logStartOffset, durableOffset, segments });
  return { logStartOffset, nextOffset: end, durableOffset, totalBytes, segments, producer, cursors };
}

/** Each segment's size, record count and first timestamp (`end`: the log's end). */
function summarize(io: FileIO, dir: string, bases: readonly number[], end: number): SegmentSummary[] {
  return bases.map((base, i): SegmentSummary => withSegmentHeaders(io, dir, base, (s) => ({
    baseOffset: base,
    bytes: s.size,
    records: Math.max(0, (i + 1 < bases.length ? bases[i + 1]! : end) - base),
    oldestTimestamp: s.first()?.header.timestampMs ?? null,
  }), { baseOffset: base, bytes: 0, records: 0, oldestTimestamp: null }));
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

function listCursors(io: FileIO, dir: string, log: LogShape): CursorSummary[] {
  let names: string[];
  try {
    names = io.readdir(cursorDir(dir)).sort();
  } catch {
    return [];
  }
  const out: CursorSummary[] = [];
  for (const name of names) {
    const id = cursorIdOfFile(name);
    if (id === null) continue;
    const c = cursorNames(dir, id);
    const value = readCursorFile(io, join(cursorDir(dir), name), name);
    if (value === null) continue; // deleted meanwhile
    out.push({ id, style: c.style, committedOffset: value.offset, lag: lagOf(io, dir, log, value.offset), owner: liveHolder(io, c.lockPath) });
  }
  return out;
}

/** The segment holding `offset`: the last one whose base is at most it; -1 when none is. */
function segmentIndexOf(segments: readonly SegmentSummary[], offset: number): number {
  let i = segments.length - 1;
  while (i >= 0 && segments[i]!.baseOffset > offset) i--;
  return i;
}

/** The frame holding `offset`: its segment's index, position and timestamp; null when not found. */
function frameOf(io: FileIO, dir: string, segments: readonly SegmentSummary[], offset: number): { seg: number; position: number; timestampMs: number } | null {
  const seg = segmentIndexOf(segments, offset);
  if (seg < 0) return null;
  const f = withSegmentHeaders(io, dir, segments[seg]!.baseOffset, (s) => s.frameHolding(offset), null);
  return f === null ? null : { seg, position: f.position, timestampMs: f.header.timestampMs };
}

function lagOf(io: FileIO, dir: string, log: LogShape, committed: number): CursorLag {
  const from = Math.max(committed, log.logStartOffset);
  if (from >= log.durableOffset) return { records: 0, bytes: 0, ms: 0 };
  const first = frameOf(io, dir, log.segments, from);
  const newest = frameOf(io, dir, log.segments, log.durableOffset - 1);
  let bytes = 0;
  if (first !== null) {
    bytes = log.segments[first.seg]!.bytes - first.position;
    for (let i = first.seg + 1; i < log.segments.length; i++) bytes += log.segments[i]!.bytes;
  }
  const ms = first !== null && newest !== null ? Math.max(0, newest.timestampMs - first.timestampMs) : 0;
  return { records: log.durableOffset - from, bytes, ms };
}
