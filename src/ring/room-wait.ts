/**
 * An append's wait for room in a full ring, bounded by appendTimeoutMs: RingAppender's slow path, and
 * what a waiter for a shared producer's append lock reads of it (src/ring/append-lock.ts). While a
 * handle waits here APPEND.ROOM_WAIT is 1, and a wait that runs out bumps APPEND.FULL_SEQ before it
 * throws ERR_LOG_FULL: a handle waiting for the lock behind such holders gives up with ERR_LOG_FULL
 * too once its own append has waited appendTimeoutMs, instead of waiting out one holder's full wait
 * after another.
 */
import { ErrorCode, LogError } from '../errors.js';
import { APPEND, I32, wakeWriter, type ControlViews } from './layout.js';
import { RunningClock } from './running-clock.js';

/** The longest single Atomics.wait while the ring is full; the total is bounded by appendTimeoutMs. */
const FULL_WAIT_SLICE_MS = 50;

/** ERR_LOG_FULL: an append waited appendTimeoutMs for room in the ring. */
export function ringFull(appendTimeoutMs: number): LogError {
  return new LogError(ErrorCode.LOG_FULL, `the ring stayed full for appendTimeoutMs (${appendTimeoutMs} ms): the writer cannot keep up or retention blocks it`);
}

/**
 * Waits until `total` bytes are free ahead of ring counter `head` of a ring of `size` bytes, or until
 * `deadline` (performance.now() time: ERR_LOG_FULL); `check` runs in each slice (it throws when the
 * log or the handle stopped). Returns TAIL as last loaded.
 */
export function waitForRoom(c: ControlViews, size: number, head: number, total: number, deadline: number, appendTimeoutMs: number, check: () => void): number {
  const i32 = c.i32;
  const clock = new RunningClock(); // on performance.now()'s scale, less a stopped process's pause (running-clock.ts)
  Atomics.store(c.append, APPEND.ROOM_WAIT, 1);
  try {
    for (;;) {
      check();
      Atomics.store(i32, I32.PRODUCER_WAITING, 1);
      const tail = Atomics.load(i32, I32.TAIL);
      if (size - ((head - (tail >>> 0)) >>> 0) >= total) return tail >>> 0;
      const left = deadline - clock.now();
      if (left <= 0) {
        Atomics.add(c.append, APPEND.FULL_SEQ, 1);
        throw ringFull(appendTimeoutMs);
      }
      // Make sure the writer is awake to drain, then wait for TAIL to move.
      wakeWriter(c);
      Atomics.wait(i32, I32.TAIL, tail, Math.min(FULL_WAIT_SLICE_MS, left));
    }
  } finally {
    Atomics.store(i32, I32.PRODUCER_WAITING, 0);
    Atomics.store(c.append, APPEND.ROOM_WAIT, 0);
  }
}
