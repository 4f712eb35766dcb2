/**
 * Seeing the writer thread gone from a thread that cannot hear of it. A writer that dies where none of
 * its code runs (an abort, out of memory, its owner's thread terminated) fails nothing in shared
 * memory; its exit event reaches the owner's thread only when that thread's event loop turns, which
 * it does not while an append of its own waits, synchronously, for room in the ring. So a wait looks,
 * about once a second, whether the writer's thread still exists (where the OS lists threads in /proc)
 * and fails the log when it is gone: the wait and every handle's appends stop with ERR_WRITER_FAILED
 * instead of waiting out appendTimeoutMs (ERR_LOG_FULL), or forever.
 */
import { FailureCode, I32, failLog, type ControlViews } from './layout.js';
import { osThreadAlive } from './os-thread.js';

/** How often a waiting handle looks whether the writer thread is still there. */
const ALIVE_CHECK_MS = 1000;

export class WriterAliveCheck {
  private checkedAt = 0;

  constructor(private readonly c: ControlViews) {}

  /** At most once per ALIVE_CHECK_MS: fails the log (FailureCode.WRITER) when the writer thread is gone. */
  check(): void {
    const now = performance.now();
    if (now - this.checkedAt < ALIVE_CHECK_MS) return;
    this.checkedAt = now;
    if (!osThreadAlive(Atomics.load(this.c.i32, I32.WRITER_TID))) failLog(this.c, FailureCode.WRITER);
  }
}
