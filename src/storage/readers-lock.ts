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
 * (the writer opens it without truncating and writes it in place; nothing renames it, and only a
 * repair that created it and changed nothing removes it), and
 * a reader may lock it without writing anything. The lock is advisory: the writer's writes to the
 * file are not affected. Where the log has no durable.offset (a directory no producer has written
 * yet, or the file lost in an OS crash), whoever needs the lock creates the file, empty (it reads as
 * "no hint", as a torn one: the writer overwrites its 12 bytes in place): a consumer, so that no
 * repair runs while it is open, and a repair, so that no consumer opens while it runs (a repair that
 * then changes nothing removes the file it created before it lets the lock go: a reader that locked
 * that file meanwhile finds it gone from its path and starts over). A reader that may not create the
 * file (a read-only directory) reads unlocked, and takes the lock at its first look at the end of the
 * log once the file is there (LocalSource; docs/admin.md, known gap).
 */
import { closeSync, constants, fchmodSync, fchownSync, linkSync, lstatSync, openSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { ErrorCode, LogError } from '../errors.js';
import { ADOPT_SUFFIX, DURABLE_HINT_FILE } from './durable-hint.js';
import { nodeFileIO } from './file-io.js';
import { isLogEntry } from './log-dir.js';
import { tryLockRangeOnce, waitOutLooks } from './native-lock.js';

const { O_RDWR, O_CREAT, O_EXCL, O_NONBLOCK, O_NOFOLLOW } = constants;

/** The byte every reader holds shared (repair: exclusively; a dry run's look: for an instant). */
const READERS_BYTE = 0;
/** The byte a repair holds exclusively from before it takes READERS_BYTE to its end (readers look at it for an instant). */
const REPAIR_BYTE = 1;
/** How often a reader starts over when the file it locked was removed from its path (a repair that created it and changed nothing). */
const MAX_LOCK_ATTEMPTS = 5;

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
  /** False for a reader that found no durable.offset to lock and could not create it: it tries again at its next look at the end of the log (LocalSource). */
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
 * is told to read again). No durable.offset: with `create`, the reader creates it, empty, in a
 * directory that is empty or holds a log (consumer-start.ts: once an open without the lock passed);
 * without, or one the reader may not open or create: read unlocked (`held` false).
 */
export function holdReaders(realDir: string, logDir: string, open = true, create = false): ReadersLock {
  const path = join(realDir, DURABLE_HINT_FILE);
  for (let attempt = 1; ; attempt++) {
    const fd = openForReaders(realDir, path, create, logDir);
    if (fd === null) return NO_LOCK;
    let ok: boolean;
    let there: boolean;
    try {
      // Refused while a repair runs; a dry run's look at this byte is waited out.
      ok = waitOutLooks(() => tryByte(fd, READERS_BYTE, true), () => !wholeFile && repairRuns(path));
      // A repair that created the file and changed nothing removes it before it lets go: that lock holds nothing.
      there = ok && nodeFileIO.isSameFile(fd, path);
    } catch (e) {
      closeSync(fd);
      throw LogError.fromSystem(e, 'locking durable.offset', path);
    }
    if (ok && there) return holding(fd);
    closeSync(fd);
    if (!ok || attempt >= MAX_LOCK_ATTEMPTS) throw repairing(logDir, path, open);
  }
}

/** ERR_LOG_LOCKED: a repair holds the log (`open`: said to a consumer opening, else to one reading). */
function repairing(logDir: string, path: string, open: boolean): LogError {
  return new LogError(ErrorCode.LOG_LOCKED, `log directory ${logDir} is being repaired (repairLog holds the lock on ${DURABLE_HINT_FILE}): ${open ? 'open it' : 'read again'} once the repair is done`, { file: path });
}

/**
 * durable.offset opened for a reader's lock, created (empty) where it is missing and may be; null: read
 * unlocked. A file made by someone else between the failed open and the create (a repair, another
 * reader), or gone again after (a repair that changed nothing), is opened again or created: taken as
 * "no file to lock", it would open the reader unlocked beside that repair. A path that keeps coming and
 * going is a repair after a repair: ERR_LOG_LOCKED.
 */
