/**
 * A handle on a shared producer in another thread of the owner's process (`Producer.attach(token)`):
 * the same synchronous append and appendBatch into the owner's ring, under the append lock
 * (src/producer/shared-appends.ts); flush() waits until this handle's records are fsynced. The owner
 * keeps the directory's lock and the writer thread: closing the owner closes every attached handle
 * (ERR_LOG_CLOSED), and a failure of the writer fails them with the writer's code.
 */
import { ErrorCode, LogError } from '../errors.js';
import type { AppendOptions } from '../format/record.js';
import { APPEND, FailureCode, I32, I64, State, controlViews, failureError, loadOffset, type ControlViews } from '../ring/layout.js';
import { WriterAliveCheck } from '../ring/writer-alive.js';
import { RingAppender, type BatchRecord } from '../ring/ring-appender.js';
import { signalOnly } from '../validate.js';
import { flushAborted, waitDurable, type DurableWaiter } from './durable-wait.js';
import { checkToken, type ProducerToken } from './producer-token.js';
import { SharedAppends } from './shared-appends.js';

/**
 * A handle on a shared producer in a thread of the owner's process, from {@link Producer.attach}: the
 * same synchronous `append` and `appendBatch` into the owner's ring, in one total order with every other
 * handle's records. The owner keeps the directory's lock and the writer thread: closing the owner
 * closes every attached handle (ERR_LOG_CLOSED), and a failure of the writer fails them with the
 * writer's code.
 */
export class AttachedProducer {
  /** The log directory (its real path). */
  readonly logDir: string;
  private readonly c: ControlViews;
  private readonly appends: SharedAppends;
  private readonly waiter: DurableWaiter;
  /** One past the last offset this handle appended: what its flush() waits for. */
  private end = 0;
  private closing: Promise<void> | null = null;
  /** Whether the writer thread is still there, looked at while a wait goes on. */
  private readonly writerAlive: WriterAliveCheck;

  private constructor(token: ProducerToken) {
    this.logDir = token.logDir;
    this.c = controlViews(token.control);
    this.writerAlive = new WriterAliveCheck(this.c);
    const stopped = (): never => { throw this.stoppedError(); };
    // A getter that closes this handle stops its append; a writer thread gone with its owner's thread
    // fails the log while an append waits for ring space, as while flush() waits.
    const hooks = { check: (waiting: boolean): void => { if (this.closing !== null) throw LogError.closed('attached producer'); if (waiting) this.checkWriterAlive(); } };
    const appender = new RingAppender(this.c, token.ring, token.maxRecordBytes, token.appendTimeoutMs, stopped, false, hooks);
    this.appends = new SharedAppends(this.c, appender, token.appendTimeoutMs, stopped);
    this.waiter = {
      c: this.c, appendTimeoutMs: token.appendTimeoutMs,
      check: () => this.checkWriterAlive(),
      failed: () => Promise.reject(this.stoppedError()),
      closed: () => this.stoppedError(),
    };
  }

  /**
   * A handle on the producer that `token` (from `producer.share()`) came from; users call
   * `Producer.attach(token)`.
   * @internal
   */
  static attach(token: ProducerToken): AttachedProducer {
    const t = checkToken(token);
    const handle = new AttachedProducer(t);
    if (Atomics.load(handle.c.append, APPEND.SHARED) !== 1) throw LogError.invalidOption('token', 'its producer was never shared (the token was not made by producer.share())');
    if (Atomics.load(handle.c.i32, I32.STATE) !== State.RUNNING) throw handle.stoppedError();
    return handle;
  }

