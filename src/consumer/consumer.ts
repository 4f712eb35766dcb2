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
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TxCursor } from '../cursor/tx-cursor.js';
import { ErrorCode, LogError } from '../errors.js';
import { describe, requireInt } from '../validate.js';
import { localProducer } from '../producer/registry.js';
import {
  endSeq, endSlots, publishedEnd, writerPublishing, type ControlViews,
} from '../ring/layout.js';
import { LogReader } from '../reader/log-reader.js';
import { readDurableHint } from '../storage/durable-hint.js';
import { fileIO, fileIONow, type FileIO } from '../storage/file-io.js';
import type { Handler, Message, ProcessSummary } from '../types.js';
import { resolveConsumerOptions, type ConsumerOptions, type ResolvedConsumerOptions } from './consumer-options.js';
import { DeadLetterSink } from './dead-letter.js';
import { ConsumerPool, resolvePoolOptions, type PoolHost, type PoolOptions } from './pool.js';
import { runProcess, type RecordSource } from './process.js';
import { openStart, realLogDir, visibilityOf } from './consumer-start.js';
import { TailIterator } from './tail-iterator.js';
import { Waiter } from './waiter.js';

export class Consumer implements AsyncIterable<Message> {
  private readonly reader: LogReader;
  private readonly waiter: Waiter;
  /** close() was called: no new calls, no new records; a call in progress ends after its record. */
  private closed = false;
  /** The files and the cursor lock are closed: nothing is committed any more. */
  private shut = false;
  private closing: Promise<void> | null = null;
  private destroying: Promise<void> | null = null;
  /** What a processing call in progress when destroy() was called rejects with. */
  private destroyedWith: Error | null = null;
  /** Aborted by close(): cuts a processing call's retry delay short, wakes a pool's coordinator. */
  private readonly closeRequest = new AbortController();
  /** While a processing call runs: resolves once it has ended (its last outcome committed). */
  private callEnded: Promise<void> | null = null;
  private endCall: () => void = () => undefined;
  private busy = false;
  /** A record handed out and not completed; handed out first next time. */
  private pending: Message | null = null;
  private deadLetters: DeadLetterSink | null = null;
  private readonly source: RecordSource;

  private constructor(
    private readonly io: FileIO,
    /** The real path of the log directory; with an offset it makes an idempotency key. */
    readonly logId: string,
    private readonly opts: ResolvedConsumerOptions,
    private readonly cursor: TxCursor | null,
    /** Positioned at the first record to hand out. */
    reader: LogReader,
  ) {
    this.reader = reader;
    this.waiter = new Waiter(logId, opts.pollIntervalMs);
    this.source = {
      logId,
      hasState: cursor !== null,
      take: () => this.take(),
      wait: (signal) => this.wait(signal),
      complete: (msg, state) => this.complete(msg, state),
      isClosed: () => this.closed,
      closeRequested: this.closeRequest.signal,
      currentState: () => this.cursor?.currentState ?? null,
    };
  }

  /**
   * Opens a consumer. Transactional styles take the cursor's lock (ERR_CURSOR_LOCKED while another
   * live process holds it) and start where the cursor points (a new cursor: the oldest record).
   * `logDir` is a log or an empty directory; anything else is ERR_INVALID_OPTION, with nothing
   * written there (see log-dir.ts).
   */
  static async open(options: ConsumerOptions): Promise<Consumer> {
    const opts = resolveConsumerOptions(options);
    const realDir = realLogDir(opts.logDir);
    const io = fileIONow() ?? await fileIO();
    const { cursor, reader } = openStart(io, realDir, opts);
    return new Consumer(io, realDir, opts, cursor, reader);
  }

  /** The offset of the next record this consumer will hand out. */
  get position(): number {
    return this.pending?.offset ?? this.reader.nextOffset;
  }

  /** Transactional styles: the durable cursor (every record below it is committed). Else null. */
  get committedOffset(): number | null {
    return this.cursor?.committedOffset ?? null;
  }

  /** Transactional styles: the state committed with the cursor (as last set), or null. */
  get state(): Uint8Array | null {
    return this.cursor?.currentState ?? null;
  }

