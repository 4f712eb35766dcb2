/**
 * The public face of a storage backend other than a local log directory: what `Producer.open({
 * backend })` and `Consumer.open({ backend })` take, and the producer handle a backend returns.
 * A backend object comes from its own subpath (`import { jetstream } from 'reactive-log/jetstream'`),
 * so the main entry never loads the client library of an engine.
 */
import type { AppendOptions } from '../format/record.js';
import type { StartRequest } from '../consumer/start-plan.js';
import type { CursorStore, LogSource, RecordReader } from '../consumer/log-source.js';
import type { DedupWindowOption } from '../producer/dedup-window.js';
import type { SyncPolicy } from '../producer/options.js';
import type { ConsumerOptions } from '../types.js';
import type { ProducerStats } from '../writer/writer-stats.js';
import type { LogInfo } from '../admin/inspect-types.js';

/**
 * A storage engine for a log, made by a backend factory such as `jetstream(options)` from
 * `reactive-log/jetstream`. Pass it as `backend` to {@link Producer.open} and {@link Consumer.open}
 * instead of `logDir`. Its methods are the library's own.
 */
export interface LogBackend {
  /** The engine's name, e.g. `'jetstream'`. */
  readonly engine: string;
  /** Names the log (for a JetStream backend: `jetstream:<stream>`); `ctx.logId` of its consumers. */
  readonly logId: string;
  /** @internal Opens the producer handle of this log. */
  openProducer(options: BackendProducerOptions): Promise<BackendProducer>;
  /** @internal Opens a consumer's reader, source and cursor. */
  openConsumer(options: StartRequest): Promise<BackendConsumerParts>;
  /** @internal What `inspectLog({ backend })` reports of the log. */
  inspect(): Promise<LogInfo>;
}

/** @internal What a backend gives Consumer.open: the three parts of the seam (src/consumer/log-source.ts). */
export interface BackendConsumerParts {
  readonly source: LogSource;
  readonly reader: RecordReader;
  readonly cursor: CursorStore | null;
}

/**
 * Options of {@link Producer.open} on a backend. A backend refuses, with `ERR_INVALID_OPTION`, any
 * option it does not support yet, and says at open (a warning with a code) where it gives a weaker
 * guarantee than a local log; see docs/jetstream.md.
 */
export interface BackendProducerOptions {
  /** The engine, from a backend factory (e.g. `jetstream({ ... })`). Required; `logDir` must not be given. */
  backend: LogBackend;
  /**
   * What `flush()` and a durable acknowledgement mean on this engine: see docs/jetstream.md.
   * @defaultValue `SyncPolicy.periodic(1000)`
   */
  syncPolicy?: SyncPolicy;
  /**
   * How long `append` may wait for room in the producer's queue before ERR_LOG_FULL, ms; from 0 to
   * 3,600,000. The queue holds the records not yet acknowledged by the engine.
   * @defaultValue `10_000`
   */
  appendTimeoutMs?: number;
  /**
   * Largest record accepted (data, key and headers); larger ones throw ERR_RECORD_TOO_LARGE.
   * @defaultValue `1_048_576` for JetStream (the server's default max_payload), or less when the server says so
   */
  maxRecordBytes?: number;
  /** Makes `append(data, { dedupKey })` return the earlier offset of a key seen within the window. */
  dedupWindow?: DedupWindowOption;
  /**
   * The engine removes the oldest records past this total (on JetStream: the stream's `max_bytes`,
   * record by record); null lifts the limit.
   * @defaultValue the engine's limit is left as it is
   */
  maxTotalBytes?: number | null;
  /**
   * The engine removes records older than this, ms (on JetStream: the stream's `max_age`, at least
   * 100 ms); null lifts the limit.
   * @defaultValue the engine's limit is left as it is
   */
  maxFileAge?: number | null;
}

/**
 * The producer handle of a backend: the synchronous `append` of a local producer, the records then
 * sent to the engine in the background, in order.
 */
