/**
 * Where a consumer starts: the log's bounds as this process sees them (from the producer's shared
 * memory in its process, else from the files), the offset a Whence or a transactional cursor names,
 * and a reader placed there. Retention may delete the oldest segment between reading the bounds and
 * the seek, and the newest one too when the producer rolled on; a start that follows the oldest record or
 * the end (`latest`) then tries again (bounded).
 */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { readCursorFile } from '../cursor/cursor-file.js';
import { CURSOR_SUFFIX, TxCursor, cursorDir } from '../cursor/tx-cursor.js';
import { ErrorCode, LogError } from '../errors.js';
import { localProducer, type LocalProducer } from '../producer/registry.js';
import { dirIdentityOf, sameDir } from '../reader/dir-identity.js';
import { LogReader } from '../reader/log-reader.js';
import { readLogBounds } from '../reader/log-bounds.js';
import { publishedEnd, publishedStart, type Visibility } from '../ring/layout.js';
import { readDurableHint, recordedLogStart } from '../storage/durable-hint.js';
import type { FileIO } from '../storage/file-io.js';
import type { Whence } from '../types.js';
import { offsetAtTime } from '../reader/time-seek.js';
import { segmentBases, segmentBasesHint } from '../reader/segment-list.js';
import { requireInt } from '../validate.js';
import type { ResolvedConsumerOptions } from './consumer-options.js';
import type { AheadOfWritten, StartPlan } from './start-plan.js';
import { requireLogDirectory } from '../storage/log-dir.js';
import { holdReaders, type ReadersLock } from '../storage/readers-lock.js';
import { tryLockShared } from '../storage/native-lock.js';

/** How often an open tries again when retention deleted its start segment under it. */
const MAX_START_ATTEMPTS = 5;

/** The cursor (transactional styles) and a reader placed at the first record to hand out. */
interface ConsumerStart {
  /** Transactional styles: the cursor, locked and open; else null. */
  readonly cursor: TxCursor | null;
  /** Placed so that it hands out the first record to deliver. */
  readonly reader: LogReader;
  /** A `latest` start past the written end of the producer of this process, else null. */
  readonly ahead: AheadOfWritten | null;
}

/**
 * openStart under the log's readers lock (readers-lock.ts), taken before the start is read and held
 * by the consumer until it closes: no repair cuts the log under its position. A log without
 * durable.offset: the start is first found without the lock and without writing anything (no
 * cursors/ folder, cursor file or lock file: a transactional cursor is only read), so that an open
 * refused (bad input) leaves the directory untouched, and so does one refused next by a repair that
 * took the log meanwhile; then the file is created to hold the lock, and the start found again under it.
 */
export function openStartHeld(io: FileIO, realDir: string, opts: ResolvedConsumerOptions): ConsumerStart & { readers: ReadersLock } {
  let readers = holdReaders(realDir, opts.logDir);
  if (!readers.held) {
    openStart(io, realDir, opts, true).reader.close();
    readers = holdReaders(realDir, opts.logDir, true, true);
  }
  try {
    return { ...openStart(io, realDir, opts), readers };
  } catch (e) {
    readers.release();
    throw e;
  }
}

/**
 * Opens the cursor (if any) and places a reader where the consumer starts. `look`: the cursor is read,
 * not opened (nothing is written; `cursor` is null), to find whether the open would be refused.
 */
export function openStart(io: FileIO, realDir: string, opts: ResolvedConsumerOptions, look = false): ConsumerStart {
  const { start } = opts;
  const toOldest = opts.onPositionExpired === 'oldest';
  try {
    if (start.kind === 'whence') return openAtWhence(io, realDir, opts.logDir, opts.visibility, start.whence, toOldest);
    return openAtCursor(io, realDir, opts.logDir, start, toOldest, look);
  } catch (e) {
    // A file call that failed with a system error on the way (listing the segments, reading
    // start.offset, ...) leaves as a coded LogError, as every failure of the open does.
    throw LogError.fromSystem(e, 'opening the consumer', realDir);
  }
}

