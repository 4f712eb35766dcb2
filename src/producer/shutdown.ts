/**
 * How a producer stops: `close()` (drain, fsync, stop the writer, release the lock), `destroy(err)`
 * (stop the writer where it is), and the synchronous close at process exit for a producer nobody
 * closed. Each path releases the lock only after the writer thread has exited, so the next holder of
 * the lock never overlaps it.
 */
import type { Worker } from 'node:worker_threads';
import { ErrorCode, LogError } from '../errors.js';
import { I32, I64, State, failureError, loadOffset, wakeWriter, type ControlViews } from '../ring/layout.js';
import type { HeldLock } from '../storage/lock.js';
import { WriterAliveCheck } from '../ring/writer-alive.js';
import type { FunnelServer } from '../funnel/server.js';
import { closeAtProcessExit, forgetAtExit, reportAtExit, type ClosesAtExit } from './exit-hook.js';
import { unregisterProducer, type LocalProducer } from './registry.js';
import type { SharedAppends } from './shared-appends.js';
import type { DurableWaiter } from './durable-wait.js';
import type { WriterLink } from './writer-link.js';

/** How long a flush that met a failed log waits for the writer's failure message (with its details). */
const FAILURE_DETAILS_WAIT_MS = 1000;

/** What stopping needs of its producer. */
export interface ShutdownParts {
  readonly c: ControlViews;
  readonly link: WriterLink;
  readonly worker: Worker;
  readonly lock: HeldLock;
  readonly realDir: string;
  readonly local: LocalProducer;
  /** The `acceptConnections` listener, stopped first on every path. */
  funnel(): FunnelServer | null;
  /** The shared appends once share() was called: closing then takes the append lock. */
  sharedAppends(): SharedAppends | null;
}

export class ProducerShutdown implements ClosesAtExit {
  /** close()'s promise, once called (destroy()'s when destroy() came first). */
  closing: Promise<void> | null = null;
  /** destroy()'s promise, once called. */
  destroying: Promise<void> | null = null;
  /** What flushes pending when destroy() was called reject with. */
  destroyedWith: Error | null = null;
  /** The writer is stopped and the lock released: by close(), destroy() or the exit hook. */
  private closedFlag = false;

  constructor(private readonly p: ShutdownParts) {
    closeAtProcessExit(this);
  }

  /** The writer has stopped and the lock is released. */
  get released(): boolean {
    return this.closedFlag;
  }

  /** close() or destroy() was called, or the exit hook closed the producer. */
  get stopped(): boolean {
    return this.closing !== null || this.destroying !== null || this.closedFlag;
  }

  close(): Promise<void> {
    this.closing ??= this.destroying ?? this.doClose();
    return this.closing;
  }

  destroy(err?: Error): Promise<void> {
    this.destroying ??= this.doDestroy(err);
    return this.destroying;
  }

  /** The error for a call on a stopped producer: ERR_LOG_CLOSED after close or destroy, else the writer's. */
  stoppedError(): LogError | Error {
    if (this.stopped) return LogError.closed('producer');
    return this.p.link.error ?? LogError.closed('producer');
  }

  /** What the owner's flush() needs (src/producer/durable-wait.ts): this handle's stop states. */
  durableWaiter(appendTimeoutMs: number): DurableWaiter {
    return {
      c: this.p.c, appendTimeoutMs,
      // A flush that waits when the writer fails rejects with the writer's error, also once close()
      // was called: its records are not durable, and ERR_LOG_CLOSED would read as an ordinary close.
      check: () => {
        if (this.destroyedWith !== null) throw this.destroyedWith;
        if (this.p.link.failure !== null) throw this.p.link.failure;
      },
      failed: () => this.failedFlush(),
      closed: () => LogError.closed('producer'),
    };
  }

  /** A flush found the log FAILED: the state flips first, the message with the system error's details follows. */
  async failedFlush(): Promise<never> {
    await this.failureDetails();
    throw this.destroyedWith ?? this.p.link.error ?? this.stoppedError();
  }

