/**
 * The append lock of a shared producer, taken around each append of every handle once the producer is
 * shared (share()/attach()): a futex-style mutex on APPEND.LOCK, with the sleepers counted in
 * APPEND.WAITERS so that a release pays for a wake-up only when someone sleeps, and at most one
 * wake-up in flight (APPEND.WAKING).
 *
 * Why one lock around reserve, copy and publish, rather than a reservation counter with in-order
 * publication: append returns the record's offset, so the byte position and the offset must be taken
 * together, and the writer reads the ring up to one published HEAD, so records are published in
 * reservation order in any case. A lock gives both with the ring's format unchanged. The writer needs
 * a core of its own, so on a machine of two cores appends of several threads cannot run side by side
 * anyway.
 *
 * Why not fair: a thread that is running takes a free lock at once, ahead of the sleepers. A lock that
 * hands each turn to the next sleeper in line (a ticket lock) must wait for that thread to be woken and
 * scheduled on every append when there are more threads than cores, and the aggregate rate collapses
 * to the rate of wake-ups. Unfairness is bounded by the scheduler: a holder's time slice ends, and the
 * sleeper it woke takes the lock.
 *
 * The lock word holds the holder's stamp, an odd number that changes with every taking: a waiter tells
 * a lock that changes hands from one that one holder keeps. Its upper 22 bits are the holder's OS
 * thread id where /proc names threads (Linux; else 0), so that the writer at close can see a holder
 * that is gone. A holder that stops inside an append (a worker terminated mid-copy) never releases.
 * Its record was never published (HEAD moves after the copy), so no reader sees a part of it. A live
 * holder's wait for ring space is bounded by appendTimeoutMs, and a batch, whose measuring and copying
 * can take seconds (large, or slow getters), bumps APPEND.PROGRESS as it goes; a waiter that sees one
 * stamp and no progress for appendTimeoutMs plus STALL_GRACE_MS fails the log with
 * ERR_PRODUCER_STALLED, and so does one that sees the holder's thread gone (after a slice of waiting).
 */
import { threadId } from 'node:worker_threads';
import { ErrorCode, LogError } from '../errors.js';
import { APPEND, FailureCode, I32, State, failLog, type ControlViews } from './layout.js';
import { osThreadAlive, osThreadId } from './os-thread.js';
import { ringFull } from './room-wait.js';
import { RunningClock } from './running-clock.js';

/** How long past appendTimeoutMs one holder may keep the lock before a waiter calls it stalled. */
export const STALL_GRACE_MS = 2000;
/** Looks at the lock word before a waiter sleeps: a holder on another core is usually done within them. */
const SPINS = 200;
/** The longest single sleep of a waiter; it re-checks its bound after each. */
const WAIT_SLICE_MS = 50;
/** A stamp: the OS thread id (22 bits: Linux's largest is below 2^22) above a count of 9 bits and the odd bit. */
const TID_SHIFT = 10;
const COUNT_MASK = 0x3fe;
/** How often the writer at close looks whether the holder's thread is still there. */
const HOLDER_LOOK_MS = 20;

/** The OS thread id a lock word names (0: none known). */
function holderTid(word: number): number {
  return (word >>> TID_SHIFT) & 0x3fffff;
}

/**
 * How many append locks handles of this thread hold now (per thread: globalThis is the isolate's),
 * shared by every copy of the library the thread loaded. A lock word naming this thread while none
 * is held here names a thread that ended holding it and whose id the system gave this thread.
 */
const HELD = Symbol.for('reactive-log.append-locks-held-by-this-thread');
/** Looked up once: an append moves a plain object's field, not a symbol-keyed property of globalThis. */
const heldSlot: { n: number } = ((globalThis as { [HELD]?: { n: number } })[HELD] ??= { n: 0 });
function heldHere(by = 0): number {
  return (heldSlot.n += by);
}

export class AppendLock {
  private readonly i32: Int32Array;
  /** The stamp of this handle's last taking: odd, so never 0 (free); its count moves by 1 per taking. */
  private stamp: number;
  /** This handle holds the lock (between acquire and release, on its own thread). */
  held = false;
  /** This thread's OS id as the stamps carry it (0: not known). */
  private readonly tid: number;

