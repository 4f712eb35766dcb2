/**
 * The kernel's file lock (flock, through the prebuilt addon of fs-native-extensions) behind
 * FileIO.tryLock of node:fs (file-io.ts). Kept apart from file-io.ts, which the writer thread's bundle
 * carries: the writer never locks, so its bundle has no loader of the addon (the build checks that the
 * embedded workers load nothing but node: builtins). The lock's users (lock.ts) install it first.
 */
import { createRequire } from 'node:module';
import { setNodeLock } from './file-io.js';

let native: { tryLock(fd: number): boolean } | null = null;

function tryLockNative(fd: number): boolean {
  // fs-native-extensions is CommonJS with a prebuilt addon; loaded on the first lock only, resolved
  // from this module's file. In an app bundled to CommonJS, import.meta is empty: the bundle's own
  // file (__filename) is the place to resolve from.
  native ??= createRequire(import.meta.url ?? __filename)('fs-native-extensions') as { tryLock(fd: number): boolean };
  return native.tryLock(fd);
}

/** Makes node:fs's FileIO.tryLock take the kernel lock; idempotent. */
export function installNativeLock(): void {
  setNodeLock(tryLockNative);
}
