/**
 * Producers not yet closed, closed at process exit. The writer thread is unref'd so an unclosed
 * producer never keeps the process alive; instead, at 'exit', each one is closed synchronously (drain,
 * fsync) so that what append() accepted is not dropped with the thread (a terminated worker loses its
 * queued writes). A close at exit that fails, or does not finish within the bound, is reported on
 * stderr and sets the process's exit code to 1 when it was 0.
 */
import type { ErrorCode } from '../errors.js';

/** At process exit, how long we wait for the writers of the unclosed producers (all of them at once) to drain and fsync. */
export const EXIT_DRAIN_MS = 10_000;

/** What the hook calls: a request to close, then a synchronous wait for it, bounded by `deadline`. */
export interface ClosesAtExit {
  requestCloseAtExit(): void;
  closeAtExit(deadline: number): void;
}

const unclosed = new Set<ClosesAtExit>();
let installed = false;

/** `p` is closed at process exit unless `forgetAtExit(p)` is called first. */
export function closeAtProcessExit(p: ClosesAtExit): void {
  if (!installed) {
    installed = true;
    process.on('exit', () => {
      // Every writer is asked to close before the hook waits for any: they drain and sync side by
      // side, and the hook waits EXIT_DRAIN_MS at most in all, not that much for each producer.
      const open = [...unclosed];
      for (const q of open) q.requestCloseAtExit();
      const deadline = performance.now() + EXIT_DRAIN_MS; // elapsed time: a wall clock stepped neither cuts nor stretches the bound
      for (const q of open) q.closeAtExit(deadline);
    });
  }
  unclosed.add(p);
}

/** `p` is closed (or closing) by other means: the exit hook leaves it alone. */
export function forgetAtExit(p: ClosesAtExit): void {
  unclosed.delete(p);
}

/** A producer the hook could not close cleanly. */
export interface ExitShortfall {
  readonly logDir: string;
  /** The writer's error when the log failed (`message` when its details arrived); null when the bound ran out first. */
  readonly failure: { readonly code: ErrorCode; readonly message?: string } | null;
  /** The offset the next append would have got. */
  readonly nextOffset: number;
  /** Every offset below this is fsynced. */
  readonly durableOffset: number;
}

/**
 * Tells, on stderr, what a close at exit did not make durable, and sets `process.exitCode` to 1 when
 * it is 0 (a code the process already chose stays). Never throws: it runs inside the 'exit' hook, where
 * a warning (emitted on a later tick) would never be printed.
 */
export function reportAtExit(s: ExitShortfall): void {
  const what = s.failure === null
    ? `did not finish draining and syncing within the exit hook's ${EXIT_DRAIN_MS} ms`
    : `failed with ${s.failure.code}${s.failure.message === undefined ? '' : ` (${s.failure.message})`}`;
  const lost = s.nextOffset > s.durableOffset
    ? `the records at offsets ${s.durableOffset} to ${s.nextOffset - 1} were appended but are not known to be durable (durable offset ${s.durableOffset}, next offset ${s.nextOffset})`
    : `every record appended (offsets below ${s.nextOffset}) is durable`;
  const unset = process.exitCode === undefined || Number(process.exitCode) === 0;
  if (unset) process.exitCode = 1;
  const exit = unset ? 'exit code set to 1' : `exit code ${String(process.exitCode)}`;
  try {
    process.stderr.write(`reactive-log: the producer of ${s.logDir}, left open at process exit, ${what}: ${lost}; ${exit}. Close the producer before exiting to handle this in the application.\n`);
  } catch {
    // stderr is gone: the exit code still tells
  }
}
