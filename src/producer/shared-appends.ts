/**
 * Appends to a shared producer (after share()): every handle, the owner's and each attached one, goes
 * through one of these, on its own thread. Under the append lock a handle reads the ring's published
 * head and the log's next offset from shared memory, copies and publishes its record, and stores the
 * next offset back; so offsets are dense across all handles, one total order, and each handle's
 * records keep its own order.
 */
import type { AppendOptions } from '../format/record.js';
import { AppendLock } from '../ring/append-lock.js';
import { ErrorCode, LogError } from '../errors.js';
import { APPEND, FailureCode, I32, State, type ControlViews } from '../ring/layout.js';
import type { BatchRecord, RingAppender } from '../ring/ring-appender.js';
import { reentered } from '../ring/record-checks.js';
import type { DedupWindow } from './dedup-window.js';

export class SharedAppends {
  private readonly lock: AppendLock;
  /** The log's next offset, in shared memory; read and written only under the lock. */
  private readonly next: Float64Array;
  /** One past the last record of this handle's last appendBatch that returned. */
  batchEnd = 0;
  /** While append reads the options' dedupKey (a getter: the caller's code): an append from there is refused. */
  private readingKey = false;

  constructor(
    private readonly c: ControlViews,
    private readonly appender: RingAppender,
    appendTimeoutMs: number,
    /** Throws the error that explains why the log stopped accepting records. */
    private readonly stopped: () => never,
  ) {
    this.lock = new AppendLock(c, appendTimeoutMs);
    this.next = c.nextOffset;
  }

  /**
   * The owner's first share(): the log's next offset goes to shared memory, then the log is marked
   * shared (an attached handle reads the offset after it sees that mark).
   */
  static start(c: ControlViews, appender: RingAppender, nextOffset: number, appendTimeoutMs: number, stopped: () => never): SharedAppends {
    c.nextOffset[0] = nextOffset;
    Atomics.store(c.append, APPEND.SHARED, 1);
    return new SharedAppends(c, appender, appendTimeoutMs, stopped);
  }

  /** The offset the next append of any handle will get (read without the lock: other threads may move it meanwhile). */
  nextOffset(): number {
    return this.next[0]!;
  }

  /** Appends one record and returns its offset; `dedup` is the owner's dedup window (null elsewhere). */
  append(data: Uint8Array | string, opts: AppendOptions | undefined, dedup: DedupWindow | null): number {
    this.appender.refuseReentry(); // before the lock, which this thread holds then
    if (this.readingKey) throw reentered(); // also where no lock word names this thread (no /proc)
    const waitFrom = this.take();
    try {
      this.checkRunning();
      const offset = this.next[0]!;
      let dedupKey: string | undefined;
      this.readingKey = true; // a getter runs the caller's code
      try { dedupKey = opts?.dedupKey; } finally { this.readingKey = false; }
      if (dedupKey !== undefined && dedup !== null) {
        const earlier = dedup.lookup(dedupKey, offset);
        if (earlier !== undefined) {
          this.appender.check(data, opts, dedupKey);
          return earlier;
        }
      }
      this.appender.resumeAtHead(waitFrom);
      this.appender.append(data, opts, dedupKey);
      this.next[0] = offset + 1;
      if (dedupKey !== undefined && dedup !== null) dedup.remember(dedupKey, offset);
      return offset;
    } finally {
      this.lock.release();
    }
  }

  /**
   * Appends a batch as one unit; returns the first record's offset (the next offset for an empty
   * batch). `batchEnd` then holds the offset after its last record, as many as the appender took.
   */
  appendBatch(records: readonly BatchRecord[]): number {
    this.appender.refuseReentry(); // before the lock, which this thread holds then
    const waitFrom = this.take();
    try {
      this.checkRunning();
      const first = this.next[0]!;
      this.appender.resumeAtHead(waitFrom);
      this.batchEnd = first + this.appender.appendBatch(records);
      this.next[0] = this.batchEnd;
      return first;
    } finally {
      this.lock.release();
    }
  }

  /**
   * Runs `fn` holding the append lock: the owner's close takes it once after it stored CLOSING, so no
   * append of another thread is halfway through when the close goes on. Called from inside this
   * handle's own append (a getter of its record's options), where this thread holds the lock already,
   * `fn` runs at once; the append re-checks the state after its getters and publishes nothing.
   */
  exclusive(fn: () => void): void {
    if (this.lock.held) {
      fn();
      return;
    }
    this.lock.acquire();
    try {
      fn();
    } finally {
      this.lock.release();
    }
  }

  /**
   * The lock for an append: a log that stopped already refuses before it (a thread that ended holding
   * the lock never releases it, and a closed or destroyed log says ERR_LOG_CLOSED, not the dead
   * holder's ERR_PRODUCER_STALLED after a wait); a log that stops for another reason while this one
   * waits behind such a holder says that reason too. Returns acquire()'s answer.
   */
  private take(): number {
    this.checkRunning();
    try {
      return this.lock.acquire(true);
    } catch (e) {
      const i32 = this.c.i32;
      const state = Atomics.load(i32, I32.STATE);
      const stalled = state === State.FAILED && Atomics.load(i32, I32.FAILURE) === FailureCode.PRODUCER_STALLED;
      if (e instanceof LogError && e.code === ErrorCode.PRODUCER_STALLED && state !== State.RUNNING && !stalled) this.stopped();
      throw e;
    }
  }

  /** Under the lock: a closing or failed log takes no record, whatever the handle saw before. */
  private checkRunning(): void {
    if (Atomics.load(this.c.i32, I32.STATE) !== State.RUNNING) this.stopped();
  }
}
