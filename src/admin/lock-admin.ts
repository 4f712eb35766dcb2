/**
 * The owner locks of a log directory as an operator sees them (`reactive-log unlock`): the producer's
 * (`producer.lock`) and each transactional cursor's (`cursors/<name>.lock`), who holds each, and the
 * removal of lock files that nobody holds.
 *
 * A lock is a kernel lock on the open file (src/storage/lock.ts): it goes with its holder's process,
 * so a file left by a process that died holds nothing and never stops an opener. Such a file only
 * misleads a reader of its owner information. Removing one takes the lock first (it fails at once
 * while anyone holds it) and unlinks the file while holding it, as a closing owner does: a live
 * owner's lock is never broken.
 */
import { join } from 'node:path';
import { cursorDir } from '../cursor/tx-cursor.js';
import { fileIO, type FileIO } from '../storage/file-io.js';
import { PRODUCER_LOCK_FILE, acquireLock, lockOwner } from '../storage/lock.js';
import { tryLockShared } from '../storage/native-lock.js';
import { adminLogDir, coded } from './admin-dir.js';
import { knownOptions, optionalFlag } from '../validate.js';

/** One lock file of a log directory, as {@link unlockLog} reports it. */
export interface LockFileReport {
  /** The lock file's path relative to the log directory. */
  readonly file: string;
  /** `held`: a live handle holds the lock; `leftover`: nobody does (its owner is gone). */
  readonly state: 'held' | 'leftover';
  /** The owner the file names (the holder when held, the last owner when leftover); null if it names none. */
  readonly owner: {
    /** Its process id. */
    readonly pid: number;
    /** The host name it runs (or ran) on. */
    readonly host: string;
  } | null;
  /** Whether this call removed the file (leftover files, unless dryRun). */
  readonly removed: boolean;
}

/**
 * Lists the lock files of the log at `dir` and removes the leftover ones (`dryRun`: only lists). A
 * lock a live handle holds is never broken.
 *
 * @param options - `dryRun`: list only, remove nothing (default false).
 * @throws {@link LogError} `ERR_INVALID_OPTION` when `dir` is no log directory, or `options` are not
 *   `{ dryRun?: boolean }` (nothing is touched then).
 */
export async function unlockLog(dir: string, options: { dryRun?: boolean } = {}): Promise<LockFileReport[]> {
  const io = await fileIO();
  const real = adminLogDir(io, dir);
  const dryRun = optionalFlag('dryRun', knownOptions(options, ['dryRun']).dryRun);
  return coded('unlocking the log', () => {
    const files = [PRODUCER_LOCK_FILE, ...cursorLockFiles(io, real)].filter((f) => io.exists(join(real, f)));
    return files.map((file) => inspectLockFile(io, real, file, dryRun));
  });
}

function cursorLockFiles(io: FileIO, dir: string): string[] {
  try {
    return io.readdir(cursorDir(dir)).filter((n) => n.endsWith('.lock')).sort().map((n) => join('cursors', n));
  } catch (e) {
    // No cursors/ folder: no cursor lock. Any other failure hides lock files: never "none" (coded by unlockLog).
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

function inspectLockFile(io: FileIO, dir: string, file: string, dryRun: boolean): LockFileReport {
  const path = join(dir, file);
  const named = lockOwner(io, path);
  const owner = named === null ? null : { pid: named.pid, host: named.host };
  if (dryRun) return { file, state: heldNow(io, path) ? 'held' : 'leftover', owner, removed: false };
  const taken = acquireLock(io, path);
  if (!taken.ok) return { file, state: 'held', owner, removed: false };
  taken.lock.release(); // unlinks the file while holding the lock, then closes it
  return { file, state: 'leftover', owner, removed: true };
}

/**
 * Whether someone holds the lock on `path`: tried on a read-only descriptor of our own with a shared
 * lock, which the owner's exclusive lock refuses, and released at once, the file unchanged. Read-only,
 * so that a user who may read the log but not write to it (an operator beside the service owning the
 * files) sees a live owner's lock as held, not as a leftover.
 */
export function heldNow(io: FileIO, path: string): boolean {
  let fd: number;
  try {
    fd = io.open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false; // gone meanwhile: nobody holds it
    throw e;
  }
  try {
    return !tryLockShared(fd);
  } finally {
    io.close(fd); // releases the lock if we took it
  }
}
