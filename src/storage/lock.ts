/**
 * Owner locks: one file per producer (and, later, per transactional cursor) holding the owner's pid and
 * its process start time. A live owner makes the opener fail; a lock whose owner is gone is taken over.
 * Creation is atomic through link(2) of a private temporary file, so two openers never both win.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { threadId } from 'node:worker_threads';
import { join } from 'node:path';
import { LogError } from '../errors.js';
import { readWhole, writeNew, type FileIO } from './file-io.js';

interface LockOwner {
  readonly pid: number;
  readonly start: string;
  readonly host: string;
  /** The thread (worker_threads threadId) that took it; absent in locks of older versions. */
  readonly thread?: number;
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

const self: LockOwner = { pid: process.pid, start: processStart(process.pid), host: hostname(), thread: threadId };

/**
 * Lock paths this thread holds. A lock file naming this very thread that is not in here is one a
 * release failed to remove (an I/O error at close): stale, though its process is alive.
 */
const held = new Set<string>();

function isOwnedByUs(owner: LockOwner): boolean {
  return owner.pid === self.pid && owner.start === self.start && owner.host === self.host;
}

function live(owner: LockOwner, path: string): boolean {
  if (isOwnedByUs(owner) && owner.thread === self.thread && !held.has(path)) return false;
  return alive(owner);
}

function alive(owner: LockOwner): boolean {
  if (owner.host !== self.host) return true; // Another machine on a shared disk: never assume it is dead.
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
    return { pid: o.pid, start: o.start, host: o.host, ...(typeof o.thread === 'number' ? { thread: o.thread } : {}) };
  } catch {
    return null;
  }
}

export type LockResult = { readonly ok: true; readonly tookOverFrom: number | null } | { readonly ok: false; readonly ownerPid: number | null };

/** Tries to take the lock file at `path`. Never waits. A failed system call is ERR_IO (or ERR_DISK_FULL). */
export function acquireLock(io: FileIO, path: string): LockResult {
  try {
    const r = tryAcquire(io, path);
    if (r.ok) held.add(path);
    return r;
  } catch (e) {
    throw LogError.fromSystem(e, 'taking the lock', path);
  }
}

function tryAcquire(io: FileIO, path: string): LockResult {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeNew(io, tmp, Buffer.from(JSON.stringify(self)));
  } catch (e) {
    throw LogError.fromSystem(e, 'writing a lock file', tmp);
  }
  let staleFrom: number | null = null;
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        io.link(tmp, path);
        return { ok: true, tookOverFrom: attempt === 0 ? null : staleFrom };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const owner = readOwner(io, path);
      // A lock file that cannot be read is one whose writer died before finishing it: it is stale.
      if (owner !== null && live(owner, path)) return { ok: false, ownerPid: owner.pid };
      staleFrom = owner?.pid ?? null;
      // Move the stale lock aside, then check we moved the one we judged: another opener may have
      // replaced it in between, and then that one is live and must be put back.
      const aside = `${path}.stale.${process.pid}.${attempt}`;
      try {
        io.rename(path, aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      const moved = readOwner(io, aside);
      if (moved !== null && live(moved, path)) {
        try { io.link(aside, path); } catch { /* the new owner's lock is back or a newer one won */ }
        io.unlink(aside);
        return { ok: false, ownerPid: moved.pid };
      }
      io.unlink(aside);
    }
    return { ok: false, ownerPid: readOwner(io, path)?.pid ?? null };
  } finally {
    try { io.unlink(tmp); } catch { /* already gone */ }
  }
}

/** The owner named in the lock file at `path` and whether it is alive; null if missing or unreadable. */
export function lockOwner(io: FileIO, path: string): { readonly pid: number; readonly host: string; readonly live: boolean } | null {
  const owner = readOwner(io, path);
  return owner === null ? null : { pid: owner.pid, host: owner.host, live: alive(owner) };
}

/** Whether a live process (this one included) holds the lock at `path`. */
export function lockHeldByLiveProcess(io: FileIO, path: string): boolean {
  const owner = readOwner(io, path);
  return owner !== null && live(owner, path);
}

/** Releases a lock this process holds; leaves a lock held by anybody else alone. */
export function releaseLock(io: FileIO, path: string): void {
  held.delete(path); // from now on a lock file left behind by a failed unlink counts as stale
  const owner = readOwner(io, path);
  if (owner !== null && isOwnedByUs(owner) && owner.thread === self.thread) {
    try { io.unlink(path); } catch { /* already gone */ }
  }
}

/** The producer lock's file name in a log directory. */
export const PRODUCER_LOCK_FILE = 'producer.lock';

export function producerLockPath(logDir: string): string {
  return join(logDir, PRODUCER_LOCK_FILE);
}