export interface BackendProducer {
  /**
   * Queues a record and returns its offset (synchronously). The record is sent in the background;
   * `flush()` waits for the engine's acknowledgement.
   * @throws {@link LogError} `ERR_LOG_FULL` when the queue stays full for `appendTimeoutMs`;
   *   `ERR_RECORD_TOO_LARGE`; `ERR_INVALID_RECORD`; `ERR_LOG_CLOSED`; the error the producer failed with
   *   (`ERR_LOG_LOCKED` when another producer appended to the log).
   */
  append(data: Uint8Array | string, opts?: AppendOptions): number;
  /**
   * Resolves when every record appended before the call is acknowledged by the engine. When
   * `options.signal` aborts first (or was aborted already), the call rejects with ERR_ABORTED, the
   * signal's reason as its `cause`; only the wait ends, as for a local producer.
   * @throws {@link LogError} the error the producer failed with; `ERR_LOG_CLOSED` after `close()`
   *   or `destroy()`; `ERR_ABORTED` when `signal` aborts first; `ERR_INVALID_OPTION` for options
   *   other than `{ signal }`.
   */
  flush(options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Resolves once the queue has room for a record of `bytes` bytes; `append` throws ERR_LOG_FULL
   * at once while it has none (it cannot wait for the network on the caller's thread).
   * @throws {@link LogError} `ERR_LOG_FULL` when there is no room within `appendTimeoutMs`;
   *   `ERR_ABORTED` when `signal` aborts first; `ERR_INVALID_OPTION` when `bytes` is not a whole number
   *   from 0 to `maxRecordBytes`; the error the producer failed with; `ERR_LOG_CLOSED` once `close()`
   *   or `destroy()` was called.
   */
  writable(options?: { bytes?: number; signal?: AbortSignal }): Promise<void>;
  /** The offset the next append will get. */
  readonly nextOffset: number;
  /** Every offset below this is acknowledged by the engine. */
  readonly durableOffset: number;
  /** The error the producer stopped on, else null. */
  readonly error: Error | null;
  /**
   * The producer's counters since it opened and its queue now: the figures of a local producer where
   * the engine has them (the others 0), and those of the engine's acknowledgements. Synchronous;
   * callable after close. What each figure means on JetStream: docs/jetstream.md.
   */
  stats(): BackendProducerStats;
  /** Sends what is queued, waits for its acknowledgements, releases the producer lease; idempotent. */
  close(): Promise<void>;
  /** Stops without sending what is queued; releases the lease; idempotent. */
  destroy(err?: Error): Promise<void>;
  /** `await using`: close(). */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * What `producer.stats()` returns on a backend: {@link ProducerStats}, and the figures of the engine's
 * acknowledgements. On JetStream (docs/jetstream.md): `records` and `bytes` count what the stream
 * acknowledged (bytes: data, key and headers as `maxRecordBytes` counts them); `frames` counts the
 * publishes (one record each; one sent again after a resync counts again) and `batchRecords` is 1
 * once one was sent; `ringBytes` and `ringFill` are the queue of records not yet acknowledged against
 * `maxQueueBytes`; `fsyncs`, `fsyncMs`, `rolls`, `segmentsDeleted`, `retentionBlockedMs` and
 * `writerSleeps` are 0 (the server's own fsyncs and files are not seen by the client, and no writer
 * thread runs).
 */
export interface BackendProducerStats extends ProducerStats {
  /** Every offset below this is acknowledged by the engine (the producer's `durableOffset`). */
  readonly acknowledgedOffset: number;
  /** Publishes sent that await their acknowledgement now. */
  readonly inFlight: number;
  /** Records appended and not yet acknowledged now (those in flight included). */
  readonly queuedRecords: number;
  /** Resyncs started after a failed publish (docs/jetstream.md). */
  readonly resyncs: number;
  /**
   * Time from a publish to its acknowledgement, ms (records a resync found stored are not counted).
   * A percentile is the upper bound of its histogram bucket, at most about 19% above the true figure;
   * `max` and `mean` are exact. All 0 before the first acknowledgement.
   */
  readonly ackMs: {
    /** Median. */ readonly p50: number;
    /** 99th percentile. */ readonly p99: number;
    /** Slowest. */ readonly max: number;
    /** Mean. */ readonly mean: number;
  };
}

/** Options of {@link Consumer.open} on a backend: those of a log directory, with `backend` for `logDir`. */
export type BackendConsumerOptions = Omit<ConsumerOptions, 'logDir'> & {
  /** The engine, from a backend factory (e.g. `jetstream({ ... })`). Required; `logDir` must not be given. */
  backend: LogBackend;
};

/** Whether `options` names a backend (then `logDir` must be absent). */
export function hasBackend(options: unknown): options is { backend: LogBackend } {
  return typeof options === 'object' && options !== null && (options as { backend?: unknown }).backend !== undefined;
}

/** Checks a `backend` option: an object made by a backend factory. */
export function isLogBackend(b: unknown): b is LogBackend {
  return typeof b === 'object' && b !== null && typeof (b as LogBackend).engine === 'string' &&
    typeof (b as LogBackend).openProducer === 'function' && typeof (b as LogBackend).openConsumer === 'function';
}
