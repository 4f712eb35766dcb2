/**
 * The producer handle: one per log directory, on the caller's thread. `append` copies the record into
 * the shared ring and returns its offset; the writer thread does the rest. Durability is awaited with
 * `flush()`; failures of the writer surface here as LogErrors.
 */
import { hasBackend, type BackendProducer, type BackendProducerOptions } from '../backend/backend-types.js';
import { openBackendProducer } from '../backend/open-producer.js';
import { LogError } from '../errors.js';
import type { AppendOptions } from '../format/record.js';
import type { ConnectOptions } from '../funnel/client-socket.js';
import { RemoteProducer } from '../funnel/remote-producer.js';
import { I32, I64, State, loadOffset, type ControlViews } from '../ring/layout.js';
import type { BatchRecord } from '../ring/ring-appender.js';
import type { RecoveryReport } from '../types.js';
import { noExtraArguments, signalOnly, writableOptions } from '../validate.js';
import type { RollResult, SegmentEntry } from '../writer/control-port.js';
import { readStats, type ProducerStats } from '../writer/writer-stats.js';
import { AttachedProducer } from './attached-producer.js';
import { flushAborted, waitDurable } from './durable-wait.js';
import { openWriter } from './open-writer.js';
import type { OwnerAppends } from './owner-appends.js';
import type { ProducerOptions, ResolvedProducerOptions } from './options.js';
import { startProducer, wireProducer, type ProducerParts } from './producer-parts.js';
import { makeToken, type ProducerToken } from './producer-token.js';
import { waitWritable } from './writable.js';

/**
 * A producer: the one appender of a log directory (ERR_LOG_LOCKED for a second one, in any process),
 * with its writer thread. Open it with {@link Producer.open}; `close()` drains and fsyncs,
 * `destroy(err)` aborts. A producer not closed is closed at process exit (drained and fsynced, within
 * 10 s); if that fails or times out, stderr names the records not durable and a 0 exit code becomes 1.
 */
export class Producer {
  /** What recovery found and did when this producer opened the directory: a torn tail cut, leftover files removed. */
  readonly recovery: RecoveryReport;
  /** The options with every default applied (`logDir` as its real path); see {@link ProducerOptions}. */
  readonly options: ResolvedProducerOptions;
  /**
   * Resolves with the writer's error when the writer fails (it never settles otherwise): a failure is
   * seen without polling `error` or waiting for an append or flush to throw. destroy() is not a failure.
   * Waiting on it does not keep the process alive (neither does the writer thread).
   *
   * @example
   * ```ts
   * void producer.failed.then((err) => console.error('log stopped:', err.code, err.message));
   * ```
   */
  readonly failed: Promise<LogError>;
  /** The handle's parts (producer-parts.ts): writer link, appends, shutdown, flush's waiter. */
  private readonly p: ProducerParts;
  /** The control block and the appends, one load away on the append path. */
  private readonly c: ControlViews;
  private readonly appends: OwnerAppends;

  private constructor(parts: ProducerParts) {
    this.p = parts;
    this.c = parts.c;
    this.appends = parts.appends;
    this.options = parts.options;
    this.recovery = parts.recovery;
    this.failed = parts.link.failed;
  }

