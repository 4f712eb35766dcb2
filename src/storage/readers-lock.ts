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
 * durable.offset is the file because every log that holds a record has it, at one inode for good
 * (the writer opens it without truncating and writes it in place; nothing renames or removes it), and
 * a reader may lock it without writing anything: readers still change nothing in the directory. The
 * lock is advisory: the writer's writes to the file are not affected. A consumer that opens while
 * the log has no durable.offset (never written, or the file lost in an OS crash until the next
 * producer opens) reads unlocked to its close (docs/admin.md, known gap).
 */
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, LogError } from '../errors.js';
import { DURABLE_HINT_FILE } from './durable-hint.js';
import { tryLockExclusiveOnce, tryLockShared } from './native-lock.js';

/** A lock on durable.offset this thread holds; release() closes its descriptor (idempotent). */
export interface ReadersLock {
  release(): void;
}

const NO_LOCK: ReadersLock = { release: () => undefined };

function held(fd: number): ReadersLock {
  let open = true;
  return {
    release: () => {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

/**
 * A reader's shared lock, taken as a consumer opens, before it reads where to start. ERR_LOG_LOCKED
 * while a repair holds the log. No durable.offset, or one the reader may not open: read unlocked.
 */
export function holdReaders(realDir: string, logDir: string): ReadersLock {
  const path = join(realDir, DURABLE_HINT_FILE);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Not there, or no directory there (the open then says what is wrong with the path).
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM') return NO_LOCK;
    throw LogError.fromSystem(e, 'opening durable.offset', path);
  }
  let ok: boolean;
  try {
    ok = tryLockShared(fd);
  } catch (e) {
    closeSync(fd);
    throw LogError.fromSystem(e, 'locking durable.offset', path);
  }
  if (!ok) {
    closeSync(fd);
    throw new LogError(ErrorCode.LOG_LOCKED, `log directory ${logDir} is being repaired (repairLog holds the lock on ${DURABLE_HINT_FILE}): open it once the repair is done`, { file: path });
  }
  return held(fd);
}

/** Repair's exclusive lock; null while a reader holds the log. No durable.offset: nobody holds it (NO_LOCK). */
export function lockOutReaders(realDir: string): ReadersLock | null {
  const path = join(realDir, DURABLE_HINT_FILE);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return NO_LOCK;
    throw LogError.fromSystem(e, 'opening durable.offset', path);
  }
  let ok: boolean;
  try {
    ok = tryLockExclusiveOnce(fd);
  } catch (e) {
    closeSync(fd);
    throw LogError.fromSystem(e, 'locking durable.offset', path);
  }
  if (!ok) {
    closeSync(fd);
    return null;
  }
  return held(fd);
}

/** A dry run's look: whether a reader holds the log now (tried and released at once; false when it cannot tell). */
export function readersHoldNow(realDir: string): boolean {
  let taken: ReadersLock | null;
  try {
    taken = lockOutReaders(realDir);
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
