/**
 * Time a waiting thread spent running. A gap between two looks of a waiter much longer than its wait
 * slice (at most 50 ms) means the thread did not run: the process was stopped (SIGSTOP, Ctrl-Z, a
 * frozen cgroup, `docker pause`) or the thread was not scheduled. Every thread of the process stopped
 * with it, so such a gap says nothing of the thread waited for: the bounds on another thread's
 * progress (the append lock's holder, src/ring/append-lock.ts) and an append's own wait for room
 * (src/ring/room-wait.ts) leave it out. A holder of the append lock stopped with everyone else is
 * not stuck inside its append.
 */

/** A gap between two looks longer than this is left out (20 wait slices of 50 ms). */
export const PAUSE_GAP_MS = 1000;

/** performance.now(), less the gaps over PAUSE_GAP_MS between two calls of now(). */
export class RunningClock {
  private last = performance.now();
  private skipped = 0;

  now(): number {
    const t = performance.now();
    if (t - this.last > PAUSE_GAP_MS) this.skipped += t - this.last;
    this.last = t;
    return t - this.skipped;
  }
}