  /**
   * Appends one record and returns its offset, as Producer.append does; in one total order with the
   * records of every other handle. A dedup key is refused (ERR_INVALID_RECORD): the dedup window
   * lives on the owner's thread.
   *
   * @throws {@link LogError} as {@link Producer.append} does; `ERR_INVALID_RECORD` for a dedup key;
   *   `ERR_LOG_CLOSED` after this handle's or the owner's close; the writer's code once the log failed.
   */
  append(data: Uint8Array | string, opts?: AppendOptions): number {
    if (this.closing !== null) throw LogError.closed('attached producer');
    if (opts !== undefined && typeof opts === 'object' && opts !== null && opts.dedupKey !== undefined) {
      throw new LogError(ErrorCode.INVALID_RECORD, 'invalid record: "dedupKey" is taken by the producer that owns the log (its dedup window lives on its thread), not by an attached handle', { option: 'dedupKey' });
    }
    const offset = this.appends.append(data, opts, null);
    this.end = offset + 1;
    return offset;
  }

  /**
   * Appends the records as one unit, as Producer.appendBatch does; returns the first one's offset.
   * @throws {@link LogError} as {@link Producer.appendBatch} does.
   */
  appendBatch(records: readonly BatchRecord[]): number {
    if (this.closing !== null) throw LogError.closed('attached producer');
    const first = this.appends.appendBatch(records);
    // The records the appender took (the array's length when it read it): read here again, a length
    // (a Proxy's) may answer otherwise, and flush() would wait for offsets no record fills.
    if (this.appends.batchEnd > first) this.end = this.appends.batchEnd;
    return first;
  }

  /**
   * Resolves when every record this handle appended is fsynced (`signal`: as Producer.flush).
   * @throws {@link LogError} `ERR_ABORTED` when `signal` aborts first; `ERR_LOG_CLOSED` after this
   *   handle's close, or when the owner closes first; the writer's code once the log failed.
   */
  async flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.closing !== null) throw LogError.closed('attached producer');
    const signal = signalOnly(options);
    if (signal?.aborted === true) throw flushAborted(signal);
    // After the owner's close this handle's records are durable, but the handle is closed with it.
    const state = Atomics.load(this.c.i32, I32.STATE);
    if (state === State.CLOSING || state === State.CLOSED) throw this.stoppedError();
    await waitDurable(this.waiter, this.end, signal);
  }

  /**
   * Waits until this handle's records are fsynced, then detaches; the log and its owner go on. Safe to
   * call twice.
   * @throws {@link LogError} `ERR_LOG_CLOSED` when the owner closes before the records are durable; the
   *   writer's code once the log failed.
   */
  close(): Promise<void> {
    this.closing ??= waitDurable(this.waiter, this.end);
    return this.closing;
  }

  /** `await using`: close(). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The offset the next append of any handle will get. */
  get nextOffset(): number {
    return this.appends.nextOffset();
  }

  /** Every offset below this is fsynced. */
  get durableOffset(): number {
    return loadOffset(this.c, I64.DURABLE_OFFSET);
  }

  /** Every offset below this is written to a segment file and visible to readers. */
  get writtenOffset(): number {
    return loadOffset(this.c, I64.WRITTEN_OFFSET);
  }

  /** The error that stopped the log (its code; the owner's `producer.error` has the details), or null. */
  get error(): LogError | null {
    return this.failedForReal() ? this.stoppedError() : null;
  }

  /**
   * While a wait goes on, about once a second: a writer thread that is gone while the log still runs
   * ended with its owner's thread (a terminated worker) and failed nothing; the log is failed here, so
   * the wait and the appends of every handle stop with ERR_WRITER_FAILED instead of waiting forever.
   */
  private checkWriterAlive(): void {
    this.writerAlive.check();
  }

  /** The log FAILED, and not by the owner's destroy() (which stops it on purpose, as a close). */
  private failedForReal(): boolean {
    return Atomics.load(this.c.i32, I32.STATE) === State.FAILED && Atomics.load(this.c.i32, I32.FAILURE) !== FailureCode.DESTROYED;
  }

  private stoppedError(): LogError {
    if (this.failedForReal()) {
      return new LogError(failureError(this.c), 'the log stopped after an error (the owning producer\'s error has the details)');
    }
    return new LogError(ErrorCode.LOG_CLOSED, this.closing !== null ? 'attached producer is closed' : 'the producer that owns the log is closed');
  }
}