function openAtWhence(io: FileIO, realDir: string, logDir: string, visibility: Visibility, whence: Whence, toOldest: boolean): ConsumerStart {
  if (whence.kind === 'position' && producerAt(io, realDir) === undefined) {
    // A record found in a valid frame lies below the log's end (and the path is a directory): no
    // need to find the end first. Not found (at or past the end, below the start, damaged, raced,
    // not a log directory): the general path below says why.
    const atOffset = requireInt('whence', whence.offset, 0, Number.MAX_SAFE_INTEGER);
    const r = new LogReader(io, realDir);
    if (r.seekToRecord(atOffset)) return { cursor: null, reader: r, ahead: null };
    r.close();
  }
  if (whence.kind === 'timestamp' && producerAt(io, realDir) === undefined) {
    const fast = timeOffsetFast(io, realDir, whence.ms);
    if (fast !== null) return { cursor: null, reader: fast, ahead: null };
  }
  requireLogDirectory(io, realDir, logDir);
  // Retention may delete the oldest segment between reading the bounds and the seek: try again. So
  // may it the newest one `latest` read its end in, when the producer rolled on meanwhile (then the
  // end is read again: `latest` names no stored record, so none was lost).
  for (let attempt = 1; ; attempt++) {
    const searchedMs = io.now(); // before the search: a frame stamped earlier may be on its way to the files
    const bounds = logBounds(io, realDir, visibility);
    try {
      const atOffset = whence.kind === 'timestamp' ? timeOffset(io, realDir, whence.ms, bounds) : startOffset(whence, bounds, toOldest);
      const reader = seekReader(io, realDir, atOffset);
      // Past every record in the files, the answer is where they end, and a frame the writer stamped
      // before the time and before the search may still have been on its way there: its records are
      // passed over as read. Records stamped since are not (a time still to come gives the next one appended).
      if (whence.kind === 'timestamp') reader.passOverStoredBefore(Math.min(whence.ms, searchedMs));
      return { cursor: null, reader, ahead: whence.kind === 'latest' ? aheadOfWritten(io, realDir, atOffset) : null };
    } catch (e) {
      const raced = e instanceof LogError && e.code === ErrorCode.POSITION_EXPIRED && (whence.kind !== 'position' || toOldest);
      if (!raced || attempt >= MAX_START_ATTEMPTS) throw e;
    }
  }
}

/** `atOffset` past the written end of the producer of this process: see AheadOfWritten. */
function aheadOfWritten(io: FileIO, realDir: string, atOffset: number): AheadOfWritten | null {
  const local = producerAt(io, realDir);
  if (local === undefined || atOffset <= publishedEnd(local.views, 'written')) return null;
  return { views: local.views, offset: atOffset };
}

/** A transactional cursor reads durable records only (resolveConsumerOptions). */
function openAtCursor(io: FileIO, realDir: string, logDir: string, plan: Extract<StartPlan, { kind: 'cursor' }>, toOldest: boolean, look: boolean): ConsumerStart {
  const { cursorName } = plan;
  requireLogDirectory(io, realDir, logDir);
  let bounds = logBounds(io, realDir, 'durable');
  probeFirstStart(io, realDir, bounds.startOffset);
  const cursor: StartCursor = look ? peekCursor(io, realDir, cursorName, bounds.startOffset)
    : TxCursor.open(io, realDir, cursorName, bounds.startOffset, plan.commitEveryRecords, plan.commitEveryMs);
  try {
    // The bounds were read before the lock was taken: an owner that committed past them and released
    // the lock meanwhile leaves a cursor past them. Read again under the lock, they hold its records.
    if (cursor.nextOffset > bounds.appendEndOffset) bounds = logBounds(io, realDir, 'durable');
    // A cursor that never committed stands for "from the oldest record": if retention moved the
    // start since it was created, it follows (nothing was handed out to it yet). With
    // onPositionExpired 'oldest', any cursor retention passed follows the start likewise.
    const fromOldest = cursor.neverCommitted || toOldest;
    // The cursor file exists now; start.offset is read after it: a start retention recorded past a
    // new cursor meanwhile may be deleting its segment (the writer reads the cursors again after
    // recording the start, and keeps the segment when it finds this one there: retention.ts). A
    // committed cursor below a recorded start is not passed by it: retention finds that cursor and
    // keeps the segment, and so does recovery when a writer stopped before it wrote the old start back
    // (recovery.ts); a segment deleted after all is the seek's ERR_POSITION_EXPIRED, followed below.
    const recorded = cursor.neverCommitted ? recordedLogStart(io, realDir, segmentBases(io, realDir)) ?? 0 : 0;
    for (let attempt = 1; ; attempt++) {
      // Moved there (durably) only once the open succeeds: a refused open leaves the cursor file as it was.
      const atOffset = fromOldest ? Math.max(cursor.nextOffset, bounds.startOffset, Math.min(recorded, bounds.appendEndOffset)) : cursor.nextOffset;
      // Judged against one reading of the bounds, whose start never lies past its end (logBounds).
      if (atOffset < bounds.startOffset) {
        throw LogError.expired(atOffset, bounds.startOffset, `offset ${atOffset}, where cursor ${cursorName} points,`);
      }
      // Against the records the files hold, not durable.offset: that hint is not fsynced, and after an
      // OS crash it may lag a cursor whose commit proves its records were durable.
      if (atOffset > bounds.appendEndOffset) {
        throw new LogError(ErrorCode.LOG_CORRUPT, `cursor ${cursorName} points at offset ${atOffset}, past the end of the log's records (${bounds.appendEndOffset})`, { offset: atOffset });
      }
      try {
        const reader = seekReader(io, realDir, atOffset);
        try {
          cursor.claim();
          if (atOffset > cursor.nextOffset) {
            cursor.advance(atOffset, undefined);
            cursor.sync();
          }
        } catch (e) {
          reader.close();
          throw e;
        }
        return { cursor: cursor instanceof TxCursor ? cursor : null, reader, ahead: null };
      } catch (e) {
        // Retention may delete the oldest segment between reading the bounds and the seek.
        const raced = e instanceof LogError && e.code === ErrorCode.POSITION_EXPIRED && fromOldest;
        if (!raced || attempt >= MAX_START_ATTEMPTS) throw e;
        bounds = logBounds(io, realDir, 'durable');
      }
    }
  } catch (e) {
    try {
      cursor.abandon();
    } catch { /* the open's own failure is the one to report */ }
    throw e;
  }
}

