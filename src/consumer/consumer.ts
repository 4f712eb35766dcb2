/**
 * The consumer handle, in three styles:
 * - nonTx(whence): at-least-once, no durable cursor; starts at the Whence every time it opens;
 * - clientTx(id): exactly-once per consumer id, with a durable named cursor (one owner at a time);
 * - globalTx(): exactly-once with the one shared cursor of the log (one owner at a time).
 *
 * A record handed out is complete when the caller asks for the next one (iterators) or when the handler
 * answers 'commit' or 'skip' (processing functions); for the transactional styles completing moves the
 * durable cursor. A record not completed is handed out again first. One iteration or processing call
 * runs at a time per consumer (ERR_CONSUMER_BUSY otherwise).
 */
import { LogError } from '../errors.js';
import { noExtraArguments } from '../validate.js';
import { fileIO, fileIONow } from '../storage/file-io.js';
import type { BackendConsumerOptions } from '../backend/backend-types.js';
import type { ConsumerOptions, CursorLag, Handler, Message, PoolOptions, ProcessSummary } from '../types.js';
import { resolveConsumerOptions } from './consumer-options.js';
import type { ResolvedRetry } from './start-plan.js';
import { openStartHeld, realLogDir } from './consumer-start.js';
import { ConsumerCalls } from './consumer-calls.js';
import { RecordFeed } from './record-feed.js';
import { dirIdentityOf, LocalSource } from './local-source.js';
import { checkDirIdentity } from '../reader/dir-identity.js';
import { TailIterator } from './tail-iterator.js';
import { RecordIterator } from './record-iterator.js';
import { LagWatch } from './lag-watch.js';
import { GLOBAL_CURSOR_ID } from '../admin/cursor-ids.js';

/** The transactional cursor's file stem (`client.<id>`, `global`), or null for nonTx. */
const cursorNameOf = (opts: ReturnType<typeof resolveConsumerOptions>): string | null => (opts.start.kind === 'cursor' ? opts.start.cursorName : null);

/**
 * A consumer of a log directory, in one of three styles: `nonTx(whence)` (at-least-once, no durable
 * cursor), `clientTx(id)` (exactly-once with a durable cursor named by the id) and `globalTx()`
 * (exactly-once with the log's one shared cursor). Open it with {@link Consumer.open}; `close()`
 * finishes the call in progress and commits, `destroy(err)` aborts.
 *
 * A record handed out is complete when the caller asks for the next one (iterators) or when the
 * handler answers 'commit' or 'skip' (processing calls); for the transactional styles completing moves
 * the durable cursor. A record not completed is handed out again first. One iteration or processing
 * call runs at a time per consumer (ERR_CONSUMER_BUSY otherwise).
 */
export class Consumer implements AsyncIterable<Message> {
  private closing: Promise<void> | null = null;
  private destroying: Promise<void> | null = null;
  /** The error destroy(err) was given (null: none, or not destroyed): a waiting iteration rejects with it, as a processing call does. */
  private destroyError: Error | null = null;
  /** The processing calls, their pools and dead-letter log. */
  private readonly calls: ConsumerCalls;
  /** Publishes reactive-log:lag (the lagThreshold option), else null. */
  private lagWatch: LagWatch | null = null;

  private constructor(
    /** Reads, hands out and completes the records; waits for more. */
    private readonly feed: RecordFeed,
    retry: ResolvedRetry,
    /** The transactional cursor's name, else null (nonTx). */
    cursorName: string | null,
  ) {
    this.calls = new ConsumerCalls(feed, retry, cursorName);
  }

