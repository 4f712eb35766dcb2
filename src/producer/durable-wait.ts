/**
 * Waiting until an offset is fsynced, for flush() of the owner's handle and of attached handles: raise
 * the flush target, wake the writer, and wait on DURABLE_SEQ until DURABLE_OFFSET reaches the target,
 * bounded while retention keeps the writer from writing.
 */
import { ErrorCode, LogError } from '../errors.js';
import { I32, I64, State, loadOffset, raiseOffset, wakeWriter, type ControlViews } from '../ring/layout.js';
import { waitSlot } from '../ring/wait.js';

/** How long one wait for durability sleeps before it re-checks the writer's state. */
const FLUSH_WAIT_SLICE_MS = 1000;

/** What a handle's flush needs of its handle. */
export interface DurableWaiter {
  readonly c: ControlViews;
  readonly appendTimeoutMs: number;
  /** Throws when the handle itself stopped (destroyed); called before each look at the log. */
  check(): void;
  /** The log FAILED: rejects with its error (after waiting, bounded, for its details). */
  failed(): Promise<never>;
  /** The log CLOSED before `target` was durable: the error to throw. */
  closed(): LogError;
}

/** Waits until `target` is durable; with `signal`, each wait also ends when it aborts (ERR_ABORTED). */
export async function waitDurable(w: DurableWaiter, target: number, signal?: AbortSignal): Promise<void> {
  if (signal === undefined) return waitDurableUntil(w, target);
  let onAbort: () => void = () => undefined;
  // The abort also ends the pending wait on DURABLE_SEQ (the other waiters on it re-check and wait
  // again): until that wait ends, its ref'd timer (see waitSlot) keeps the process alive.
  const aborted = new Promise<void>((resolve) => { onAbort = () => { resolve(); Atomics.notify(w.c.i32, I32.DURABLE_SEQ); }; });
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await waitDurableUntil(w, target, signal, aborted);
  } finally {
    signal.removeEventListener('abort', onAbort); // a signal that outlives many flushes keeps no listener of theirs
  }
}

async function waitDurableUntil(w: DurableWaiter, target: number, signal?: AbortSignal, aborted?: Promise<void>): Promise<void> {
  const { c } = w;
  const i32 = c.i32;
  let blockedSince: number | null = null;
  let durableSeen = -1;
  raiseOffset(c, I64.FLUSH_TARGET, target);
  wakeWriter(c); // after the target: the writer that wakes sees it
  for (;;) {
    w.check();
    const seq = Atomics.load(i32, I32.DURABLE_SEQ);
    const state = Atomics.load(i32, I32.STATE);
    // The failure before the offset: a writer that stopped while idle (retention, a roll) leaves the
    // durable offset covering every record, and a flush that resolved then would read as success.
    if (state === State.FAILED) return w.failed();
    // Not while a roll that published its durable offset is still applying retention (see ROLL_PENDING).
    const durable = loadOffset(c, I64.DURABLE_OFFSET);
    if (durable >= target && Atomics.load(i32, I32.ROLL_PENDING) === 0) return;
    if (state === State.CLOSED) throw w.closed();
    // Bounded like append: records that retention keeps from being written cannot become durable. The
    // bound starts again when the durable offset moved: retention let the writer write meanwhile (a
    // lagging cursor that commits), and the flag may have been cleared and set again between two looks.
    if (Atomics.load(i32, I32.RETENTION_BLOCKED) === 1) {
      if (blockedSince === null || durable !== durableSeen) blockedSince = performance.now();
      else if (performance.now() - blockedSince > w.appendTimeoutMs) {
        throw new LogError(ErrorCode.LOG_FULL, `flush waited appendTimeoutMs (${w.appendTimeoutMs} ms) while retention kept the writer from writing (blockingMinimumRetention or a lagging transactional cursor)`);
      }
    } else {
      blockedSince = null;
    }
    durableSeen = durable;
    if (signal?.aborted === true) throw flushAborted(signal);
    const slept = waitSlot(i32, I32.DURABLE_SEQ, seq, Math.min(FLUSH_WAIT_SLICE_MS, w.appendTimeoutMs / 4 + 1));
    await (aborted === undefined ? slept : Promise.race([slept, aborted]));
  }
}

/** ERR_ABORTED for a flush whose signal aborted. */
export function flushAborted(signal: AbortSignal): LogError {
  return LogError.aborted('flush', signal, ': the records may not be durable yet');
}