function openForReaders(realDir: string, path: string, create: boolean, logDir: string): number | null {
  for (let attempt = 1; attempt <= MAX_LOCK_ATTEMPTS; attempt++) {
    try {
      return nodeFileIO.open(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Not there, or no directory there (the open then says what is wrong with the path).
      if (code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM') return null;
      if (code !== 'ENOENT') throw LogError.fromSystem(e, 'opening durable.offset', path);
    }
    if (!create || !mayCreate(realDir)) return null;
    const there = lstatSync(path, { throwIfNoEntry: false });
    // A symbolic link to nothing there: not followed to create a file elsewhere.
    if (there?.isSymbolicLink() === true) return null;
    if (there !== undefined) continue; // made meanwhile: opened as it is
    try {
      // Exclusive: only a file this reader made is given the directory's owner (adopt); one made meanwhile is opened as it is.
      return createAdopted(realDir, path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return null;
      throw LogError.fromSystem(e, 'creating durable.offset', path);
    }
  }
  throw repairing(logDir, path, true);
}

/** Tells apart the temporary names of the threads of this process. */
let made = 0;

/**
 * durable.offset created (EEXIST when a file is there), with the directory's owner already: made
 * under a temporary name beside it, adopted, then linked into place, so that the log's producer, run
 * by another user, never meets it with this process's owner (its open for writing would be refused).
 * Where the file system makes no hard links, created in place and adopted at once.
 */
function createAdopted(realDir: string, path: string): number {
  const temp = `${path}.${process.pid}-${threadId}-${made++}${ADOPT_SUFFIX}`;
  let fd: number;
  try {
    fd = openSync(temp, O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK | (O_NOFOLLOW ?? 0), 0o600);
  } catch (e) {
    if (!noLinks(e)) throw e;
    return createInPlace(realDir, path);
  }
  try {
    adopt(fd, realDir);
    linkSync(temp, path);
  } catch (e) {
    closeSync(fd);
    unlinkQuiet(temp);
    if (!noLinks(e)) throw e;
    return createInPlace(realDir, path);
  }
  unlinkQuiet(temp);
  return fd;
}

/** A file system that makes no hard links (or no such temporary file). */
function noLinks(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS' || code === 'EMLINK' || code === 'ENAMETOOLONG';
}

function createInPlace(realDir: string, path: string): number {
  const fd = openSync(path, O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK);
  adopt(fd, realDir);
  return fd;
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch { /* a leftover is a log entry (log-dir.ts): it changes nothing */ }
}

/**
 * A durable.offset a reader (or a repair) created gets the directory's owner, group and read and write bits (as far
 * as this process may give them): the log's producer, run by another user than the reader (an
 * operator's `reactive-log tail` or `repair` as root, a group that shares the directory), opens it for writing.
 * Made with this process's owner and umask, it would keep that producer out (EACCES).
 */
function adopt(fd: number, realDir: string): void {
  let dir: Stats;
  try {
    dir = statSync(realDir);
  } catch {
    return;
  }
  try {
    fchownSync(fd, dir.uid, dir.gid);
  } catch {
    try {
      fchownSync(fd, -1, dir.gid); // not root: the group at least, where this user is one of it
    } catch { /* neither: the file stays this user's */ }
  }
  try {
    fchmodSync(fd, dir.mode & 0o666);
  } catch { /* an owner changed above may be the only one allowed to */ }
}

/** Whether `realDir` is a directory that is empty or holds a log's entries (log-dir.ts): only there is durable.offset created. */
function mayCreate(realDir: string): boolean {
  let names: string[];
  try {
    names = nodeFileIO.readdir(realDir);
  } catch {
    return false; // the open says what is wrong with the path
  }
  return names.length === 0 || names.some(isLogEntry);
}

/**
 * Repair's exclusive lock (the repair byte, then the readers byte); null while a reader holds the log.
 * No durable.offset: repair creates it (empty) and locks it, so that no consumer opens meanwhile;
 * `unmade()` removes the file so created again (a repair that changed nothing), before the lock goes.
 */
export function lockOutReaders(realDir: string): (ReadersLock & { unmade(): void }) | null {
  const path = join(realDir, DURABLE_HINT_FILE);
  let fd: number | null = null;
  let created = false;
  try {
    fd = nodeFileIO.open(path, 'wx');
    created = true;
    adopt(fd, realDir); // left in place when the repair changes something: the log's producer writes it next
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // There already; or not to be created here (a read-only log: a repair that finds nothing to cut still answers).
    if (code !== 'EEXIST' && code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw LogError.fromSystem(e, 'creating durable.offset', path);
  }
  const lock = fd !== null ? lockFd(fd, path, true) : lockExclusive(realDir, true);
  if (lock === null) return null;
  return {
    held: lock.held,
    release: () => lock.release(),
    unmade: () => {
      if (!created) return;
      created = false;
      try {
        unlinkSync(path); // still under the lock: a reader that opened it finds it gone once it has its lock
      } catch { /* an empty durable.offset left reads as no hint */ }
    },
  };
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
  return lockFd(fd, path, repair);
}

/** lockExclusive on the descriptor `fd` of `path` (closed when the lock is refused or fails). */
function lockFd(fd: number, path: string, repair: boolean): ReadersLock | null {
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