  /**
   * Opens a consumer. Transactional styles take the cursor's lock (ERR_CURSOR_LOCKED while another
   * live process holds it) and start where the cursor points (a new cursor: the oldest record).
   * `logDir` is a log or an empty directory; anything else is ERR_INVALID_OPTION, with nothing
   * written there. `options.signal` aborted before the open is done: ERR_ABORTED.
   *
   * @param options - The log directory, the style and the options; see {@link ConsumerOptions}.
   * @returns The open consumer.
   * @throws {@link LogError} `ERR_INVALID_OPTION` for a bad or unknown option, a `logDir` that is no
   *   log directory, or a `Whence.position` past the end of the log.
   * @throws {@link LogError} `ERR_INVALID_CONSUMER_ID` for a `clientTx` id that cannot name a cursor.
   * @throws {@link LogError} `ERR_CURSOR_LOCKED` while another live consumer holds the cursor.
   * @throws {@link LogError} `ERR_POSITION_EXPIRED` when the start lies below the log start (retention
   *   deleted it) and `onPositionExpired` is 'error'.
   * @throws {@link LogError} `ERR_ABORTED` when `options.signal` aborts before the open is done.
   * @throws {@link LogError} `ERR_LOG_CORRUPT` for a damaged cursor file or one past the log's durable
   *   end; `ERR_UNSUPPORTED_FORMAT` for a cursor file of a newer format; `ERR_IO` when reading the files
   *   fails.
   *
   * @example
   * ```ts
   * import { Consumer, ConsumerStyle, Whence } from 'reactive-log';
   *
   * const consumer = await Consumer.open({ logDir: './data/orders', style: ConsumerStyle.nonTx(Whence.oldest()) });
   * for (const msg of consumer.iter()) console.log(msg.offset, Buffer.from(msg.data).toString());
   * await consumer.close();
   * ```
   */
  static async open(options: ConsumerOptions | BackendConsumerOptions): Promise<Consumer> {
    const opts = resolveConsumerOptions(options);
    if (opts.backend !== null) {
      const parts = await opts.backend.openConsumer(opts);
      return new Consumer(new RecordFeed(parts.source, parts.cursor, parts.reader), opts.retry, cursorNameOf(opts)).watchLag(opts, opts.logDir);
    }
    const realDir = realLogDir(opts.logDir);
    const io = fileIONow() ?? await fileIO();
    // The open itself is synchronous from here: an abort is seen before it starts.
    if (opts.signal?.aborted === true) throw LogError.aborted('Consumer.open', opts.signal);
    // Before anything is read there: the directory each wait checks the path still names (ERR_IO when the stamp fails).
    const identity = dirIdentityOf(io, realDir);
    // `readers` is held until the consumer closes: no repair cuts the log under its position (readers-lock.ts).
    const { cursor, reader, ahead, readers } = openStartHeld(io, realDir, opts);
    try {
      // The open read the cursor, the bounds and the start's segment by name: the path must still name
      // the directory of the identity, else those were another log's (replaced meanwhile): ERR_IO.
      checkDirIdentity(io, realDir, identity);
    } catch (e) {
      reader.close();
      cursor?.abandonReplaced(); // a cursor file this open created goes, never one that its path names now
      readers.release();
      throw e;
    }
    reader.holdDir(identity); // each segment it opens by name is checked to be in that directory
    const source = new LocalSource(io, realDir, opts.visibility, opts.pollIntervalMs, ahead, readers, identity);
    return new Consumer(new RecordFeed(source, cursor, reader), opts.retry, cursorNameOf(opts)).watchLag(opts, realDir);
  }

  /** With `lagThreshold`: starts the watch that publishes reactive-log:lag (`logId`: the log directory's real path, or the backend's logId). */
  private watchLag(opts: ReturnType<typeof resolveConsumerOptions>, logId: string): this {
    if (opts.lagThreshold !== null) {
      // The cursor's admin id, as inspectLog names it: a clientTx consumer may be called 'global'.
      const stem = cursorNameOf(opts);
      const id = stem === null ? null : stem === 'global' ? GLOBAL_CURSOR_ID : stem.replace(/^client\./, '');
      this.lagWatch = new LagWatch(opts.lagThreshold, logId, id, () => this.lag());
    }
    return this;
  }

  /** The real path of the log directory; with an offset it makes an idempotency key. */
  get logId(): string {
    return this.feed.logId;
  }

  /** The offset of the next record this consumer will hand out. */
  get nextOffset(): number {
    return this.feed.nextOffset;
  }

  /** @deprecated The same as `nextOffset` (an offset, not a byte position). */
  get position(): number {
    return this.feed.nextOffset;
  }

