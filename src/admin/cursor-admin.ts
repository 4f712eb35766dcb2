/**
 * `resetCursor` and `deleteCursor`: an operator moves or removes a transactional cursor from any
 * process. Both take the cursor's lock first, so a consumer holding the cursor makes them fail with
 * ERR_CURSOR_LOCKED, and a consumer opening meanwhile fails the same way. Everything about the call
 * (directory, id, target, that the cursor exists) is checked before anything is written: bad input
 * leaves the directory byte-identical.
 */
import { CursorFile, DAMAGED, readCursorOrDamage } from '../cursor/cursor-file.js';
import { CURSOR_SUFFIX, cursorDir } from '../cursor/tx-cursor.js';
import { ErrorCode, LogError } from '../errors.js';
import { offsetAtTime } from '../reader/time-seek.js';
import { listLogDir, refuseNewerFormat } from '../segment/segment-files.js';
import { recordedLogStart } from '../storage/durable-hint.js';
import { fileIO, fsyncDir, type FileIO } from '../storage/file-io.js';
import { acquireLock, type HeldLock } from '../storage/lock.js';
import { describe, noExtraArguments } from '../validate.js';
import { adminLogDir, coded } from './admin-dir.js';
import { cursorNames, type CursorNames } from './cursor-ids.js';
import { logOffsets } from './inspect.js';

/**
 * Where resetCursor moves a cursor: `'oldest'` (the log start), `'latest'` (the durable end), an offset
 * between the two, or `{ timestamp }`.
 */
export type ResetTarget = 'oldest' | 'latest' | number | {
  /** The first record stored at or after this time (ms since the epoch); the durable end when none is. */
  readonly timestamp: number;
};

/** Options of resetCursor. */
export interface ResetCursorOptions {
  /** Where the cursor moves. Required. */
  readonly to: ResetTarget;
  /**
   * The state value committed with the cursor: kept or cleared.
   * @defaultValue `'keep'`
   */
  readonly state?: 'keep' | 'clear';
}

/** What resetCursor did. */
export interface ResetResult {
  /** The cursor's admin id (a consumer id, or `'@global'`). */
  readonly id: string;
  /** The committed offset before the reset; null when the cursor file was damaged (it is written anew, its state lost). */
  readonly from: number | null;
  /** The committed offset now. */
  readonly to: number;
}

/**
 * Moves cursor `id` of the log at `dir` to `options.to`, which is resolved against the log's durable
 * records: 'oldest' is the log start, 'latest' the durable end, an offset must lie between the two,
   * `{ timestamp }` is the first record stored at or after it (the durable end when none is).
 * Everything is checked before anything is written.
 *
 * @param dir - The log directory.
 * @param id - A consumer id (of a `clientTx` cursor), or {@link GLOBAL_CURSOR_ID}.
 * @throws {@link LogError} `ERR_CURSOR_LOCKED` while a consumer holds the cursor.
 * @throws {@link LogError} `ERR_INVALID_OPTION` when `dir` is no log directory, the cursor does not
 *   exist, or `options` are not valid (an offset outside the durable records).
 * @throws {@link LogError} `ERR_INVALID_CONSUMER_ID` for an id no cursor can have.
 *
 * @example
 * ```ts
 * const { from, to } = await resetCursor('./data/orders', 'billing', { to: { timestamp: Date.parse('2026-12-01') } });
 * ```
 */
export async function resetCursor(dir: string, id: string, options: ResetCursorOptions): Promise<ResetResult> {
  // An options bag given to a call that takes none (a `dryRun` the user counts on) must not be dropped.
  noExtraArguments('options', 'resetCursor(dir, id, { to, state? })', arguments.length, 3);
  const io = await fileIO();
  const realDir = adminLogDir(io, dir);
  const names = cursorNames(realDir, id);
  const o = checkResetOptions(options);
  return coded('resetting the cursor', () => {
    existingCursor(io, names);
    // Checked before the lock is taken: a target outside the log fails with nothing touched (taking the
    // lock writes its file, and releasing it unlinks the file a killed consumer left).
    resolveTarget(io, realDir, o.to);
    return underLock(io, names, () => {
      // Again under the cursor's lock, which a repair holds while it cuts: the target is the log's as it
      // is now (an offset a repair cut meanwhile is outside the log).
      let target = resolveTarget(io, realDir, o.to);
      const file = CursorFile.open(io, cursorDir(realDir), `${names.stem}${CURSOR_SUFFIX}`, target, true);
      try {
        const was = file.value;
        // Where the cursor stands now, under the lock: a consumer may have committed (and closed) since
        // the look before it. A file found damaged was written anew at the target: no position to report.
        const from = file.created ? null : was.offset;
        for (let attempt = 1; ; attempt++) {
          file.reset(target, o.state === 'clear' ? null : undefined);
          // The cursor is written (and synced) first, start.offset read after; retention records the
          // new start first and reads the cursors after (retention.ts). A start past the target here
          // means retention may be deleting the records the cursor now points at.
          const start = recordedLogStart(io, realDir, listLogDir(io, realDir).bases);
          if (start === null || start <= target) break;
          if (typeof o.to === 'number' || attempt >= MAX_RESET_ATTEMPTS) {
            // The cursor goes back where it was (a cursor file found damaged: to the new start).
            file.reset(from ?? start, was.state);
            throw LogError.invalidOption('to', `offset ${target} is outside the log's durable records: retention deleted the records up to ${start} meanwhile`);
          }
          target = resolveTarget(io, realDir, o.to); // 'oldest' or a time before the new start: the new start
        }
        return { id: names.id, from, to: target };
      } finally {
        file.closeSynced(); // the reset is done (or failed for its own reason): a failed close reports nothing more
      }
    });
  });
}

