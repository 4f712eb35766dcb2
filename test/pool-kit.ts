/** Shared by the pool tests: the test handler module, the options of their logs, a guard against hangs, the open descriptors. */
import { fileURLToPath } from 'node:url';
import { readdirSync, readlinkSync } from 'node:fs';
import { SyncPolicy } from '../dist/index.js';

/** The handler module (behaviour chosen by each record's text: see fixtures/pool-handler.mjs). */
export const handler = fileURLToPath(new URL('./fixtures/pool-handler.mjs', import.meta.url));

/** The options of the pool tests' logs (kit.ts logOf): 1 MiB segments, no fsync per frame. */
export const POOL_LOG = { syncPolicy: SyncPolicy.never(), fileRollSize: 1024 * 1024 };

/** `p`, or 'stuck' after 20 s (a failure guard, not a wait). */
export async function guarded<T>(p: Promise<T>): Promise<T | 'stuck'> {
  let guard: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<'stuck'>((resolve) => { guard = setTimeout(() => resolve('stuck'), 20_000); })]);
  } finally {
    clearTimeout(guard);
  }
}

/** This process's open descriptors: fd -> what it names (for the pool tests that count module files left open). */
export function openFds(): Map<string, string> {
  const fds = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      fds.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch { /* closed meanwhile (readdir's own) */ }
  }
  return fds;
}