  constructor(
    private readonly c: ControlViews,
    private readonly appendTimeoutMs: number,
  ) {
    this.i32 = c.append;
    const tid = osThreadId();
    this.tid = tid > 0x3fffff ? 0 : tid;
    // Handles of one thread start their counts apart, so two takings in a row by different handles differ.
    const count = ((threadId * 0x9e3779b1) ^ Math.floor(Math.random() * 0x7fffffff)) & COUNT_MASK;
    this.stamp = (this.tid << TID_SHIFT) | count | 1;
  }

  /**
   * Takes the lock; throws ERR_PRODUCER_STALLED (and fails the log) when one holder keeps it past the
   * bound or its thread is gone (not an append, the owner's close: without failing the log). For an append (`append`), also ERR_LOG_FULL once it has waited appendTimeoutMs while the
   * ring stays full: the holder waits for room, and a wait for room ran out since this one began.
   * Returns when the wait began (performance.now(), moved on by a pause of the process it met:
   * running-clock.ts), -1 when the lock was free: the append's wait for room counts from there.
   */
  acquire(append = false): number {
    const s = this.stamp;
    this.stamp = (s & ~COUNT_MASK) | ((s + 2) & COUNT_MASK) | 1;
    const from = Atomics.compareExchange(this.i32, APPEND.LOCK, 0, this.stamp) === 0 ? -1 : this.contended(append);
    this.held = true;
    heldHere(1);
    return from;
  }

  /**
   * Frees the lock, then wakes one sleeper if any. A sleeper counts itself before it looks at the lock
   * word, and the release stores the word before it reads the count: one of the two sees the other.
   */
  release(): void {
    const i32 = this.i32;
    this.held = false;
    heldHere(-1);
    Atomics.store(i32, APPEND.LOCK, 0);
    // One wake-up in flight at a time: a holder that appends in a loop would otherwise pay a wake-up
    // system call on every release while the thread it woke has not yet been scheduled.
    // A wake-up that finds no sleeper leaves none in flight: the count can be ahead of the sleepers (a
    // worker terminated while it waited never uncounts itself, a taker about to look again), and a
    // WAKING left set would keep every later sleeper from its wake-up until its slice ends.
    if (Atomics.load(i32, APPEND.WAITERS) !== 0 && Atomics.compareExchange(i32, APPEND.WAKING, 0, 1) === 0) {
      if (Atomics.notify(i32, APPEND.LOCK, 1) === 0) Atomics.store(i32, APPEND.WAKING, 0);
    }
  }

  private tryTake(): boolean {
    return Atomics.compareExchange(this.i32, APPEND.LOCK, 0, this.stamp) === 0;
  }