/**
 * Removes cursor `id` of the log at `dir`: its file and its lock file. Resolves with its admin id and the
 * committed offset it held.
 *
 * @throws {@link LogError} `ERR_CURSOR_LOCKED` while a consumer holds the cursor.
 * @throws {@link LogError} `ERR_INVALID_OPTION` when `dir` is no log directory or the cursor does not exist.
 * @throws {@link LogError} `ERR_INVALID_CONSUMER_ID` for an id no cursor can have; `ERR_IO` when the
 *   file cannot be removed.
 */
export async function deleteCursor(dir: string, id: string): Promise<{
  /** The cursor's admin id. */
  readonly id: string;
  /** The committed offset it held; null when its file was damaged. */
  readonly committedOffset: number | null;
}> {
  noExtraArguments('options', 'deleteCursor(dir, id) (it takes no options)', arguments.length, 2);
  const io = await fileIO();
  const realDir = adminLogDir(io, dir);
  const names = cursorNames(realDir, id);
  return coded('deleting the cursor', () => {
    // A newer reactive-log's log is refused, as resetCursor (which reads its offsets) and every open
    // refuse it: nothing of it is changed (docs/format.md).
    refuseNewerFormat(io, realDir);
    existingCursor(io, names);
    return underLock(io, names, () => {
      // Read again under the lock: a consumer may have committed (and closed) since the look before it.
      const before = existingCursor(io, names);
      io.unlink(names.filePath);
      fsyncDir(io, cursorDir(realDir));
      return { id: names.id, committedOffset: before };
    });
  });
}

function checkResetOptions(options: unknown): ResetCursorOptions {
  if (options === null || typeof options !== 'object') throw LogError.invalidOption('options', `expected { to }, got ${describe(options)}`);
  const o = options as { to?: unknown; state?: unknown };
  for (const k of Object.keys(o)) if (k !== 'to' && k !== 'state') throw LogError.invalidOption(k, 'unknown option');
  if (o.state !== undefined && o.state !== 'keep' && o.state !== 'clear') throw LogError.invalidOption('state', `expected 'keep' or 'clear', got ${describe(o.state)}`);
  const to = o.to;
  const ok = to === 'oldest' || to === 'latest' || (typeof to === 'number' && Number.isSafeInteger(to) && to >= 0) ||
    (to !== null && typeof to === 'object' && Object.keys(to).length === 1 && typeof (to as { timestamp?: unknown }).timestamp === 'number' && Number.isFinite((to as { timestamp: number }).timestamp));
  if (!ok) throw LogError.invalidOption('to', `expected 'oldest', 'latest', an offset or { timestamp: ms }, got ${describe(to)}`);
  return o as ResetCursorOptions;
}

/**
 * The committed offset of an existing cursor, null when its file holds no valid slot (damaged: reset
 * and delete are how it is dealt with); ERR_INVALID_OPTION (option id) when it does not exist.
 */
function existingCursor(io: FileIO, names: CursorNames): number | null {
  const v = readCursorOrDamage(io, names.filePath, `${names.stem}${CURSOR_SUFFIX}`);
  if (v === null) throw noCursor(names);
  return v === DAMAGED ? null : v.offset;
}

/** How often a reset follows a log start that retention moved past its target before it gives up. */
const MAX_RESET_ATTEMPTS = 10;

function resolveTarget(io: FileIO, dir: string, to: ResetTarget): number {
  // Other cursors' files, damaged or not, play no part. The start is the one retention recorded when
  // it names a later segment than the oldest (logOffsets): it deletes the segments below it.
  const { logStartOffset: start, durableOffset: end } = logOffsets(io, dir);
  if (to === 'oldest') return start;
  if (to === 'latest') return end;
  if (typeof to === 'number') {
    if (to < start || to > end) throw LogError.invalidOption('to', `offset ${to} is outside the log's durable records (${start} to ${end})`);
    return to;
  }
  const found = offsetAtTime(io, dir, listLogDir(io, dir).bases, to.timestamp, end);
  return Math.min(Math.max(found, start), end);
}

function noCursor(names: CursorNames): LogError {
  return new LogError(ErrorCode.INVALID_OPTION, `no cursor ${JSON.stringify(names.id)} in this log (no file ${names.filePath})`, { option: 'id', file: names.filePath });
}

/** Runs `act` holding the cursor's lock (ERR_CURSOR_LOCKED when a live consumer holds it); the lock file goes after. */
function underLock<T>(io: FileIO, names: CursorNames, act: () => T): T {
  const taken = acquireLock(io, names.lockPath);
  if (!taken.ok) {
    throw new LogError(ErrorCode.CURSOR_LOCKED, `cursor ${names.id} is held by a consumer${taken.ownerPid !== null ? ` (pid ${taken.ownerPid})` : ''}: close it first`, { file: names.lockPath });
  }
  const lock: HeldLock = taken.lock;
  try {
    // The cursor may have been deleted between the check and the lock.
    if (!io.exists(names.filePath)) throw noCursor(names);
    return act();
  } finally {
    lock.release();
  }
}