/** What openAtCursor uses of a cursor: a TxCursor, or a look at one (peekCursor). */
type StartCursor = Pick<TxCursor, 'nextOffset' | 'neverCommitted' | 'claim' | 'advance' | 'sync' | 'abandon'>;

/**
 * Cursor `name` as its file holds it (one never created: new, at `startOffset`), read without its lock
 * and changing nothing: a damaged file or one of a newer format refuses the open as TxCursor.open
 * does. A cursor another consumer holds now refuses it too (ERR_CURSOR_LOCKED, found again under the
 * readers lock): refused only there, the open would leave the durable.offset it created for that lock.
 */
function peekCursor(io: FileIO, realDir: string, name: string, startOffset: number): StartCursor {
  const lockPath = join(cursorDir(realDir), `${name}.lock`);
  if (lockHeldNow(io, lockPath)) throw new LogError(ErrorCode.CURSOR_LOCKED, `cursor ${name} is held by another consumer`, { file: lockPath });
  const file = `${name}${CURSOR_SUFFIX}`;
  const value = readCursorFile(io, join(cursorDir(realDir), file), file);
  const nothing = (): void => undefined;
  return {
    nextOffset: value?.offset ?? startOffset,
    neverCommitted: value === null || value.sequence === 1,
    claim: nothing,
    advance: nothing,
    sync: nothing,
    abandon: nothing,
  };
}

