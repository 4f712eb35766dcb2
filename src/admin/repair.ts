/**
 * `repairLog(dir)`: cuts a damaged log back to its longest valid prefix, so that it opens again,
 * keeping a copy of every byte it removes.
 *
 * The cut is at the first place, in offset order, where the log stops being a chain of valid frames:
 * a segment header that is invalid or names another base offset, a segment that does not start where
 * the one before ended (a gap or an overlap), or the first frame that fails its checks. Everything
 * from there on is removed: the rest of that segment and every later segment with its index. Then
 * durable.offset, if it names records past the cut, is rewritten to the cut, and every transactional
 * cursor past the cut is reset to it: a cursor left past the end would pass over the records appended
 * next. When no segment is left, an empty one is created at the cut, so offsets never go back. A log
 * whose frames are all valid but end before what durable.offset or a cursor names (a segment cut at a
 * frame boundary) is cut at its end: nothing is removed, and the hint and the cursors are set to it.
 * A damaged or missing index of a sealed segment that stays is rebuilt from its frames (repair-index.ts),
 * with or without a cut.
 *
 * Order, so that a crash in the middle leaves a log that a second repair finishes: every byte to be
 * removed is first copied to the backup directory and fsynced; then durable.offset and the cursors
 * are set back to the cut; then later segments are removed from the last backwards, then the cut
 * segment is truncated (or, when none is left, the empty one created).
 *
 * Refused while a producer holds the log (ERR_LOG_LOCKED), a consumer has it open (ERR_LOG_LOCKED:
 * a shared lock on durable.offset, readers-lock.ts; a reader past the cut would pass over the records appended next) or
 * anyone holds a cursor (ERR_CURSOR_LOCKED: a consumer, or a cursor reset), before anything is changed:
 * repair takes the readers lock before it lists the cursors, and the producer's lock and
 * every cursor's lock before its first change and keeps them to the end (a lock file a dead owner left
 * is kept as it was unless repair goes on to change the log). With `dryRun`, it reports
 * what it would do and changes nothing (it only looks whether the locks are held). Segments below a recorded log start (start.offset) that
 * names a segment are what an interrupted retention left: not part of the log, and not looked at (unless a transactional cursor points below that start: recovery keeps them then).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, LogError } from '../errors.js';
import { DURABLE_HINT_FILE, START_OFFSET_FILE, encodeDurableHint, readDurableHint, readStartOffset } from '../storage/durable-hint.js';
import { fileIO, fsyncDir, writeAll, type FileIO } from '../storage/file-io.js';
import { refuseDirectories } from '../storage/recovery.js';
import { acquireLock, producerLockPath, type HeldLock } from '../storage/lock.js';
import { heldNow } from './lock-admin.js';
import { lockOutReaders, readersHold, readersHoldNow } from '../storage/readers-lock.js';
import { createSegment, indexName, listLogDir, newSegmentName, refuseNewerFormat, segmentName } from '../segment/segment-files.js';
import { adminLogDir, coded } from './admin-dir.js';
import { knownOptions, optionalFlag } from '../validate.js';
import { checkBackupDir, copyRange, syncDirectory } from './repair-backup.js';
import { backupCursors, cursorsPast, resetCursors } from './repair-cursors.js';
import { endPastPromises, findCut, logBases, type RepairCut } from './repair-cut.js';
import { indexesToRebuild, rebuildIndexes } from './repair-index.js';

export type { RepairCut } from './repair-cut.js';

/** One change repair makes (or, in a dry run, would make). */
export interface RepairAction {
  /**
   * truncate: the cut segment loses its tail; remove: a file after the cut goes; rewrite-durable-hint,
   * reset-cursor: set to the cut; rewrite-start-offset: a recorded log start whose segment goes is set
   * to the oldest segment left; create-segment: an empty segment at the cut; rebuild-index: a sealed
   * segment's damaged or missing index is rebuilt from its frames (no record changes).
   */
  readonly action: 'truncate' | 'remove' | 'rewrite-durable-hint' | 'rewrite-start-offset' | 'reset-cursor' | 'create-segment' | 'rebuild-index';
  /** The file, relative to the log directory; a cursor's admin id for reset-cursor. */
  readonly file: string;
  /** Bytes removed from the log (each copied to the backup first). */
  readonly bytes: number;
  /** Why, or the values before and after. */
  readonly detail: string;
}