  /**
   * Opens (creating if needed) the log directory for appending. Recovery runs first, on the writer
   * thread: a torn tail is cut and leftovers of an interrupted roll or retention are removed
   * ({@link Producer.recovery}). The directory stays locked until `close()` or `destroy()`.
   *
   * @param options - The log directory and the options; every one but `logDir` has a default.
   * @throws {@link LogError} `ERR_INVALID_OPTION` for an option unknown, of the wrong type or out of
   *   range, a `logDir` that names (or passes through) a file, or a directory not empty that holds
   *   none of a log's files (nothing is written there); `ERR_LOG_LOCKED` while another live producer
   *   (in any process, thread or copy of the module) holds the directory; `ERR_LOG_CORRUPT` when
   *   recovery finds damage that is not a torn tail; `ERR_UNSUPPORTED_FORMAT` for a segment of a newer
   *   format (nothing is changed); `ERR_IO` or `ERR_DISK_FULL` when creating, reading or recovering
   *   the files fails; `ERR_WRITER_FAILED` when the writer thread fails to start.
   *
   * @example
   * ```ts
   * import { Producer, SyncPolicy } from 'reactive-log';
   *
   * const producer = await Producer.open({ logDir: './data/orders', syncPolicy: SyncPolicy.always() });
   * const offset = producer.append(JSON.stringify({ id: 1 }));
   * await producer.flush(); // the record at `offset` is now fsynced
   * await producer.close();
   * ```
   */
  static open(options: ProducerOptions): Promise<Producer>;
  /** On a backend (`reactive-log/jetstream`) instead of a log directory: see {@link BackendProducerOptions}. */
  static open(options: BackendProducerOptions): Promise<BackendProducer>;
  static async open(options: ProducerOptions | BackendProducerOptions): Promise<Producer | BackendProducer> {
    // The backend seam (src/backend/): the engine opens its own handle.
    if (hasBackend(options)) return openBackendProducer(options);
    const opened = await openWriter(options);
    const producer = new Producer(wireProducer(opened));
    try {
      await startProducer(producer.p, opened, (data, opts) => producer.append(data, opts), () => producer.flush());
      return producer;
    } catch (e) {
      await producer.close().catch(() => undefined);
      throw e;
    }
  }

  /**
   * In a thread of the owner's process, a handle on the producer `token` (from `producer.share()`)
   * came from: the same synchronous append, offsets dense across every handle.
   *
   * @param token - What {@link Producer.share} returned, posted to this thread unchanged.
   * @throws {@link LogError} `ERR_INVALID_OPTION` for anything but such a token (a token of another
   *   version of reactive-log too); `ERR_LOG_CLOSED` when that producer is closed; the writer's code
   *   when the log has failed.
   *
   * @example
   * ```ts
   * // main thread
   * new Worker(new URL('./appender.js', import.meta.url), { workerData: producer.share() });
   * // appender.js (import { workerData } from 'node:worker_threads')
   * const handle = Producer.attach(workerData);
   * handle.append('from a worker');
   * await handle.close();
   * ```
   */
  static attach(token: ProducerToken): AttachedProducer {
    return AttachedProducer.attach(token);
  }

  /**
   * Appends one record and returns its offset. Synchronous: copies the bytes into the shared ring,
   * waiting (bounded by appendTimeoutMs) while the ring is full. The writer thread writes it soon
   * after; it is durable once `flush()` resolves (or as the sync policy says). With a dedup window
   * (the `dedupWindow` option), `opts.dedupKey` makes the append idempotent: a key the window holds
   * returns the offset of the record that carried it, and nothing is appended.
   *
   * @param data - The record's bytes; a string is stored as UTF-8 (a lone surrogate as U+FFFD, as Buffer.from stores it).
   * @param opts - The record's key, headers and dedup key.
   * @returns The record's offset.
   * @throws {@link LogError} `ERR_LOG_FULL` when the ring stays full for `appendTimeoutMs`;
   *   `ERR_RECORD_TOO_LARGE` when data, key and headers exceed `maxRecordBytes` or a limit of a key or
   *   header; `ERR_INVALID_RECORD` for a key, headers or dedup key of the wrong type or shape (a dedup
   *   key also without the `dedupWindow` option); `ERR_INVALID_OPTION` when `data` is not a string or
   *   a Uint8Array (nothing is appended on any of these); `ERR_LOG_CLOSED` after `close()` or
   *   `destroy()`; the writer's error (such as `ERR_IO`, `ERR_DISK_FULL`) once it has failed.
   *
   * @example
   * ```ts
   * const offset = producer.append(JSON.stringify(order), { key: order.customerId, headers: { type: 'order-created' } });
   * ```
   */
  append(data: Uint8Array | string, opts?: AppendOptions): number {
    // One load: close(), destroy(), the exit hook and every writer failure leave STATE past RUNNING
    // before they return (throwStopped then names the cause).
    if (Atomics.load(this.c.i32, I32.STATE) !== State.RUNNING) this.throwStopped();
    return this.appends.append(data, opts);
  }

