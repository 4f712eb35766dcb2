/**
 * The kernel's file lock (flock, through the prebuilt addon of fs-native-extensions) behind
 * FileIO.tryLock of node:fs (file-io.ts). Kept apart from file-io.ts, which the writer thread's bundle
 * carries: the writer never locks, so its bundle has no loader of the addon (the build checks that the
 * embedded workers load nothing but node: builtins). The lock's users (lock.ts) install it first.
 */
import { ErrorCode, LogError } from '../errors.js';
import { requirePackage } from '../package-require.js';
import { setNodeLock } from './file-io.js';

interface NativeLock {
  tryLock(fd: number, options?: { shared?: boolean }): boolean;
  tryLock(fd: number, offset: number, length: number, options?: { shared?: boolean }): boolean;
  unlock(fd: number): void;
}
let native: NativeLock | null = null;

/**
 * The addon, loaded by the first lock of the process from this package's own file (src/package-require.ts).
 * A package that cannot be loaded (left out of a bundle's node_modules, no prebuild for the platform)
 * is ERR_IO naming it. Producer.open loads it before it makes anything in the log directory.
 */
export function loadNativeLock(): NativeLock {
  if (native !== null) return native;
  try {
    native = requirePackage('fs-native-extensions') as NativeLock;
  } catch (e) {
    throw new LogError(ErrorCode.IO, `the lock of a log directory needs the package fs-native-extensions (a prebuilt native addon), which could not be loaded: install it where the app can reach it (docs/bundling.md); ${e instanceof Error ? e.message : String(e)}`, {}, { cause: e });
  }
  return native;
}

/** How long a lock refused by a look (a shared lock held for an instant) is tried again before the refusal counts. */
const LOOK_WAIT_MS = 1000;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Tries `take` until it succeeds, `held()` says the refusal is a holder's and no look, or
 * LOOK_WAIT_MS passed, pausing 1 ms between tries (Atomics.wait: this runs on threads that may block).
 */
export function waitOutLooks(take: () => boolean, held: () => boolean): boolean {
  const until = performance.now() + LOOK_WAIT_MS;
  for (;;) {
    if (take()) return true;
    if (held() || performance.now() > until) return false;
    Atomics.wait(pause, 0, 0, 1);
  }
}

function tryLockNative(fd: number, shared = false): boolean {
  // fs-native-extensions is CommonJS with a prebuilt addon; loaded on the first lock only.
  const n = loadNativeLock();
  if (shared) return n.tryLock(fd, { shared: true });
  // Refused: an owner holds the exclusive lock, or a look holds a shared one (tryLockShared, an
  // instant long). A shared lock of ours gets in beside a look only: then the exclusive is tried
  // again, shortly, until the look is over; an owner's lock refuses at once.
  return waitOutLooks(() => n.tryLock(fd, { shared: false }), () => {
    if (!n.tryLock(fd, { shared: true })) return true;
    n.unlock(fd);
    return false;
  });
}

/**
 * Tries a shared lock on `fd`, which may be open read-only (an exclusive one needs a descriptor open
 * for writing): false while anyone holds the exclusive owner lock. For a look that needs no write
 * access to the file (lock-admin.ts heldNow); closing the descriptor releases it.
 */
export function tryLockShared(fd: number): boolean {
  return tryLockNative(fd, true);
}

/**
 * Tries a lock on the `length` bytes of `fd` from `offset` once (shared: `fd` open for reading;
 * exclusive: open for writing): false while another descriptor holds a conflicting one. For locks
 * whose holders keep them (readers-lock.ts), not an instant's look.
 */
export function tryLockRangeOnce(fd: number, offset: number, length: number, shared: boolean): boolean {
  return loadNativeLock().tryLock(fd, offset, length, { shared });
}

/** Makes node:fs's FileIO.tryLock take the kernel lock; idempotent. */
export function installNativeLock(): void {
  setNodeLock((fd) => tryLockNative(fd));
}