/** What `repairLog` found and did (or, in a dry run, would do). */
export interface RepairReport {
  /** The log directory, as an absolute path. */
  readonly dir: string;
  /** True when nothing was changed on purpose (`dryRun`). */
  readonly dryRun: boolean;
  /** Null when the log is a whole chain of valid frames: nothing to cut (damaged sealed indexes may still be rebuilt). */
  readonly cut: RepairCut | null;
  /** The changes, in the order they are made (files removed: from the last backwards). */
  readonly actions: RepairAction[];
  /**
   * Where the removed bytes were copied (each file under its own name, a cut tail as
   * `<segment>.from-<position>`), with the files repair rewrites as they were: durable.offset,
   * start.offset, the cursor files it resets under `cursors/`, and the indexes it rebuilds; null when
   * nothing was changed, or when only indexes were rebuilt and no `backupDir` was given.
   */
  readonly backupDir: string | null;
}

/** What `repairLog` takes beside the directory. */
export interface RepairOptions {
  /** Report what would be done; change nothing. */
  readonly dryRun?: boolean;
  /** Called as bytes are copied to the backup: bytes copied so far, and in all. */
  readonly onProgress?: (bytesCopied: number, bytesToCopy: number) => void;
  /** Where removed bytes go. Default: `<dir>.repair-<time>` beside the log directory. */
  readonly backupDir?: string;
}

/**
 * Cuts the damaged log at `dir` back to its longest valid prefix, so that it opens again, after
 * copying every byte it removes to a backup directory (docs/cli.md, `repair`).
 *
 * @throws LogError `ERR_LOG_LOCKED` while a producer holds the log or a consumer has it open; `ERR_CURSOR_LOCKED` while a
 *   consumer holds a cursor that points past the cut (nothing is changed then); `ERR_INVALID_OPTION`
 *   when `dir` is no log directory or `options` are malformed (an unknown key, a `dryRun` that is
 *   not a boolean: nothing is touched then); `ERR_UNSUPPORTED_FORMAT` when a segment names a newer
 *   format than this code reads (nothing is changed); `ERR_IO` when a file cannot be read, copied or changed.
 * @example
 * ```ts
 * const plan = await repairLog('./data/orders', { dryRun: true });
 * if (plan.cut !== null) await repairLog('./data/orders', { backupDir: './orders-removed' });
 * ```
 */
export async function repairLog(dir: string, options: RepairOptions = {}): Promise<RepairReport> {
  const io = await fileIO();
  const realDir = adminLogDir(io, dir);
  const o = knownOptions(options, ['dryRun', 'onProgress', 'backupDir']);
  const dryRun = optionalFlag('dryRun', o.dryRun);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw LogError.invalidOption('onProgress', 'expected a function');
  if (o.backupDir !== undefined) checkBackupDir(o.backupDir, realDir);
  return coded('repairing the log', () => repairIn(io, dir, realDir, dryRun, options));
}

