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

export class Waiter {
  private watcher: FSWatcher | null = null;
  private watchFailed = false;
  private wake: (() => void) | null = null;
  private changed = false;

  constructor(private readonly dir: string, private readonly pollIntervalMs: number) {}

  /** Resolves when `i32[slot]` moves from `seen`, on wakeAll(), abort, or after `ms`. */
  async onShared(i32: Int32Array, slot: number, seen: number, signal: AbortSignal | undefined): Promise<void> {
    await this.race(waitSlot(i32, slot, seen, MAX_WAIT_MS), signal);
  }

  /** Resolves on a change in the directory, the poll interval, wakeAll(), or abort. */
  async onFiles(signal: AbortSignal | undefined): Promise<void> {
    this.ensureWatch();
    if (this.changed) {
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
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  close(): void {
    this.wakeAll();
    this.watcher?.close();
    this.watcher = null;
  }

  private ensureWatch(): void {
    if (this.watcher !== null || this.watchFailed) return;
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
    } catch {
      this.watchFailed = true;
    }
  }

  private race(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        if (this.wake === done) this.wake = null;
        resolve();
      };
      this.wake = done;
      signal?.addEventListener('abort', done, { once: true });
      p.then(done, done);
    });
  }
}