/** Whether someone holds the lock file at `path` now; looked at with a shared lock taken and let go, writing nothing. */
function lockHeldNow(io: FileIO, path: string): boolean {
  let fd: number;
  try {
    fd = io.open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  try {
    return !tryLockShared(fd);
  } finally {
    io.close(fd);
  }
}

/**
 * The first transactional open of a log creates cursors/, and its new cursor starts at the log start:
 * a start no reader can take (a segment of a newer format, a damaged one, an I/O error) refuses the
 * open here, before anything is written. Retention deleting the start meanwhile is left to the seek
 * under the lock, which follows the new start.
 */
function probeFirstStart(io: FileIO, realDir: string, startOffset: number): void {
  if (io.exists(cursorDir(realDir))) return;
  try {
    seekReader(io, realDir, startOffset).close();
  } catch (e) {
    if (!(e instanceof LogError && e.code === ErrorCode.POSITION_EXPIRED)) throw e;
  }
}

/** The real path of `logDir` (ERR_INVALID_OPTION if nothing is there). */
export function realLogDir(logDir: string): string {
  try {
    // One realpath(3) call: the JavaScript realpathSync takes an lstat per path component.
    return realpathSync.native(logDir);
  } catch {
    throw LogError.invalidOption('logDir', `no log directory at ${logDir}`);
  }
}

/** A reader placed so that it hands out `offset` first. */
function seekReader(io: FileIO, realDir: string, offset: number): LogReader {
  const r = new LogReader(io, realDir);
  try {
    r.seek(offset);
    return r;
  } catch (e) {
    r.close();
    throw e;
  }
}

interface Bounds {
  readonly startOffset: number;
  /** The end of what this consumer may read now. */
  readonly endOffset: number;
  /** Where a start may still lie: the producer's next offset in-process, else `end`. */
  readonly appendEndOffset: number;
}

/**
 * The producer of this process registered at `realDir`, unless its directory is known not to be the one
 * the path names now (moved away before another log took the path: that log's bounds are in its files).
 */
function producerAt(io: FileIO, realDir: string): LocalProducer | undefined {
  const p = localProducer(realDir);
  return p === undefined || sameDir(p.dirIdentity, dirIdentityOf(io, realDir)) !== false ? p : undefined;
}

function logBounds(io: FileIO, realDir: string, visibility: Visibility): Bounds {
  const local = producerAt(io, realDir);
  if (local !== undefined) {
    const c = local.views;
    // The start first: the writer raises it only up to what its durable offset already reached, so
    // read in this order the end is never below the start.
    const start = publishedStart(c);
    const end = publishedEnd(c, visibility);
    return { startOffset: start, endOffset: end, appendEndOffset: Math.max(end, local.nextOffset()) };
  }
  // From the files: the segments are listed before durable.offset is read, and the writer rewrites
  // durable.offset before retention deletes a segment, so here too the end is never below the start.
  const { start, end } = readLogBounds(io, realDir);
  const durableEnd = visibility === 'durable' ? Math.min(end, readDurableHint(io, realDir) ?? end) : end;
  return { startOffset: start, endOffset: durableEnd, appendEndOffset: end };
}

/**
 * A reader at the first record stored at or after `ms`, found on the last listing of the directory
 * unchecked (segment-list.ts) without reading the log's bounds; null when that cannot be decided so:
 * no listing yet, a time before the first listed segment's records (the answer is then the log's
 * start, which the general path reads), past the listed records, or a record that a valid frame does
 * not hold, or a listed segment whose frames end before the next listed one begins (a repair cut the
 * log since, and the segments after the cut begin at other offsets). Otherwise a found record is the
 * answer whatever the listing's age: the segment searched was read, and the next one begins where it ends.
 */
function timeOffsetFast(io: FileIO, realDir: string, ms: number): LogReader | null {
  const bases = segmentBasesHint(io, realDir);
  if (bases === undefined || bases.length === 0) return null;
  let found: number;
  try {
    found = offsetAtTime(io, realDir, bases, ms, -1, false, true);
  } catch {
    return null; // the general path, from a fresh listing, says what is wrong
  }
  if (found <= bases[0]!) return null;
  const r = new LogReader(io, realDir);
  if (r.seekToRecord(found)) return r;
  r.close();
  return null;
}

/**
 * The offset of the first record stored at or after `ms`, within the log's current bounds. Past every
 * record in the files it is where the search stopped reading them, not the producer's next offset:
 * records appended in this process and not framed yet get timestamps at or after now.
 */
function timeOffset(io: FileIO, realDir: string, ms: number, b: Bounds): number {
  const found = offsetAtTime(io, realDir, segmentBases(io, realDir), ms, b.endOffset, true);
  return Math.min(Math.max(found, b.startOffset), b.appendEndOffset);
}

/** Resolves a Whence other than a timestamp to an offset, checking it against the log's current bounds. */
function startOffset(whence: Exclude<Whence, { kind: 'timestamp' }>, b: Bounds, toOldest: boolean): number {
  switch (whence.kind) {
    case 'oldest': return b.startOffset;
    case 'latest': return b.appendEndOffset;
    case 'position': {
      const atOffset = requireInt('whence', whence.offset, 0, Number.MAX_SAFE_INTEGER);
      if (atOffset < b.startOffset) {
        if (toOldest) return b.startOffset;
        throw LogError.expired(atOffset, b.startOffset);
      }
      if (atOffset > b.appendEndOffset) throw LogError.invalidOption('whence', `Whence.position(${atOffset}) is past the end of the log (${b.appendEndOffset})`);
      return atOffset;
    }
  }
}