function repairIn(io: FileIO, dir: string, realDir: string, dryRun: boolean, options: RepairOptions): RepairReport {
  // A dry run only looks whether a producer holds the log: taking the lock would write its file.
  // Claimed (its owner information written) only once repair changes something: a refused or idle
  // repair leaves a lock file a dead producer left as it was.
  // A newer reactive-log's log is refused before the lock file is written, so that nothing of the
  // directory changes (its mtime included); looked at again under the locks below.
  refuseNewerFormat(io, realDir);
  // So is a log a consumer has open (looked at again under the locks): taking the producer's lock
  // first would create its file and remove it again, and the directory's mtime would move.
  if (readersHoldNow(realDir)) throw readersRefusal(io, realDir, dir);
  const taken = dryRun ? null : acquireLock(io, producerLockPath(realDir), { keepFound: true });
  if (taken !== null && !taken.ok) throw producerHolds(dir, taken.ownerPid);
  const held = taken?.lock ?? null;
  if (dryRun && heldNow(io, producerLockPath(realDir))) throw producerHolds(dir, null);
  const cursorLocks: HeldLock[] = [];
  let readers: ReturnType<typeof lockOutReaders> = null;
  let changing = false;
  try {
    // A reader's position may lie past the cut (readers-lock.ts): refused while one has the log open.
    // Taken before the cursors are listed, so no consumer creates or moves a cursor after that.
    if (!dryRun) {
      readers = lockOutReaders(realDir);
      if (readers === null) throw readersRefusal(io, realDir, dir);
    }
    // A newer reactive-log's segment is never damage (docs/format.md): a cut before it would remove it.
    refuseNewerFormat(io, realDir);
    const cut = findCut(io, realDir) ?? endPastPromises(io, realDir);
    const plan = cut === null ? null : planRepair(io, realDir, cut, dryRun ? null : cursorLocks);
    const kept = plan?.kept ?? logBases(io, realDir);
    // The newest is the active one: recovery rewrites its index, and refuses a directory there, which
    // a repair never replaces (it may hold anything): refused now, nothing changed, the remedy named.
    if (kept.length > 0) refuseDirectories(io, realDir, [indexName(kept.at(-1)!)], 'the active segment\'s index after the repair; move it away, then repair again');
    // Sealed indexes of the segments that stay.
    const indexes = indexesToRebuild(io, realDir, kept.slice(0, -1));
    const actions = [...plan?.actions ?? [], ...indexes.map((r): RepairAction => ({ action: 'rebuild-index', file: indexName(r.base), bytes: 0, detail: `${r.reason}: rebuilt from the segment's frames (${r.offsets.length} entries)` }))];
    if (dryRun || actions.length === 0) return { dir: realDir, dryRun, cut, actions, backupDir: null };
    // An index is derived data: rebuilding only indexes makes a backup only when one is asked for.
    const backupDir = options.backupDir ?? (plan === null ? null : `${realDir}.repair-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    // The locks are claimed (their owner information written) once the backup is whole: a repair
    // refused while it copies leaves lock files dead owners left as they were.
    changing = true;
    const claim = (): void => { for (const l of [held!, ...cursorLocks]) l.claim(); };
    if (plan !== null) applyRepair(io, realDir, cut!, plan, backupDir!, claim, options.onProgress);
    rebuildIndexes(io, realDir, indexes, backupDir, plan === null ? claim : null);
    return { dir: realDir, dryRun, cut, actions, backupDir };
  } finally {
    for (const l of cursorLocks) l.release();
    // A durable.offset repair created to hold the lock goes again when it changed nothing (refused, nothing to cut).
    if (!changing) readers?.unmade();
    readers?.release();
    held?.release();
  }
}

/** A repair refused by readers: ERR_CURSOR_LOCKED when a transactional consumer is among them (it names the cursor), else ERR_LOG_LOCKED. */
function readersRefusal(io: FileIO, realDir: string, dir: string): LogError {
  try {
    cursorsPast(io, realDir, Number.MAX_SAFE_INTEGER, null);
  } catch (e) {
    if (e instanceof LogError && e.code === ErrorCode.CURSOR_LOCKED) return e;
  }
  return readersHold(dir);
}

function producerHolds(dir: string, pid: number | null): LogError {
  return new LogError(ErrorCode.LOG_LOCKED, `log directory ${dir} is held by a producer${pid !== null ? ` (pid ${pid})` : ''}: close it first`, { file: producerLockPath(dir) });
}

interface Plan {
  readonly actions: RepairAction[];
  /** Whole files to remove (segments and indexes after the cut, the cut segment and its index at position 0). */
  readonly remove: string[];
  /** Those of `remove` that are symbolic links to nothing: no bytes to copy, the link itself is unlinked. */
  readonly links: string[];
  /** Cursor ids to reset to the cut. */
  readonly cursors: string[];
  readonly rewriteHint: boolean;
  /** The log start start.offset is set to (its segment goes); null when it stays. */
  readonly rewriteStart: number | null;
  readonly createSegment: boolean;
  /** The cut segment loses bytes from the cut's position on. */
  readonly truncate: boolean;
  /** The log's segments that stay, oldest first (without one created at the cut). */
  readonly kept: number[];
}

/** `locks`: where the locks of the cursors to reset go, taken now (null for a dry run, which only looks). */
function planRepair(io: FileIO, dir: string, cut: RepairCut, locks: HeldLock[] | null): Plan {
  const actions: RepairAction[] = [];
  const hint = readDurableHint(io, dir);
  const rewriteHint = hint !== null && hint > cut.offset;
  // Offsets are dense (docs/format.md): the records appended next get the cut offsets again.
  const again = (to: number, what: string): string => `${to} → ${cut.offset}: offsets ${cut.offset} to ${to - 1}, ${what}, are handed out again to the records appended next`;
  if (rewriteHint) actions.push({ action: 'rewrite-durable-hint', file: DURABLE_HINT_FILE, bytes: 0, detail: again(hint, 'reported durable') });
  const cursors: string[] = [];
  for (const c of cursorsPast(io, dir, cut.offset, locks)) {
    cursors.push(c.id);
    actions.push({ action: 'reset-cursor', file: c.id, bytes: 0, detail: again(c.offset, 'which it had committed') });
  }
  const remove: string[] = [];
  const links: string[] = [];
  const cutBase = Number(cut.file.slice(0, -4));
  const bases = logBases(io, dir);
  const listing = listLogDir(io, dir);
  // With none of the log's segments here, any listed one lies below a recorded start past them all: it goes too.
  const gone = bases.length === 0 ? listing.bases : bases.filter((b) => b > cutBase || (b === cutBase && cut.position === 0));
  // What goes is decided from the listing: a symbolic link to nothing is listed, and goes as well.
  const listed = new Set(listing.names);
  for (const base of gone) {
    for (const name of [segmentName(base), indexName(base)]) {
      if (!listed.has(name)) continue;
      const bytes = sizeOrNull(io, join(dir, name));
      if (bytes === null) links.push(name);
      remove.push(name);
      const why = base === cutBase ? cut.reason : base < cutBase ? `below the log start recorded in ${START_OFFSET_FILE}` : 'after the cut';
      actions.push({ action: 'remove', file: name, bytes: bytes ?? 0, detail: bytes === null ? `${why}; a link to nothing: the link goes, nothing is copied` : why });
    }
  }
  const tail = cut.position > 0 ? sizeOf(io, join(dir, cut.file)) - cut.position : 0;
  if (tail > 0) actions.push({ action: 'truncate', file: cut.file, bytes: tail, detail: `cut at byte ${cut.position} (offset ${cut.offset}): ${cut.reason}` });
  const createSegmentAtCut = bases.every((b) => b > cutBase || (b === cutBase && cut.position === 0));
  // The temporary file of a creation a crash (or a failed repair) interrupted would stop the create below.
  const leftover = newSegmentName(cut.offset);
  if (createSegmentAtCut && listed.has(leftover)) {
    remove.push(leftover);
    actions.push({ action: 'remove', file: leftover, bytes: sizeOf(io, join(dir, leftover)), detail: 'a segment whose creation was interrupted: the empty segment at the cut is created under its name' });
  }
  if (createSegmentAtCut) actions.push({ action: 'create-segment', file: segmentName(cut.offset), bytes: 0, detail: 'no segment is left: an empty one keeps the next offset' });
  const rewriteStart = startLeft(io, dir, listing.bases.filter((b) => !gone.includes(b)), createSegmentAtCut ? cut.offset : null);
  // Before the other changes, as durable.offset: a start a stopped repair set back does no harm.
  if (rewriteStart !== null) actions.splice(0, 0, { action: 'rewrite-start-offset', file: START_OFFSET_FILE, bytes: 0, detail: `${readStartOffset(io, dir)} → ${rewriteStart}: the segments from the recorded start on go` });
  const kept = bases.filter((b) => !gone.includes(b));
  return { actions, remove, links, cursors, rewriteHint, rewriteStart, createSegment: createSegmentAtCut, truncate: tail > 0, kept };
}

/**
 * The log start start.offset must be set to, or null: a recorded start past the newest segment left
 * (`left`, and `created`, the one created at the cut) would make recovery refuse the log, as segments
 * gone missing. That happens when a transactional cursor below the recorded start kept the segments
 * below it in the log (retentionStart) and the cut lies there: the log starts at its oldest segment.
 */
function startLeft(io: FileIO, dir: string, left: readonly number[], created: number | null): number | null {
  const start = readStartOffset(io, dir);
  const all = created === null ? left : [...left, created].sort((a, b) => a - b);
  const newest = all[all.length - 1];
  return start === null || newest === undefined || start <= newest ? null : all[0]!;
}

function applyRepair(io: FileIO, dir: string, cut: RepairCut, plan: Plan, backupDir: string, claimLocks: () => void, onProgress?: RepairOptions['onProgress']): void {
  try {
    mkdirSync(backupDir, { recursive: true });
  } catch (e) {
    throw LogError.fromSystem(e, 'making the backup directory', backupDir);
  }
  // 1. Copies of everything that goes, fsynced, before anything changes.
  const total = plan.actions.reduce((n, a) => n + a.bytes, 0);
  let copied = 0;
  const progress = (n: number): void => { copied += n; onProgress?.(copied, total); };
  for (const name of plan.remove) if (!plan.links.includes(name)) copyRange(io, join(dir, name), 0, join(backupDir, name), progress);
  if (plan.truncate) copyRange(io, join(dir, cut.file), cut.position, join(backupDir, `${cut.file}.from-${cut.position}`), progress);
  if (plan.rewriteHint) copyRange(io, join(dir, DURABLE_HINT_FILE), 0, join(backupDir, DURABLE_HINT_FILE));
  if (plan.rewriteStart !== null) copyRange(io, join(dir, START_OFFSET_FILE), 0, join(backupDir, START_OFFSET_FILE));
  backupCursors(io, dir, plan.cursors, backupDir);
  syncDirectory(backupDir);
  claimLocks();
  // 2. What names records past the cut is set back to it first: a hint or a cursor behind the log's
  // end does no harm, and a repair stopped after this finds the same cut again.
  if (plan.rewriteStart !== null) rewriteOffsetFile(io, dir, START_OFFSET_FILE, plan.rewriteStart);
  if (plan.rewriteHint) rewriteOffsetFile(io, dir, DURABLE_HINT_FILE, cut.offset);
  resetCursors(io, dir, plan.cursors, cut.offset);
  // 3. Later segments, from the last backwards; then the cut. A repair stopped after removing every
  // segment is finished by the next one (noSegmentLeft).
  for (const name of [...plan.remove].reverse()) io.unlink(join(dir, name));
  fsyncDir(io, dir);
  if (plan.truncate) {
    const fd = io.open(join(dir, cut.file), 'r+');
    try {
      io.ftruncate(fd, cut.position);
      io.fsync(fd);
    } finally {
      io.close(fd);
    }
  }
  if (plan.createSegment) createSegment(io, dir, cut.offset, io.now());
}

/** Rewrites durable.offset or start.offset (the same 12-byte form) to `offset`, fsynced. */
function rewriteOffsetFile(io: FileIO, dir: string, name: string, offset: number): void {
  const fd = io.open(join(dir, name), 'w');
  try {
    writeAll(io, fd, [encodeDurableHint(offset)], 0);
    io.fsync(fd);
  } finally {
    io.close(fd);
  }
}

/** The size of the file at `path`; null when it is listed but opening it finds nothing (a symbolic link to nothing). */
function sizeOrNull(io: FileIO, path: string): number | null {
  try {
    return sizeOf(io, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function sizeOf(io: FileIO, path: string): number {
  const fd = io.open(path, 'r');
  try {
    return io.fsize(fd);
  } finally {
    io.close(fd);
  }
}