  /** Waits for the writer's failure message, FAILURE_DETAILS_WAIT_MS at most. */
  private async failureDetails(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.p.link.failureArrived, new Promise((r) => { timer = setTimeout(r, FAILURE_DETAILS_WAIT_MS); })]);
    clearTimeout(timer);
  }

  /**
   * The process 'exit' hook's first step: stop the listener and ask the writer to close, without
   * waiting (the hook asks every open producer before it waits for any).
   * @internal
   */
  requestCloseAtExit(): void {
    forgetAtExit(this);
    this.p.funnel()?.stop();
    this.requestClose(false);
  }

  /**
   * The hook's second step, synchronous: wait until the writer is done or `deadline` (a performance.now()
   * time: a wall clock stepped neither cuts nor stretches the bound) passes. The lock is released only
   * when the writer closed; otherwise the process's end releases it. A failed log (now or earlier) or
   * the bound running out is reported (stderr, exit code 1).
   * @internal
   */
  closeAtExit(deadline: number): void {
    const c = this.p.c;
    // A writer thread that dies where none of its code runs fails nothing, and its exit event is never
    // delivered now: look for the thread itself (about once a second), or the wait lasts the whole bound.
    const writerAlive = new WriterAliveCheck(c);
    let state: number;
    for (;;) {
      writerAlive.check();
      const seq = Atomics.load(c.i32, I32.DURABLE_SEQ); // read before the state: finish() bumps it after CLOSED
      state = Atomics.load(c.i32, I32.STATE);
      if (state === State.CLOSED || state === State.FAILED || performance.now() > deadline) break;
      Atomics.wait(c.i32, I32.DURABLE_SEQ, seq, 50);
    }
    unregisterProducer(this.p.realDir, this.p.local);
    if (state === State.CLOSED) {
      this.p.lock.release();
      return;
    }
    // The writer thread may still run (a failed log drains its ring; a write a stalled disk holds
    // cannot be interrupted) and write after this: the lock stays held, and goes with the process once
    // its threads are gone, so that no next owner has the directory while this writer can still write.
    // The writer's message with the details is not delivered while the process exits: the code is in shared memory.
    const failure = state !== State.FAILED ? null : this.p.link.failure ?? { code: failureError(c) };
    reportAtExit({ logDir: this.p.realDir, failure, nextOffset: this.p.local.nextOffset(), durableOffset: loadOffset(c, I64.DURABLE_OFFSET) });
  }

  private async doClose(): Promise<void> {
    const { c, link } = this.p;
    this.p.funnel()?.stop(); // first: clients are told ERR_LOG_CLOSED while the writer still drains
    this.requestClose();
    link.pin(); // an awaited close keeps the process alive until the writer is done
    await link.exited;
    this.releaseHandle();
    // destroy() stopped the writer before it finished closing: nothing promises the drain happened.
    if (this.destroyedWith !== null && Atomics.load(c.i32, I32.STATE) !== State.CLOSED) throw this.destroyedWith;
    if (link.failure === null && link.failureFromState() !== null) await link.failureArrived;
    const failed = link.error;
    if (failed !== null) throw failed;
  }

  private async doDestroy(err: Error | undefined): Promise<void> {
    if (this.closedFlag) return;
    this.p.funnel()?.stop();
    // What waiting calls reject with: the caller's error, or ERR_LOG_CLOSED for anything else.
    this.destroyedWith = err instanceof Error ? err : LogError.closed('producer');
    forgetAtExit(this);
    // A writer that failed stores FAILED before it posts its details: stopped in between, it would
    // take them along. Its own failure (not a stalled appender's) is waited for, briefly.
    const pending = this.p.link.failure === null ? this.p.link.failureFromState() : null;
    if (pending !== null && pending.code !== ErrorCode.PRODUCER_STALLED) await this.failureDetails();
    // A writer failure before destroy() stays on producer.error; appends stop and every waiter wakes
    // at once; the thread is stopped after.
    this.p.link.markDestroyed();
    // As for close(): the unref'd thread (a control call settling now unrefs it again) would let the
    // process end before its exit resolves this promise, with the code after an awaited destroy() unrun.
    this.p.link.pin();
    await this.p.worker.terminate();
    await this.p.link.exited;
    // Only now: a writer still running must never overlap the next holder of the lock.
    this.releaseHandle();
  }

  /** Forgets the handle and releases the lock, once, after the writer thread has exited. */
  private releaseHandle(): void {
    if (this.closedFlag) return;
    forgetAtExit(this);
    this.closedFlag = true;
    unregisterProducer(this.p.realDir, this.p.local);
    this.p.lock.release();
  }

  /**
   * CLOSING, then a wake-up for the writer. Shared, `underLock` then takes the append lock once, so
   * that no attached handle is halfway through an append when close goes on; the exit hook does not
   * (threads die with the process, and one that died holding the lock would hold the exit up to the
   * lock's bound). CLOSING comes first: an append that takes the lock after it refuses at once, and
   * one that waits for room in a full ring sees it within a slice, so the lock is free soon; taken
   * first, it would wait behind one holder's wait for room after another (the lock is not fair).
   */
  private requestClose(underLock = true): void {
    const c = this.p.c;
    const shared = this.p.sharedAppends();
    const running = Atomics.compareExchange(c.i32, I32.STATE, State.RUNNING, State.CLOSING) === State.RUNNING;
    wakeWriter(c); // after the state: the writer that wakes sees CLOSING
    if (!underLock || shared === null || !running) return;
    try {
      shared.exclusive(() => undefined);
    } catch {
      // A thread stalled holding the lock (the log failed, ERR_PRODUCER_STALLED), or one whose thread
      // is gone holds it (its record was never published): close anyway.
    }
  }
}
