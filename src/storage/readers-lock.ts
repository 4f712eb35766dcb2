/**
 * What keeps a repair and the log's readers apart: a kernel lock on `durable.offset`. Every local
 * consumer (any style, the CLI's `dump`, `get` and `tail` too) holds a shared lock on that file from
 * its open (before it reads where to start) to its close; repairLog takes it exclusively before it
 * lists the cursors and keeps it to its end. So a repair is refused while a reader has the log open
 * (a reader's position past the cut would pass over the records appended there next), and a consumer
 * opened while a repair runs is refused. One lock per open, none per record: the read path pays
 * nothing. The kernel releases it when the descriptor closes or the process dies (open-file-
 * description locks, as the owner locks: lock.ts), and two descriptors conflict even in one process,
 * so it works across processes and threads alike.
 *
 * Two bytes of the file are locked, not the whole of it. Every reader holds byte 0 shared; repair
 * holds byte 1 (the repair byte), then byte 0, exclusively. A dry run only looks at byte 0: it tries
 * the exclusive lock for an instant and lets it go. A reader refused byte 0 looks at the repair byte
 * (shared, through a descriptor of its own, for an instant): free, it was a dry run's look, and the
 * reader tries byte 0 again; held, a repair runs, and the reader is refused. So a dry run never
 * refuses a consumer, and a repair waits out a reader's look at its byte the same way.
 *
 * durable.offset is the file because every log that holds a record has it, at one inode for good
 * (the writer opens it without truncating and writes it in place; nothing renames or removes it), and
 * a reader may lock it without writing anything: readers still change nothing in the directory. The
 * lock is advisory: the writer's writes to the file are not affected. A consumer that opens while
 * the log has no durable.offset (never written, or the file lost in an OS crash until the next
 * producer opens) takes the lock at its first look at the end of the log once the file is there
 * (LocalSource); until then it reads unlocked (docs/admin.md, known gap).
 */
import { closeSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, LogError } from '../errors.js';
import { DURABLE_HINT_FILE } from './durable-hint.js';
import { nodeFileIO } from './file-io.js';
import { tryLockRangeOnce, waitOutLooks } from './native-lock.js';

/** The byte every reader holds shared (repair: exclusively; a dry run's look: for an instant). */
const READERS_BYTE = 0;
/** The byte a repair holds exclusively from before it takes READERS_BYTE to its end (readers look at it for an instant). */
const REPAIR_BYTE = 1;

/**
 * Where the kernel lock has no byte ranges (fs-native-extensions on macOS locks with flock, and
 * refuses a range with EINVAL), both bytes are the whole file: set at the first such refusal. Readers
 * then hold the whole file shared and a repair holds it exclusively; a reader refused cannot tell a
 * dry run's look from a repair, and tries again for a second (waitOutLooks) before the refusal counts.
 */
let wholeFile = false;

/** Tries the lock on `byte` of `fd` once (the whole file where ranges cannot be locked). */
function tryByte(fd: number, byte: number, shared: boolean): boolean {
  if (!wholeFile) {
    try {
      return tryLockRangeOnce(fd, byte, 1, shared);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
      wholeFile = true;
    }
  }
  return tryLockRangeOnce(fd, 0, 0, shared);
}

/** Whether a repair holds the repair byte of `path` now (looked at through a descriptor of its own). */
function repairRuns(path: string): boolean {
  let fd: number;
  try {
    fd = nodeFileIO.open(path, 'r');
  } catch {
    return true; // cannot tell: the refusal stands
  }
  try {
    return !tryByte(fd, REPAIR_BYTE, true);
  } finally {
    closeSync(fd); // releases the look
  }
}

/** A lock on durable.offset this thread holds; release() closes its descriptor (idempotent). */
export interface ReadersLock {
  /** False for a reader that found no durable.offset to lock: it tries again at its next look at the end of the log (LocalSource). */
  readonly held: boolean;
  release(): void;
}

const NO_LOCK: ReadersLock = { held: false, release: () => undefined };

function holding(fd: number): ReadersLock {
  let open = true;
  return {
    held: true,
    release: () => {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

/**
 * A reader's shared lock, taken as a consumer opens, before it reads where to start. ERR_LOG_LOCKED
 * while a repair holds the log (`open` false: a consumer already open takes it late, LocalSource, and
 * is told to read again). No durable.offset, or one the reader may not open: read unlocked.
 */
export function holdReaders(realDir: string, logDir: string, open = true): ReadersLock {
  const path = join(realDir, DURABLE_HINT_FILE);
  let fd: number;
  try {
    fd = nodeFileIO.open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Not there, or no directory there (the open then says what is wrong with the path).
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM') return NO_LOCK;
    throw LogError.fromSystem(e, 'opening durable.offset', path);
  }
  let ok: boolean;
  try {
    // Refused while a repair runs; a dry run's look at this byte is waited out.
    ok = waitOutLooks(() => tryByte(fd, READERS_BYTE, true), () => !wholeFile && repairRuns(path));
  } catch (e) {
    closeSync(fd);
    throw LogError.fromSystem(e, 'locking durable.offset', path);
  }
  if (!ok) {
    closeSync(fd);
    throw new LogError(ErrorCode.LOG_LOCKED, `log directory ${logDir} is being repaired (repairLog holds the lock on ${DURABLE_HINT_FILE}): ${open ? 'open it' : 'read again'} once the repair is done`, { file: path });
  }
  return holding(fd);
}

/**
 * Repair's exclusive lock (the repair byte, then the readers byte); null while a reader holds the log.
 * No durable.offset: nobody holds it (NO_LOCK).
 */
export function lockOutReaders(realDir: string): ReadersLock | null {
  return lockExclusive(realDir, true);
}

/** `repair`: the repair byte first (a reader's look at it waited out), then the readers byte; else the readers byte only. */
function lockExclusive(realDir: string, repair: boolean): ReadersLock | null {
  const path = join(realDir, DURABLE_HINT_FILE);
  let fd: number;
  try {
    fd = nodeFileIO.open(path, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return NO_LOCK;
    throw LogError.fromSystem(e, 'opening durable.offset', path);
  }
  let ok: boolean;
  try {
    // Only readers look at the repair byte, an instant each (repairLog holds the producer's lock: no other repair runs).
    ok = (!repair || waitOutLooks(() => tryByte(fd, REPAIR_BYTE, false), () => false)) && tryByte(fd, READERS_BYTE, false);
  } catch (e) {
    closeSync(fd);
    throw LogError.fromSystem(e, 'locking durable.offset', path);
  }
  if (!ok) {
    closeSync(fd);
    return null;
  }
  return holding(fd);
}

/**
 * A dry run's look: whether a reader holds the log now (the readers byte tried and released at once;
 * false when it cannot tell). The repair byte is left alone: a reader that meets the look waits it out.
 */
export function readersHoldNow(realDir: string): boolean {
  let taken: ReadersLock | null;
  try {
    taken = lockExclusive(realDir, false);
  } catch {
    return false; // may not open it for writing: cannot tell
  }
  if (taken === null) return true;
  taken.release();
  return false;
}

/** The error of a repair refused while readers hold the log. */
export function readersHold(dir: string): LogError {
  return new LogError(ErrorCode.LOG_LOCKED, `log directory ${dir} is open for reading (a consumer holds a shared lock on ${DURABLE_HINT_FILE}): close every consumer of the log first`, { file: join(dir, DURABLE_HINT_FILE) });
}
