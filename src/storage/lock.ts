/**
 * Owner locks: one file per producer (`producer.lock`) and per transactional cursor
 * (`cursors/<id>.lock`). Ownership is a kernel lock, not the file's existence: the owner keeps the
 * file open with an exclusive open-file-description lock (Linux `F_OFD_SETLK`) for the life of its
 * handle. The kernel releases it when the descriptor closes or the process dies, and two
 * descriptors conflict even inside one process, so a second opener fails at once, whether it is
 * another process, another thread or another copy of this module.
 *
 * The file also holds the owner's pid, process start time, host and thread as JSON: information for
 * error messages, `verifyLog` and `inspectLog`, which report whether a producer is live. It is never what
 * decides ownership.
 *
 * Release unlinks the file while still holding the lock (when the path still names it), then closes
 * it. An opener that locked a file which was unlinked (or replaced) meanwhile finds that the path no
 * longer names its file and tries again, so the lock always lives on the file the path names. A lock
 * file deleted or replaced by hand while held no longer excludes anyone (as the LOCK files of
 * LevelDB and RocksDB): `reactive-log unlock` removes only the files no one holds.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { threadId } from 'node:worker_threads';
import { join } from 'node:path';
import { LogError } from '../errors.js';
import { readWhole, writeAll, type FileIO } from './file-io.js';
import { installNativeLock } from './native-lock.js';

/** How many times an opener retries when the file it locked was unlinked or replaced meanwhile. */
const MAX_LOCK_ATTEMPTS = 8;

interface LockOwner {
  readonly pid: number;
  readonly start: string;
  readonly host: string;
  /** The thread (worker_threads threadId) that took it. */
  readonly thread?: number;
  /** Written once the producer's recovery is done (HeldLock.markRecovered). */
  readonly recovered?: boolean;
}

function processStart(pid: number): string {
  // Field 22 of /proc/<pid>/stat is the start time in clock ticks: with the pid it names one process
  // even after the pid is reused. Where /proc is missing we fall back to the pid alone.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? '';
  } catch {
    return '';
  }
}

let selfOwner: LockOwner | null = null;
function self(): LockOwner {
  selfOwner ??= { pid: process.pid, start: processStart(process.pid), host: hostname(), thread: threadId };
  return selfOwner;
}

function alive(owner: LockOwner): boolean {
  const me = self();
  if (owner.host !== me.host) return true; // Another machine on a shared disk: never assume it is dead.
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (owner.start === '') return true;
  return processStart(owner.pid) === owner.start;
}

function readOwner(io: FileIO, path: string): LockOwner | null {
  try {
    const o = JSON.parse(readWhole(io, path).toString('utf8')) as Partial<LockOwner>;
    if (typeof o.pid !== 'number' || typeof o.start !== 'string' || typeof o.host !== 'string') return null;
    return { pid: o.pid, start: o.start, host: o.host, ...(typeof o.thread === 'number' ? { thread: o.thread } : {}), ...(o.recovered === true ? { recovered: true } : {}) };
  } catch {
    return null;
  }
}

/** A lock this thread holds: the open, locked descriptor of the lock file. */
export class HeldLock {
  private fd: number;

  /** `claimed`: the file holds this owner's information (else it still holds a dead owner's, found there). */
  constructor(private readonly io: FileIO, readonly path: string, fd: number, private claimed = true) {
    this.fd = fd;
  }

  /**
   * Writes this owner's information over what the file held (a dead owner's), once the caller is
   * going to change the directory: a lock released unclaimed leaves a file it found as it was.
   */
  claim(): void {
    if (this.fd < 0 || this.claimed) return;
    this.claimed = true; // from here on a release removes the file, whatever it holds
    try {
      this.io.ftruncate(this.fd, 0);
      writeAll(this.io, this.fd, [Buffer.from(JSON.stringify(self()))], 0);
    } catch (e) {
      throw LogError.fromSystem(e, 'taking the lock', this.path);
    }
  }

  /**
   * Adds `"recovered": true` to the owner information, once the producer's recovery is done: readers
   * in other processes then know that what the directory holds was written by a live writer after
   * recovery (see recoveredOwnerLive). The longer text overwrites the shorter in place. A failed write
   * is ignored: readers then take the way they take after a crash.
   */
  markRecovered(): void {
    if (this.fd < 0) return;
    try {
      writeAll(this.io, this.fd, [Buffer.from(JSON.stringify({ ...self(), recovered: true }))], 0);
    } catch { /* readers take the longer way */ }
  }

  /**
   * Removes the file, then closes the descriptor, which releases the kernel lock. Safe to call twice.
   * A file that cannot be removed is emptied instead, so that its stale owner information misleads no
   * one; the lock itself goes with the descriptor whatever happens. A lock never claimed on a file it
   * found only closes: the file stays as it was found (a refused call changes nothing).
   */
  release(): void {
    const fd = this.fd;
    if (fd < 0) return;
    this.fd = -1;
    if (!this.claimed) {
      try { this.io.close(fd); } catch { /* close(2) releases the descriptor even when it reports an error */ }
      return;
    }
    try {
      // Only the file this lock lives on: a file someone put at the path since (after the held one
      // was deleted by hand) may be another owner's lock.
      if (this.io.isSameFile(fd, this.path)) this.io.unlink(this.path);
    } catch {
      try { this.io.ftruncate(fd, 0); } catch { /* the lock still goes with the descriptor */ }
    }
    try { this.io.close(fd); } catch { /* close(2) releases the descriptor even when it reports an error */ }
  }
}