  private contended(append: boolean): number {
    const i32 = this.i32;
    const clock = new RunningClock(); // a stopped process's pause is not the holder's (running-clock.ts)
    const from = clock.now();
    // When the wait began, moved on by a pause it met: the append's wait for room counts from there.
    const began = (): number => performance.now() - (clock.now() - from);
    const fullSeq = Atomics.load(i32, APPEND.FULL_SEQ);
    // Held by this very thread (another handle's append, whose getter got here): waiting would never end.
    if (this.tid !== 0 && holderTid(Atomics.load(i32, APPEND.LOCK)) === this.tid && heldHere() > 0) {
      throw new LogError(ErrorCode.INVALID_RECORD, 'invalid record: an append of this log was called from inside another append of this thread (a getter of its record\'s options), which holds the append lock: nothing was appended', { option: 'options' });
    }
    for (let i = 0; i < SPINS; i++) if (Atomics.load(i32, APPEND.LOCK) === 0 && this.tryTake()) return began();
    const bound = this.appendTimeoutMs + STALL_GRACE_MS;
    Atomics.add(i32, APPEND.WAITERS, 1);
    try {
      let seen = Atomics.load(i32, APPEND.LOCK);
      let progress = Atomics.load(i32, APPEND.PROGRESS);
      let since = clock.now();
      for (;;) {
        if (seen === 0) {
          if (this.tryTake()) return began();
        } else {
          // Returns at once when the word is no longer `seen`: a release in between is not missed.
          Atomics.wait(i32, APPEND.LOCK, seen, WAIT_SLICE_MS);
          Atomics.store(i32, APPEND.WAKING, 0); // running again: the next release may wake another
        }
        const now = clock.now();
        const word = Atomics.load(i32, APPEND.LOCK);
        const moved = Atomics.load(i32, APPEND.PROGRESS);
        if (word !== seen || moved !== progress) {
          seen = word;
          progress = moved; // a holder that goes on through a batch is live: the bound counts from its last progress
          since = now;
        } else if (word !== 0 && now - since > bound) {
          failLog(this.c, FailureCode.PRODUCER_STALLED);
          throw this.stalled(`kept the append lock for ${Math.round(now - since)} ms without progress (over appendTimeoutMs ${this.appendTimeoutMs} + ${STALL_GRACE_MS} ms)`);
        } else if (word !== 0 && now - since >= WAIT_SLICE_MS && this.holderGone(holderTid(word))) {
          // The holder's thread is gone (terminated inside an append): it never releases, so the bound
          // would only stop this thread longer. An append fails a running log as at the bound; the
          // owner's close (not an append), and an append meeting a close, leave a closing log to close:
          // the writer does not wait for a holder whose thread is gone either.
          if (append && Atomics.load(this.c.i32, I32.STATE) === State.RUNNING) failLog(this.c, FailureCode.PRODUCER_STALLED);
          throw this.stalled('ended holding the append lock (its thread is gone)');
        } else if (Atomics.load(this.c.i32, I32.STATE) === State.FAILED && Atomics.load(this.c.i32, I32.FAILURE) === FailureCode.PRODUCER_STALLED) {
          throw this.stalled('stalled the log');
        }
        if (append && word !== 0 && now - from >= this.appendTimeoutMs && Atomics.load(i32, APPEND.ROOM_WAIT) === 1 && Atomics.load(i32, APPEND.FULL_SEQ) !== fullSeq) {
          throw ringFull(this.appendTimeoutMs);
        }
      }
    } finally {
      Atomics.sub(i32, APPEND.WAITERS, 1);
    }
  }

  /** Whether thread `tid` (a lock word's) is gone: this thread, holding no lock, got the id of one that ended. */
  private holderGone(tid: number): boolean {
    return tid !== 0 && tid === this.tid ? heldHere() === 0 : !osThreadAlive(tid);
  }

  private stalled(what: string): LogError {
    return new LogError(ErrorCode.PRODUCER_STALLED, `a thread appending to this log ${what}: it stopped inside an append, and the log accepts no more records`);
  }
}

/**
 * For the writer at close: whether an append of a shared producer may still be on its way (the lock
 * held; the process exit hook stores CLOSING without taking it), after waiting up to a millisecond
 * for it. A holder whose OS thread is gone, or that keeps one taking without progress past
 * appendTimeoutMs + STALL_GRACE_MS, stopped inside its append (a terminated thread): its record was never published,
 * and the close goes on without it.
 */
export class AppendInFlight {
  private seen = 0;
  private progress = 0;
  private since = 0;
  private holderLooked = 0;
  private readonly clock = new RunningClock();

  constructor(private readonly i32: Int32Array, private readonly appendTimeoutMs: number) {}

  /** `word`: APPEND.LOCK, read after the state that says CLOSING and before HEAD. */
  pending(word: number): boolean {
    if (word === 0) return false;
    const now = this.clock.now();
    const progress = Atomics.load(this.i32, APPEND.PROGRESS);
    if (word !== this.seen || progress !== this.progress) {
      this.seen = word;
      this.progress = progress;
      this.since = now;
      this.holderLooked = now;
    } else if (now - this.since > this.appendTimeoutMs + STALL_GRACE_MS) {
      return false;
    } else if (now - this.holderLooked >= HOLDER_LOOK_MS) {
      // A thread id reused by a new thread reads as alive: the time bound above still ends the wait.
      this.holderLooked = now;
      if (!osThreadAlive(holderTid(word))) return false;
    }
    Atomics.wait(this.i32, APPEND.LOCK, word, 1);
    return true;
  }
}