  /** Nonblocking: the records in the log now, then it ends. */
  *iter(): Generator<Message, void, undefined> {
    this.enter();
    try {
      for (;;) {
        const m = this.take();
        if (m === null) return;
        yield m;
        this.complete(m, undefined); // the loop asked for the next one
      }
    } finally {
      this.leave();
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<Message, void, undefined> {
    return this.tail();
  }

  /** Blocking: waits for new records; ends on break, close() or when `signal` aborts (see TailIterator). */
  tail(options: { signal?: AbortSignal } = {}): AsyncGenerator<Message, void, undefined> {
    return new TailIterator({
      begin: () => {
        if (options === null || typeof options !== 'object') throw LogError.invalidOption('options', `expected an object, got ${describe(options)}`);
        const signal = checkSignal(options.signal);
        this.enter();
        return signal;
      },
      take: () => this.take(),
      complete: (m) => this.complete(m, undefined),
      wait: (signal) => this.wait(signal),
      isClosed: () => this.closed,
      end: () => this.leave(),
    });
  }

  /**
   * Runs `handler` over the records in the log now, up to `max` completed (null: no limit). With a
   * handler module (path or URL; its default export is the handler) the records are processed in a
   * pool of worker threads (`options.workers`).
   */
  nonblockingProcess(max: number | null, handler: Handler): Promise<ProcessSummary>;
  nonblockingProcess(max: number | null, handler: string | URL, options?: Omit<PoolOptions, 'signal'>): Promise<ProcessSummary>;
  nonblockingProcess(max: number | null, handler: Handler | string | URL, options: Omit<PoolOptions, 'signal'> = {}): Promise<ProcessSummary> {
    return this.process(max, handler, false, options);
  }

  /** Runs `handler` over records as they come, until `max`, 'break', close() or the signal aborts. */
  blockingProcess(max: number | null, handler: Handler, options?: { signal?: AbortSignal }): Promise<ProcessSummary>;
  blockingProcess(max: number | null, handler: string | URL, options?: PoolOptions): Promise<ProcessSummary>;
  blockingProcess(max: number | null, handler: Handler | string | URL, options: PoolOptions = {}): Promise<ProcessSummary> {
    return this.process(max, handler, true, options);
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
   * (ERR_LOG_CLOSED without one) once the handler returns, and the call's pool and dead-letter log
   * are stopped then. Resolves once the files and the lock are released. Safe to call twice (the same
   * promise) and after close() (then it does nothing).
   */
  destroy(err?: Error): Promise<void> {
    this.destroying ??= this.abort(err);
    return this.destroying;
  }

  private async abort(err: Error | undefined): Promise<void> {
    if (this.shut) return; // close() already released everything
    this.destroyedWith = err ?? LogError.closed('consumer');
    this.closed = true;
    this.closeRequest.abort();
    this.waiter.close();
    this.shut = true;
    try {
      this.reader.close();
    } finally {
      this.cursor?.drop();
    }
    // Pools and the dead-letter log serve the call in progress: stopped once it has ended.
    const stopHelpers = (): Promise<unknown> => Promise.allSettled([
      ...[...this.pools.values()].map((p) => p.close()),
      this.deadLetters?.destroy(),
    ]);
    if (this.callEnded === null) await stopHelpers();
    else void this.callEnded.then(stopHelpers);
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    this.closeRequest.abort();
    this.waiter.close();
    // Without a processing call this runs on at once, inside close(): nothing is committed after it.
    if (this.callEnded !== null) await this.callEnded;
    // destroy() while this close waited: it released everything already.
    if (this.destroying !== null) return this.destroying;
    this.shut = true;
    this.reader.close();
    try {
      this.cursor?.close();
    } finally {
      if (this.pools.size > 0) await Promise.all([...this.pools.values()].map((p) => p.close()));
      if (this.deadLetters !== null) await this.deadLetters.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Awaits a processing call that entered; one that destroy() interrupts rejects with destroy()'s
   * error. Inside the caller's try, so the call still ends (leave()) before close() goes on.
   */
  private async interruptible(call: Promise<ProcessSummary>): Promise<ProcessSummary> {
    let summary: ProcessSummary;
    try {
      summary = await call;
    } catch (e) {
      throw this.destroyedWith ?? e;
    }
    if (this.destroyedWith !== null) throw this.destroyedWith;
    return summary;
  }

  private async process(max: number | null, handler: Handler | string | URL, blocking: boolean, options: PoolOptions): Promise<ProcessSummary> {
    if (max !== null) requireInt('max', max, 0, Number.MAX_SAFE_INTEGER);
    if (options === null || typeof options !== 'object') throw LogError.invalidOption('options', `expected an object, got ${describe(options)}`);
    checkSignal(options.signal);
    const deadLetters = (): DeadLetterSink => (this.deadLetters ??= new DeadLetterSink(this.opts.retry.deadLetterDir, this.logId));
    if (typeof handler === 'function') {
      for (const k of ['workers', 'timeoutMs', 'batchRecords'] as const) {
        if (options[k] !== undefined) throw LogError.invalidOption(k, 'a worker pool takes a handler module (a path or URL whose default export is the handler), not a function');
      }
      this.enter(true);
      try {
        return await this.interruptible(runProcess(this.source, max, handler, blocking, options.signal, this.opts.retry, deadLetters));
      } finally {
        this.leave();
      }
    }
    if (typeof handler !== 'string' && !(handler instanceof URL)) {
      throw LogError.invalidOption('handler', `expected a function, or a module path or URL, got ${describe(handler)}`);
    }
    const url = handler instanceof URL ? handler.href : pathToFileURL(resolvePath(handler)).href;
    if (url.startsWith('file:') && !existsSync(fileURLToPath(url))) {
      throw LogError.invalidOption('handler', `no handler module at ${fileURLToPath(url)} (a handler is a function, or a module path or URL whose default export is the handler)`);
    }
    const popts = resolvePoolOptions(options);
    this.enter(true);
    try {
      let pool = this.pools.get(popts.workers);
      if (pool === undefined) {
        pool = new ConsumerPool(popts.workers);
        this.pools.set(popts.workers, pool);
      }
      this.poolDone = this.position;
      try {
        return await this.interruptible(pool.run(this.makePoolHost(), max, url, blocking, popts, this.opts.retry, deadLetters));
      } finally {
        // The pool read ahead on its own; put the consumer's reader at the first record not done
        // (not after close(): that would open a segment again).
        this.pending = null;
        if (!this.closed) this.reader.seek(this.poolDone);
        this.bound = { limit: 0, strict: false };
      }
    } finally {
      this.leave();
    }
  }

  private readonly pools = new Map<number, ConsumerPool>();
  private poolDone = 0;
  private makePoolHost(): PoolHost {
    return {
      logId: this.logId,
      position: () => this.poolDone,
      availableEnd: () => {
        const b = this.limit();
        return b.limit !== Infinity ? b.limit : this.reader.bounds().end;
      },
      wait: (signal, after) => this.wait(signal, after),
      endSource: () => {
        const c = this.sharedControl();
        if (c === null) return null;
        return { control: c.i32.buffer as SharedArrayBuffer, ...endSlots(visibilityOf(this.opts.durableOnly)), strict: true };
      },
      advanceTo: (offset) => {
        this.poolDone = offset;
        if (!this.shut) this.cursor?.advance(offset, undefined); // after destroy() nothing is committed
      },
      readOne: (offset) => {
        const r = new LogReader(this.io, this.logId);
        try {
          r.seek(offset);
          const m = r.read(Infinity, false);
          if (m === null || m.offset !== offset) throw new LogError(ErrorCode.LOG_CORRUPT, `record ${offset} cannot be read back`, { offset });
          return m;
        } finally {
          r.close();
        }
      },
      isClosed: () => this.closed,
      closeRequested: this.closeRequest.signal,
    };
  }

  /** `call`: a processing call, which close() waits for. */
  private enter(call = false): void {
    if (this.closed) throw LogError.closed('consumer');
    if (this.busy) throw new LogError(ErrorCode.CONSUMER_BUSY, 'this consumer is already serving an iteration or a processing call');
    this.busy = true;
    if (call) this.callEnded = new Promise((resolve) => { this.endCall = resolve; });
  }

  private leave(): void {
    this.busy = false;
    this.waiter.disarm();
    try {
      if (!this.shut) this.cursor?.sync();
    } finally {
      // A close() waiting for this call goes on now; the call's own promise settles right after.
      const end = this.endCall;
      this.endCall = () => undefined;
      this.callEnded = null;
      end();
    }
  }

  /** The last limit read; limits only grow, so it is re-read only when the reader reaches it. */
  private bound: { limit: number; strict: boolean } = { limit: 0, strict: false };

  /** The pending record, else the next visible one, else null. It stays pending until completed. */
  private take(): Message | null {
    if (this.closed) return null;
    if (this.pending === null) {
      this.pending = this.reader.read(this.bound.limit, this.bound.strict);
      if (this.pending === null) {
        this.bound = this.limit();
        this.pending = this.reader.read(this.bound.limit, this.bound.strict);
      }
    }
    return this.pending;
  }

  private complete(msg: Message, state: Uint8Array | null | undefined): void {
    // Once the cursor is closed nothing is committed any more: the record comes back. (While close()
    // waits for a processing call, the call's last outcome is still committed.)
    if (this.shut || this.pending !== msg) return;
    this.pending = null;
    this.cursor?.advance(msg.offset + 1, state);
  }

  /** Waits (bounded) for records past the current limit; the cursor is made durable first. */
  private async wait(signal: AbortSignal | undefined, after = this.reader.nextOffset): Promise<void> {
    this.cursor?.sync();
    const c = this.sharedControl();
    if (c !== null) {
      const visibility = visibilityOf(this.opts.durableOnly);
      const seen = endSeq(c, visibility); // before the limit: an end published in between is not missed
      if (this.limit().limit > after) return;
      await this.waiter.onShared(c.i32, endSlots(visibility).seqSlot, seen, signal);
    } else {
      await this.waiter.onFiles(signal);
    }
  }

  /** In the producer's process while it runs: its control block, else null (tail the files). */
  private sharedControl(): ControlViews | null {
    const p = localProducer(this.logId);
    if (p === undefined) return null;
    return writerPublishing(p.views) ? p.views : null;
  }

  /** How far the reader may go, and whether that bound was published by this process's writer. */
  private limit(): { limit: number; strict: boolean } {
    const c = this.sharedControl();
    if (c !== null) return { limit: publishedEnd(c, visibilityOf(this.opts.durableOnly)), strict: true };
    if (!this.opts.durableOnly) return { limit: Infinity, strict: false };
    return { limit: readDurableHint(this.io, this.logId) ?? this.reader.nextOffset, strict: false };
  }
}

/** An AbortSignal or nothing: anything else would fail deep in a wait, or never stop the call. */
function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw LogError.invalidOption('signal', `expected an AbortSignal, got ${describe(signal)}`);
  return signal;
}