export type LockResult =
  | { readonly ok: true; readonly lock: HeldLock }
  | { readonly ok: false; readonly ownerPid: number | null };

/**
 * Tries to take the lock file at `path`, creating it if needed. Never waits. A failed system call is
 * ERR_IO (or ERR_DISK_FULL); something other than a regular file at `path` is ERR_LOG_CORRUPT, and
 * then nothing in the directory changed. When writing the owner information fails, the file is
 * removed while still locked (as a release does), so no empty or partial lock file is left behind;
 * so is a file this call created when locking it fails with an error, once a second try locks it
 * (a file nobody can lock may be another opener's by then, and stays).
 * `keepFound`: a file found holding a dead owner's information, or empty, gets none of this owner's
 * yet (HeldLock.claim): released before, the lock leaves it as it was. A file the call created, or
 * one naming an owner that looks alive (another host, a pid and start time in use: its `"recovered"`
 * would mislead readers meanwhile), is claimed at once.
 */
export function acquireLock(io: FileIO, path: string, options: { readonly keepFound?: boolean } = {}): LockResult {
  installNativeLock();
  for (let attempt = 0; attempt < MAX_LOCK_ATTEMPTS; attempt++) {
    let fd: number;
    let created = false; // this call created the file: a failure before it is locked removes it again
    try {
      fd = io.open(path, 'lock'); // never through a symbolic link: its target may be any file
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw LogError.fromSystem(e, 'opening the lock file', path);
      try {
        fd = io.open(path, 'lockx', 0o644); // read and write: the lock tries take a shared lock too (native-lock.ts)
        created = true;
      } catch (e2) {
        if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') continue; // another opener created it meanwhile
        throw LogError.fromSystem(e2, 'opening the lock file', path);
      }
    }
    let locked = false;
    try {
      if (!io.tryLock(fd)) {
        io.close(fd);
        return { ok: false, ownerPid: liveOwnerPid(io, path) };
      }
      locked = true;
      // The previous owner released (unlinked) the file between our open and our lock: the path
      // names another file now, or none. Locking a file nobody can find would prove nothing.
      if (!io.isSameFile(fd, path)) {
        io.close(fd);
        continue;
      }
      // Owner information found in the file is a dead owner's (its lock is free): kept until claimed,
      // unless it names an owner that looks alive (another host, or a pid and start time a live process
      // has): readers would take its "recovered" for a live writer's while this call has not recovered.
      // An empty file found here (a release whose unlink failed empties it) names no one: kept as well.
      if (options.keepFound === true && !created && (io.fsize(fd) === 0 || liveOwnerPid(io, path) === null)) return { ok: true, lock: new HeldLock(io, path, fd, false) };
      const mine = Buffer.from(JSON.stringify(self()));
      io.ftruncate(fd, 0);
      writeAll(io, fd, [mine], 0);
      return { ok: true, lock: new HeldLock(io, path, fd) };
    } catch (e) {
      // The descriptor is still open on every path that throws (the returns and `continue` close it
      // first). A taken lock is released as a holder releases it: the file goes while still locked,
      // so no one can be holding it. Closing the descriptor drops the lock.
      // A file this call created and could not lock is removed the same way, once a second try locks
      // it: unlocked, it may be another opener's by now (who opened it meanwhile), and is left to it.
      if (locked || (created && retryLock(io, fd))) new HeldLock(io, path, fd).release();
      else try { io.close(fd); } catch { /* close(2) releases the descriptor even when it reports an error */ }
      throw LogError.fromSystem(e, 'taking the lock', path);
    }
  }
  return { ok: false, ownerPid: liveOwnerPid(io, path) };
}

/** One more try at the lock of a file whose first try failed with an error: false on any failure. */
function retryLock(io: FileIO, fd: number): boolean {
  try {
    return io.tryLock(fd);
  } catch {
    return false;
  }
}

/** The pid the lock file names, if that process is alive (a holder yet to claim the file may leave a dead owner's there). */
function liveOwnerPid(io: FileIO, path: string): number | null {
  const owner = readOwner(io, path);
  return owner !== null && alive(owner) ? owner.pid : null;
}

/**
 * The owner named in the lock file at `path` and whether it is alive; null if there is no file or it
 * names no one. This reads the owner information only; it never takes the lock, so it cannot make a
 * concurrent opener fail.
 */
export function lockOwner(io: FileIO, path: string): { readonly pid: number; readonly host: string; readonly live: boolean } | null {
  const owner = readOwner(io, path);
  return owner === null ? null : { pid: owner.pid, host: owner.host, live: alive(owner) };
}

/**
 * Whether the lock file at `path` names a live owner that finished its recovery (markRecovered): the
 * segment files past its last fsync were then written in order by its writer, after recovery cut any
 * torn tail a crash left. False for no file, an owner gone, one still recovering, or one on another
 * host (whose liveness this host cannot check).
 */
export function recoveredOwnerLive(io: FileIO, path: string): boolean {
  const owner = readOwner(io, path);
  // Proof is wanted here, not caution: an owner on another host cannot be checked (alive() assumes
  // it lives, so as never to take its lock), and its file may be a crashed one's.
  return owner !== null && owner.recovered === true && owner.host === self().host && alive(owner);
}

/** The producer lock's file name in a log directory. */
export const PRODUCER_LOCK_FILE = 'producer.lock';

export function producerLockPath(logDir: string): string {
  return join(logDir, PRODUCER_LOCK_FILE);
}
