/**
 * The append lock of a shared producer: a ticket lock on I32.APPEND_TICKET / I32.APPEND_SERVING, taken
 * around each append of every handle once the producer is shared (share()/attach()).
 *
 * Why one lock around reserve, copy and publish, rather than a reservation counter with in-order
 * publication: append returns the record's offset, so the byte position and the offset must be taken
 * together, and the writer reads the ring up to one published HEAD, so records are published in
 * reservation order in any case. A lock gives both with the ring's format unchanged. The writer needs
 * a core of its own, so on a machine of two cores appends of several threads cannot run side by side
 * anyway. Why tickets: a thread appending in a loop retakes a plain mutex before the thread it woke
 * gets to run, and the others starve; tickets serve the takers in the order they came.
 *
 * A taker never gives up its ticket: the handles behind it would wait for it forever. One whose log
 * stopped takes its turn and releases at once (the caller checks the state under the lock). A holder
 * that stops inside an append (a worker terminated mid-copy or mid-wait) never releases. Its record was
 * never published (HEAD moves after the copy), so no reader sees a part of it. A live holder keeps the
 * lock at most appendTimeoutMs (its wait for ring space is bounded by it); a waiter that sees the same
 * turn last appendTimeoutMs plus STALL_GRACE_MS fails the log with ERR_PRODUCER_STALLED.
 */
import { ErrorCode, LogError } from '../errors.js';
import { FailureCode, I32, State, failLog, type ControlViews } from './layout.js';

/** How long past appendTimeoutMs one turn may last before a waiter calls its holder stalled. */
export const STALL_GRACE_MS = 2000;
/** Loads of APPEND_SERVING before a waiter sleeps: a holder on another core is usually done within them. */
const SPINS = 200;
/** The longest single sleep of a waiter; it re-checks its bound after each. */
const WAIT_SLICE_MS = 50;

export class AppendLock {
  private readonly i32: Int32Array;

  constructor(
    private readonly c: ControlViews,
    private readonly appendTimeoutMs: number,
  ) {
    this.i32 = c.i32;
  }

  /** Takes the lock; throws ERR_PRODUCER_STALLED (and fails the log) when one turn outlasts the bound. */
  acquire(): void {
    const ticket = Atomics.add(this.i32, I32.APPEND_TICKET, 1);
    if (Atomics.load(this.i32, I32.APPEND_SERVING) !== ticket) this.waitTurn(ticket);
  }

  /** Ends this turn and wakes the sleepers if there are any (the next ticket's holder among them). */
  release(): void {
    Atomics.add(this.i32, I32.APPEND_SERVING, 1);
    if (Atomics.load(this.i32, I32.APPEND_WAITERS) !== 0) Atomics.notify(this.i32, I32.APPEND_SERVING);
  }

  private waitTurn(ticket: number): void {
    const i32 = this.i32;
    for (let i = 0; i < SPINS; i++) if (Atomics.load(i32, I32.APPEND_SERVING) === ticket) return;
    const bound = this.appendTimeoutMs + STALL_GRACE_MS;
    let serving = Atomics.load(i32, I32.APPEND_SERVING);
    let since = performance.now();
    Atomics.add(i32, I32.APPEND_WAITERS, 1);
    try {
      while (serving !== ticket) {
        // Returns at once when a release moved APPEND_SERVING after the load: no wake-up is missed.
        Atomics.wait(i32, I32.APPEND_SERVING, serving, WAIT_SLICE_MS);
        const now = performance.now();
        const seen = Atomics.load(i32, I32.APPEND_SERVING);
        if (seen !== serving) {
          serving = seen;
          since = now;
        } else if (now - since > bound) {
          failLog(this.c, FailureCode.PRODUCER_STALLED);
          throw this.stalled(`kept the append lock for ${Math.round(now - since)} ms (over appendTimeoutMs ${this.appendTimeoutMs} + ${STALL_GRACE_MS} ms)`);
        } else if (Atomics.load(i32, I32.STATE) === State.FAILED && Atomics.load(i32, I32.FAILURE) === FailureCode.PRODUCER_STALLED) {
          throw this.stalled('stalled the log');
        }
      }
    } finally {
      Atomics.sub(i32, I32.APPEND_WAITERS, 1);
    }
  }

  private stalled(what: string): LogError {
    return new LogError(ErrorCode.PRODUCER_STALLED, `a thread appending to this log ${what}: it stopped inside an append, and the log accepts no more records`);
  }
}
