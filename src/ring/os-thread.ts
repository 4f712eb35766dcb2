/**
 * Threads as the operating system names them, where /proc does (Linux): a thread that ends without
 * running any code (its worker terminated, or the process's end) can be seen gone by another thread.
 */
import { existsSync, readlinkSync } from 'node:fs';

/** This thread's id from /proc/thread-self ("<pid>/task/<tid>"), or 0 where there is no /proc. */
export function osThreadId(): number {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    return Number.isSafeInteger(tid) && tid > 0 && tid <= 0x7fffffff ? tid : 0;
  } catch {
    return 0;
  }
}

/** False once thread `tid` of this process is known to be gone; true for 0 (not known). */
export function osThreadAlive(tid: number): boolean {
  return tid === 0 || existsSync(`/proc/self/task/${tid}`);
}
