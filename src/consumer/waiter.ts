/**
 * How a blocking consumer waits for new records, bounded and cancellable:
 * - in the producer's process, on the shared wake-up counter with Atomics.waitAsync (native in Node 20);
 * - elsewhere, on a watch of the log directory plus a bounded poll, so a new record written by another
 *   process is seen within milliseconds even where directory events are lost.
 */
import { watch, type FSWatcher } from 'node:fs';
import { waitSlot } from '../ring/wait.js';

/** The longest one wait lasts before the consumer re-checks everything. */
export const MAX_WAIT_MS = 1000;

/**
 * The waits on shared memory pending on this thread. They take no timeout of their own: a timed
 * Atomics.waitAsync makes V8 post a delayed task, which costs Node's event loop a wake-up (a write
 * to its eventfd, and the read of it) and a timer per wait, about 4 µs of a 30 µs round trip between
 * two threads on the 2-core machine. One sweep a thread instead notifies every
 * pending wait's slot each MAX_WAIT_MS, so a wait still lasts at most that long (a wait begun just
 * before a sweep ends early, and its caller looks again; another thread's waiter on the same slot
 * wakes too, and does the same).
 */
const pendingShared = new Set<SharedWait>();
let sweeper: NodeJS.Timeout | null = null;

/**
 * One pending wait on shared memory. Kept per wait, not per Waiter: two waits of one Waiter can
 * overlap (a pool call leaves its wait for the files' end pending: pool-supply.ts), on other blocks
 * (this process's producer replaced meanwhile); the first to end must not take the other out of the
 * sweep, nor out of wakeAll().
 */
interface SharedWait { readonly i32: Int32Array; readonly slot: number }

function sweep(): void {
  for (const w of pendingShared) Atomics.notify(w.i32, w.slot);
}

/** The waits of one consumer: on shared memory (onShared) or on the files (onFiles). */
export class Waiter {
  private watcher: FSWatcher | null = null;
  private watchFailed = false;
  /**
   * The file waits pending: a pool call's wait for the files' end (pool-supply.ts) is left pending when
   * the call returns, and the next call or iteration starts another; wakeAll() ends every one.
   */
  private readonly wakes = new Set<() => void>();
  private changed = false;
  private closed = false;
  /** The waits on shared memory pending (wakeAll notifies their slots). */
  private readonly sharedWaits = new Set<SharedWait>();
  /** The signal whose abort wakes a wait: its listener stays from one wait to the next, until disarm(). */
  private armedSignal: AbortSignal | undefined = undefined;
  private readonly onAbort = (): void => this.wakeAll();

  constructor(private readonly dir: string, private readonly pollIntervalMs: number) {}

  /**
   * Resolves when `i32[slot]` moves from `seen`, on wakeAll(), abort, or within MAX_WAIT_MS. This is
   * the path of a consumer at the end of a live log, taken once per batch: it allocates no timer,
   * promise race or listener of its own, only the small entry the sweep and wakeAll() notify (see
   * waitSlot; an abort or wakeAll notifies the slot, and the other waiters on it re-check and wait
   * again).
   */
  async onShared(i32: Int32Array, slot: number, seen: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.closed || signal?.aborted === true) return;
    this.arm(signal);
    const wait: SharedWait = { i32, slot };
    this.sharedWaits.add(wait);
    pendingShared.add(wait);
    sweeper ??= setInterval(sweep, MAX_WAIT_MS).unref(); // the pending wait itself keeps the loop alive (waitSlot)
    try {
      await waitSlot(i32, slot, seen, Infinity); // bounded by the sweep
    } finally {
      this.sharedWaits.delete(wait);
      pendingShared.delete(wait);
    }
  }

  /** Ends the waits on shared memory in progress, if any (wakeAll). */
  wakeShared(): void {
    for (const w of this.sharedWaits) Atomics.notify(w.i32, w.slot);
  }

  /** Stops listening to the last signal a wait was given (the consumer's iteration or call ended). */
  disarm(): void {
    this.armedSignal?.removeEventListener('abort', this.onAbort);
    this.armedSignal = undefined;
  }

  private arm(signal: AbortSignal | undefined): void {
    if (signal === this.armedSignal) return;
    this.disarm();
    signal?.addEventListener('abort', this.onAbort, { once: true });
    this.armedSignal = signal;
  }

  /**
   * Resolves on a change in the directory, the poll interval, wakeAll(), or abort. The first call
   * starts the watch and resolves at once: a record written after the caller's last look and before
   * the watch began sends no event, so the caller looks again, now under the watch.
   */
  async onFiles(signal: AbortSignal | undefined): Promise<void> {
    if (this.closed || signal?.aborted === true) return; // a closed waiter watches nothing more
    if (this.ensureWatch() || this.changed) {
      this.changed = false;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const tick = new Promise<void>((resolve) => { timer = setTimeout(resolve, this.pollIntervalMs); });
    try {
      await this.race(tick, signal);
    } finally {
      clearTimeout(timer);
      this.changed = false;
    }
  }

  /** Ends any wait in progress (close). */
  wakeAll(): void {
    const pending = [...this.wakes];
    this.wakes.clear();
    for (const w of pending) w();
    this.wakeShared();
  }

  close(): void {
    this.closed = true;
    this.wakeAll();
    this.disarm();
    this.watcher?.close();
    this.watcher = null;
  }

  /** Starts the watch unless it runs (or failed): true when it starts now. */
  private ensureWatch(): boolean {
    if (this.watcher !== null || this.watchFailed) return false;
    try {
      this.watcher = watch(this.dir, { persistent: false }, () => {
        this.changed = true;
        this.wakeAll();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null;
        this.watchFailed = true; // the poll alone still bounds the delay
      });
      return true;
    } catch {
      this.watchFailed = true;
      return false;
    }
  }

  private race(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        this.wakes.delete(done);
        resolve();
      };
      this.wakes.add(done);
      signal?.addEventListener('abort', done, { once: true });
      p.then(done, done);
    });
  }
}