  /**
   * How far this consumer is behind the end of what it may read (the durable end for the
   * transactional styles and `visibility: 'durable'`, the written end otherwise): `records`, the
   * segment `bytes` from the frame of the next record on (frame overhead included), and `ms` between
   * the next record's frame and the newest one. During a worker-pool call, "the next record" is the
   * first record the pool has not finished (its workers read ahead of it). Reads segment headers and
   * two frame headers, never the records. On a backend, what each figure means there and how fresh it is: docs/jetstream.md.
   * @throws {@link LogError} `ERR_LOG_CLOSED` after `close()` or `destroy()`; `ERR_IO` when reading the log directory or a segment header fails.
   */
  lag(): CursorLag {
    noExtraArguments('options', 'consumer.lag() (it takes no options)', arguments.length, 0);
    if (this.feed.isReleased) throw LogError.closed('consumer');
    return this.feed.lag();
  }

  /** Transactional styles: the durable cursor (every record below it is committed). Else null. */
  get committedOffset(): number | null {
    return this.feed.committedOffset;
  }

  /** Transactional styles: the state committed with the cursor (as last set), or null. */
  get state(): Uint8Array | null {
    return this.feed.currentState();
  }

  /**
   * Nonblocking: the records in the log now, then it ends. A record is complete when the loop asks
   * for the next one; one the loop broke on is handed out again first.
   * @throws {@link LogError} `ERR_CONSUMER_BUSY` when another iteration or call is running;
   *   `ERR_LOG_CLOSED` after `close()` or `destroy()`.
   */
  iter(): Generator<Message, void, undefined> {
    return new RecordIterator(this.feed, () => this.destroyError);
  }


  /** Blocking, as `tail()`: waits for new records; ends on break or `close()`. */
  [Symbol.asyncIterator](): AsyncGenerator<Message, void, undefined> {
    return this.tail();
  }

  /**
   * Blocking: waits for new records; ends on break, `close()`, `destroy()` or when `signal` aborts
   * (`destroy(err)`: rejects with `err`). Nothing runs
   * before the first `next()`: a closed or busy consumer rejects that call.
   *
   * @throws {@link LogError} `ERR_CONSUMER_BUSY` when another iteration or call is running;
   *   `ERR_LOG_CLOSED` after `close()` or `destroy()`.
   *
   * @example
   * ```ts
   * const controller = new AbortController();
   * for await (const msg of consumer.tail({ signal: controller.signal })) handle(msg);
   * ```
   */
  tail(options: { signal?: AbortSignal } = {}): AsyncGenerator<Message, void, undefined> {
    return new TailIterator(this.feed, options, () => this.destroyError);
  }

  /**
   * Runs `handler` over the records in the log now, up to `max` completed (null: no limit). With a
   * handler module (path or URL; its default export is the handler) the records are processed in a
   * pool of worker threads (`options.workers`).
   *
   * @param max - Records to complete ('commit' or 'skip') before the call returns; null for no limit.
   * @param handler - Answers an {@link Outcome} for each record.
   * @param options - `signal`: aborting it ends the call ('abort'); with a handler module, the pool options too.
   * @returns What the call did; `stoppedBy` is 'limit', 'end', 'break' or 'abort'.
   * @throws The handler's error when it throws (without `retry.retryOnThrow`); the record is handed
   *   out again first next time.
   * @throws {@link LogError} `ERR_CONSUMER_BUSY` when another iteration or call is running;
   *   `ERR_LOG_CLOSED` after `close()`, or `destroy(err)`'s error; `ERR_INVALID_OPTION` for a bad
   *   `max`, a handler answer that is no outcome, or pool options with a function handler;
   *   `ERR_WORKER_FAILED` when pool workers keep failing.
   *
   * @example
   * ```ts
   * const summary = await consumer.nonblockingProcess(100, (msg) => (msg.data.byteLength > 0 ? 'commit' : 'skip'));
   * console.log(summary.committed, summary.skipped, summary.stoppedBy);
   * ```
   */
  nonblockingProcess(max: number | null, handler: Handler, options?: { signal?: AbortSignal }): Promise<ProcessSummary>;
  /** As above, in a pool of worker threads running the default export of the module at `handler`. */
  nonblockingProcess(max: number | null, handler: string | URL, options?: PoolOptions): Promise<ProcessSummary>;
  nonblockingProcess(max: number | null, handler: Handler | string | URL, options: PoolOptions = {}): Promise<ProcessSummary> {
    return this.calls.run(max, handler, false, options);
  }

