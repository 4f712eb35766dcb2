/**
 * Producers not yet closed, closed at process exit. The writer thread is unref'd so an unclosed
 * producer never keeps the process alive; instead, at 'exit', each one is closed synchronously (drain,
 * fsync) so that what append() accepted is not dropped with the thread (a terminated worker loses its
 * queued writes).
 */

/** At process exit, how long we wait for an unclosed producer's writer to drain and fsync. */
export const EXIT_DRAIN_MS = 10_000;

/** What the hook calls: a synchronous, bounded close. */
export interface ClosesAtExit {
  closeAtExit(): void;
}

const unclosed = new Set<ClosesAtExit>();
let installed = false;

/** `p` is closed at process exit unless `forgetAtExit(p)` is called first. */
export function closeAtProcessExit(p: ClosesAtExit): void {
  if (!installed) {
    installed = true;
    process.on('exit', () => {
      for (const q of unclosed) q.closeAtExit();
    });
  }
  unclosed.add(p);
}

/** `p` is closed (or closing) by other means: the exit hook leaves it alone. */
export function forgetAtExit(p: ClosesAtExit): void {
  unclosed.delete(p);
}