  /**
   * Appends the records as one unit and returns the first one's offset; the others follow it. All or
   * nothing: no reader ever sees a part of the batch, and after any crash the log holds every record
   * of it or none. Each record is its data, or `{ data, key?, headers? }`. The batch must fit the ring
   * (`ringBytes`), each record `maxRecordBytes`; every record is checked before any is copied, so a
   * refused batch appends nothing. An empty batch appends nothing and returns `nextOffset`.
   *
   * @param records - The records, in order; a dedup key is refused here.
   * @returns The offset of the first record.
   * @throws {@link LogError} as {@link Producer.append} does, and `ERR_RECORD_TOO_LARGE` when the batch
   *   does not fit the ring; `ERR_INVALID_RECORD` for a record of the wrong shape or with a dedup key.
   *
   * @example
   * ```ts
   * const first = producer.appendBatch(['debit', { data: 'credit', key: accountId }]); // first, first + 1
   * ```
   */
  appendBatch(records: readonly BatchRecord[]): number {
    if (Atomics.load(this.c.i32, I32.STATE) !== State.RUNNING) this.throwStopped(); // as in append()
    return this.appends.appendBatch(records);
  }

  /**
   * Resolves once the ring has room for a record of `options.bytes` bytes (data plus key and headers;
   * default 0), so that the next `append` of such a record returns without waiting. It waits without
   * blocking the event loop, for as long as the writer needs (no appendTimeoutMs: pass a `signal` to
   * bound it, ERR_ABORTED then); rejects with the log's error if it stops meanwhile.
   *
   * @throws {@link LogError} `ERR_ABORTED` when `signal` aborts first; `ERR_INVALID_OPTION` when `bytes`
   *   is not a whole number from 0 to `maxRecordBytes`; `ERR_LOG_CLOSED` or the writer's error when the
   *   producer stops.
   *
   * @example
   * ```ts
   * for (const r of records) {
   *   await producer.writable({ bytes: r.byteLength });
   *   producer.append(r);
   * }
   * ```
   */
  async writable(options: { bytes?: number; signal?: AbortSignal } = {}): Promise<void> {
    const { bytes, signal } = writableOptions(options, this.options.maxRecordBytes);
    if (this.p.shutdown.stopped || this.p.link.failure !== null) this.throwStopped();
    await waitWritable(this.c, this.options.ringBytes, bytes, () => this.throwStopped(), signal);
  }

  /**
   * The writer's figures since this producer opened (records, bytes, frames, fsyncs and their
   * latency, records per frame, rolls, deletions, time blocked by retention, the writer's sleeps) and
   * the ring's fill now. Synchronous: read from shared memory; callable after close.
   */
  stats(): ProducerStats {
    noExtraArguments('options', 'producer.stats() (it takes no options)', arguments.length, 0);
    return readStats(this.p.shared.stats!, this.c, this.options.ringBytes);
  }

  /**
   * Seals the active segment now and starts a new one, as reaching `fileRollSize` does: the sealed
   * segment and its index are fsynced, and retention runs (once the roll's durable offset is
   * published: at once, or when a write-behind call running then ends). Records the writer has written by then
   * are in the sealed segment; the rest go to the new one (call `flush()` first to seal them all).
   * Answered by the writer thread between two groups of records; resolves with null, rolling
   * nothing, while the active segment holds no record.
   *
   * @throws {@link LogError} `ERR_LOG_CLOSED` after `close()` or `destroy()` (also when either one
   *   races the call); the writer's error once it has failed (such as `ERR_IO` from the fsync).
   *
   * @example
   * ```ts
   * await producer.flush();
   * const rolled = await producer.roll(); // { sealed: { baseOffset, endOffset, bytes }, baseOffset } or null
   * ```
   */
  async roll(): Promise<RollResult | null> {
    this.ensureRunning();
    return this.p.link.call((w) => w.roll(), () => this.throwStopped());
  }

  /**
   * The log's segments as the writer holds them, oldest first, the active one last with its size and
   * end as written so far. From the writer thread (a control call); {@link inspectLog} reads the same
   * from the files, from any process.
   *
   * @throws {@link LogError} `ERR_LOG_CLOSED` after `close()` or `destroy()`; the writer's error once it has failed.
   */
  async segments(): Promise<SegmentEntry[]> {
    this.ensureRunning();
    return this.p.link.call((w) => w.segments(), () => this.throwStopped());
  }

  /** The offset the next append will get (of any handle, once shared). */
  get nextOffset(): number {
    return this.appends.nextOffset;
  }