  /**
   * Runs `handler` over records as they come, until `max`, 'break', `close()` or the signal aborts.
   *
   * @param max - Records to complete ('commit' or 'skip') before the call returns; null for no limit.
   * @param handler - Answers an {@link Outcome} for each record.
   * @param options - `signal`: aborting it ends the call ('abort').
   * @returns What the call did; `stoppedBy` is 'limit', 'end' (close), 'break' or 'abort'.
   * @throws The handler's error, and the LogErrors of {@link Consumer.nonblockingProcess}.
   *
   * @example
   * ```ts
   * const summary = await consumer.blockingProcess(null, async (msg, ctx) => {
   *   try {
   *     await save(msg.data, `${ctx.logId}:${msg.offset}`);
   *     return 'commit';
   *   } catch {
   *     return ctx.attempt < 3 ? 'retry' : 'skip';
   *   }
   * }, { signal: AbortSignal.timeout(60_000) });
   * ```
   */
  blockingProcess(max: number | null, handler: Handler, options?: { signal?: AbortSignal }): Promise<ProcessSummary>;
  /** As above, in a pool of worker threads running the default export of the module at `handler`. */
  blockingProcess(max: number | null, handler: string | URL, options?: PoolOptions): Promise<ProcessSummary>;
  blockingProcess(max: number | null, handler: Handler | string | URL, options: PoolOptions = {}): Promise<ProcessSummary> {
    return this.calls.run(max, handler, true, options);
  }

  /**
   * Closes the consumer: no new calls; a waiting iteration or call ends at once. A processing call
   * whose handler is running (in this thread or a pool worker) is waited for: its outcome is committed
   * with the cursor and state, durably, and the call returns a summary that counts it; then the
   * cursor is made durable and the files and the lock are closed. An iteration is not waited for: a
   * record it handed out and did not complete comes again. Safe to call twice (the same promise).
   *
   * The wait for a running handler is bounded by that handler: in this thread nothing can stop it
   * (a handler that awaits this close() would wait for itself: return 'break' instead); in a pool,
   * a handler call past `timeoutMs` has its worker stopped, and its record comes again.
   *
   * @throws {@link LogError} `ERR_IO` or `ERR_DISK_FULL` when the last commit of the cursor fails.
   */
  close(): Promise<void> {
    this.closing ??= this.destroying ?? this.shutDown();
    return this.closing;
  }

  /**
   * Aborts without draining: no new calls; a waiting iteration or call ends at once; the cursor file
   * and its lock are released now, without committing what moved since the last durable commit (those
   * records are handed out again, as after a crash). A handler already running is not waited for and
   * its outcome is not committed; the processing call it belongs to rejects with `err`
   * (ERR_LOG_CLOSED without one) once the handler returns and the call's pool and dead-letter log
   * are stopped; an iteration's next step throws or rejects with `err` (without one, it ends). Resolves once the files and the lock are released. Safe to call twice (the same
   * promise) and after close() (then it does nothing).
   */
  destroy(err?: Error): Promise<void> {
    this.destroying ??= this.abort(err);
    return this.destroying;
  }

  private async abort(err: Error | undefined): Promise<void> {
    this.lagWatch?.close();
    if (this.feed.isReleased) return this.feed.cutRelease(); // close() is releasing: a commit it retries ends now
    // What the call in progress rejects with: the caller's error, or ERR_LOG_CLOSED for anything else.
    this.calls.destroyedWith = err instanceof Error ? err : LogError.closed('consumer');
    this.destroyError = err === undefined || err === null ? null : this.calls.destroyedWith;
    this.feed.requestClose();
    // Nothing is committed: a failure releasing (a close(2) of the cursor file that reports EIO) changes
    // nothing destroy() promises, and the pools and the dead-letter log are stopped all the same.
    try {
      await this.feed.release(false);
    } catch { /* the descriptors and the lock are released whatever the close reported */ }
    await this.calls.stopAfterCall();
  }

  private async shutDown(): Promise<void> {
    this.lagWatch?.close();
    this.feed.requestClose();
    // Without a processing call this runs on at once, inside close(): nothing is committed after it.
    const callEnded = this.feed.callEnded;
    if (callEnded !== null) await callEnded;
    // destroy() while this close waited: it released everything already.
    if (this.destroying !== null) return this.destroying;
    try {
      await this.feed.release(true);
    } finally {
      await this.calls.close();
    }
  }

  /** `await using`: close(). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