  /**
   * A token for `Producer.attach(token)` in another thread of this process (post it to a worker; it
   * holds the log's shared memory). From the first call on, every handle appends under one lock and
   * the offsets are dense across all of them. Closing this producer closes the attached handles.
   *
   * @throws {@link LogError} `ERR_LOG_CLOSED` after `close()` or `destroy()`; the writer's error once failed.
   */
  share(): ProducerToken {
    this.ensureRunning();
    this.appends.share();
    return makeToken(this.p.shared, this.options);
  }

  /** Every offset below this is fsynced. */
  get durableOffset(): number {
    return loadOffset(this.c, I64.DURABLE_OFFSET);
  }

  /** Every offset below this is written to a segment file and visible to readers. */
  get writtenOffset(): number {
    return loadOffset(this.c, I64.WRITTEN_OFFSET);
  }

  /** The first offset still stored (retention raises it). */
  get logStartOffset(): number {
    return loadOffset(this.c, I64.LOG_START_OFFSET);
  }

  /** The error that stopped this producer, or null while it runs. */
  get error(): LogError | null {
    return this.p.link.error;
  }

  /**
   * Resolves when every record appended before the call is fsynced. Rejects with the writer's error
   * once the writer has failed, even when every record was already durable (a failure while idle).
   * When `options.signal` aborts first (or was aborted already), the call rejects at once with
   * ERR_ABORTED, the signal's reason as its `cause`. Only the wait stops: the producer goes on, and
   * the records become durable as the sync policy says (a later `flush()` waits for them).
   *
   * @throws {@link LogError} `ERR_LOG_CLOSED` after `close()` or `destroy()` (a flush waiting when `destroy(err)` is
   *   called rejects with `err`); `ERR_ABORTED` when `signal` aborts first; `ERR_LOG_FULL` when retention keeps the
   *   writer from writing for `appendTimeoutMs`; the writer's error (`ERR_IO`, `ERR_DISK_FULL`, ...) once it has failed.
   *
   * @example
   * ```ts
   * await producer.flush({ signal: AbortSignal.timeout(5_000) }); // ERR_ABORTED after 5 s
   * ```
   */
  async flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.p.shutdown.released || this.p.shutdown.destroying !== null) throw LogError.closed('producer');
    const signal = signalOnly(options);
    if (signal?.aborted === true) throw flushAborted(signal);
    await waitDurable(this.p.durableWaiter, this.nextOffset, signal);
  }

  /**
   * Drains the ring, fsyncs, stops the writer thread and releases the lock. Safe to call twice (the
   * same promise). After destroy() it returns destroy()'s promise; a close that destroy() interrupts
   * rejects with destroy()'s error (ERR_LOG_CLOSED without one).
   *
   * @throws {@link LogError} the writer's error when the writer failed before or while draining.
   */
  close(): Promise<void> {
    return this.p.shutdown.close();
  }

  /**
   * Aborts without draining: stops the writer thread where it is and releases the lock. Records not
   * yet written (or written and not yet fsynced) may be lost; the next open recovers the log to a
   * valid prefix of what was appended. flush() calls waiting now reject with `err` (ERR_LOG_CLOSED
   * without one), at once; later calls fail with ERR_LOG_CLOSED. Resolves once the thread has stopped
   * (a thread blocked inside a system call, such as an fsync on a hung device, stops when the call
   * returns) and the lock is released; until then the process stays alive, as for close(). Safe to
   * call twice (the same promise) and after close() (then it does nothing).
   */
  destroy(err?: Error): Promise<void> {
    return this.p.shutdown.destroy(err);
  }

  /** `await using`: close(). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Connects to the producer of `options.logDir` from another process (its owner opened it with acceptConnections: true). See docs/funnel.md. */
  static connect(options: ConnectOptions): Promise<RemoteProducer> {
    return RemoteProducer.connect(options);
  }

  /** Throws why the producer stopped, unless it runs: not closed or destroyed, the writer alive. */
  private ensureRunning(): void {
    if (this.p.shutdown.stopped || this.p.link.failure !== null || Atomics.load(this.c.i32, I32.STATE) !== State.RUNNING) this.throwStopped();
  }

  private readonly throwStopped = (): never => this.p.throwStopped();
}

