/**
 * The public types of reactive-log, documented here where they are declared: records, where a
 * consumer starts and how it keeps its place, the consumer's options, handlers and what a processing
 * call reports. Dead letters, the producer's recovery report and lag are in src/report-types.ts,
 * the producer's options and `SyncPolicy` in src/producer/options.ts, errors in src/errors.ts, the
 * verify report in src/verify/verify-types.ts.
 */
import { LogError } from './errors.js';
import { describe, noExtraArguments } from './validate.js';
import type { LagThreshold } from './report-types.js';

export type { CursorLag, DeadLetter, LagThreshold, RecoveryReport } from './report-types.js';

/** One record as a consumer sees it. */
export interface Message {
  /** Dense, strictly increasing from 0; the offset of a durable record is never given to another. */
  readonly offset: number;
  /** The bytes appended. A view that stays valid after the next record is read. */
  readonly data: Uint8Array;
  /**
   * ms since epoch: when the writer stored the record's batch. Never decreases along the log, even
   * when the wall clock steps back (the writer keeps the last timestamp until the clock passes it).
   */
  readonly timestamp: number;
  /** The key given to append, as bytes (a string key reads back as its UTF-8 bytes); null without one. */
  readonly key: Uint8Array | null;
  /** The headers given to append, in their order; null without any. */
  readonly headers: Readonly<Record<string, string>> | null;
}

/** Where a non-transactional consumer starts. */
export type Whence =
  | {
    /** The first record still stored. */
    readonly kind: 'oldest';
  }
  | {
    /** The next record appended after the consumer opens. */
    readonly kind: 'latest';
  }
  | {
    /** The record at `offset`. */
    readonly kind: 'position';
    /** The offset to start at. */
    readonly offset: number;
  }
  | {
    /** The first record stored at or after `ms`. */
    readonly kind: 'timestamp';
    /** Milliseconds since the epoch. */
    readonly ms: number;
  };

/** Builds a Whence. */
export const Whence = {
  /** The first record still stored. */
  oldest(): Whence {
    noExtraArguments('whence', 'Whence.oldest()', arguments.length, 0);
    return { kind: 'oldest' };
  },
  /** The next record appended after the consumer opens. */
  latest(): Whence {
    noExtraArguments('whence', 'Whence.latest()', arguments.length, 0);
    return { kind: 'latest' };
  },
  /**
   * The record at `offset` (at most the current end of the log).
   * @throws {@link LogError} `ERR_INVALID_OPTION` unless `offset` is a whole number of at least 0.
   */
  position(offset: number): Whence {
    noExtraArguments('whence', 'Whence.position(offset)', arguments.length, 1);
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
      throw LogError.invalidOption('whence', `position(offset) takes a whole number of at least 0, got ${describe(offset)}`);
    }
    return { kind: 'position', offset };
  },
  /**
   * The first record stored at or after `ms` (ms since epoch), found through the offset index and
   * frame headers, never by reading the log. A time before the log's start gives the oldest record,
   * a time after its end the next record appended.
   * @throws {@link LogError} `ERR_INVALID_OPTION` unless `ms` is a finite number.
   */
  timestamp(ms: number): Whence {
    noExtraArguments('whence', 'Whence.timestamp(ms)', arguments.length, 1);
    if (typeof ms !== 'number' || !Number.isFinite(ms)) {
      throw LogError.invalidOption('whence', `timestamp(ms) takes a finite number of ms since the epoch, got ${describe(ms)}`);
    }
    return { kind: 'timestamp', ms };
  },
} as const;

/** How a consumer keeps its place. */
export type ConsumerStyle =
  | {
    /** At-least-once, no cursor. */
    readonly kind: 'nonTx';
    /** Where it starts each time it opens. */
    readonly whence: Whence;
  }
  | {
    /** Exactly-once with a durable cursor named by `consumerId`. */
    readonly kind: 'clientTx';
    /** The cursor's name: letters, digits, '.', '_' and '-', up to 128 characters, not starting with '.'. */
    readonly consumerId: string;
  }
  | {
    /** Exactly-once with the log's one shared cursor. */
    readonly kind: 'globalTx';
  };

/** Builds a ConsumerStyle. */
export const ConsumerStyle = {
  /** At-least-once, no durable cursor: starts at `whence` every time it opens. */
  nonTx(whence: Whence): ConsumerStyle {
    noExtraArguments('style', 'ConsumerStyle.nonTx(whence)', arguments.length, 1);
    return { kind: 'nonTx', whence };
  },
  /**
   * Exactly-once per consumer id: a durable named cursor. The id is checked by `Consumer.open`
   * (ERR_INVALID_CONSUMER_ID).
   */
  clientTx(consumerId: string): ConsumerStyle {
    // A whence given here would be dropped: a transactional consumer starts at its cursor (a new one at the oldest record).
    noExtraArguments('style', 'ConsumerStyle.clientTx(consumerId) (a transactional consumer starts at its cursor: Whence is for nonTx)', arguments.length, 1);
    return { kind: 'clientTx', consumerId };
  },
  /** Exactly-once across the whole log: one durable shared cursor. */
  globalTx(): ConsumerStyle {
    noExtraArguments('style', 'ConsumerStyle.globalTx() (a transactional consumer starts at its cursor: Whence is for nonTx)', arguments.length, 0);
    return { kind: 'globalTx' };
  },
} as const;

/**
 * What a processing handler answers for a record: 'commit' (done), 'retry' (run the handler again on
 * the same record), 'skip' (done, counted as skipped) or 'break' (stop the call; the record is handed
 * out again first next time).
 */
export type Outcome = 'commit' | 'retry' | 'skip' | 'break';

/** What a handler receives beside the message. */
export interface ProcessContext {
  /** 1 for the first run on this record, 2 after one 'retry', and so on. */
  readonly attempt: number;
  /** Identifies the log (its real directory path); `(logId, offset)` is an idempotency key. */
  readonly logId: string;
  /** The record's offset (also `msg.offset`). */
  readonly offset: number;
  /** Transactional styles: the state committed with the cursor so far, a copy as a plain Uint8Array (never a Buffer); null if none. */
  readonly state: Uint8Array | null;
  /**
   * Transactional styles: stage a new state value (at most 64 KiB) to be committed atomically with
   * this record's 'commit' or 'skip'. A 'retry' or a throw discards it.
   * @throws {@link LogError} `ERR_INVALID_OPTION` for a non-transactional consumer, or a value that is
   *   not a Uint8Array, string or null, or larger than 64 KiB.
   */
  setState(value: Uint8Array | string | null): void;
}

/**
 * A processing handler: answers an Outcome for each record it is given. A throw fails the call (the
 * record is not committed), or counts as 'retry' with `RetryPolicy.retryOnThrow`. An answer that is not
 * one of the four outcomes fails the call with `ERR_INVALID_OPTION`. For a worker pool, the handler is
 * the default export of a module. In TypeScript, give an `async` handler the return type
 * `Promise<Outcome>`: without it, an async function whose one `return` is a literal is typed
 * `Promise<string>`, which a Handler does not take.
 *
 * @example
 * ```ts
 * const handler: Handler = async (msg, ctx): Promise<Outcome> => {
 *   await save(msg.data, `${ctx.logId}:${msg.offset}`); // (logId, offset) is an idempotency key
 *   return 'commit';
 * };
 * ```
 */
export type Handler = (msg: Message, ctx: ProcessContext) => Outcome | Promise<Outcome>;

/** What a processing call did. */
export interface ProcessSummary {
  /** Records the handler answered 'commit' for. */
  committed: number;
  /** Records the handler answered 'skip' for, and records dead-lettered after `maxAttempts`. */
  skipped: number;
  /** 'retry' answers (a record answered 'retry' twice, then 'commit', counts 2 here and 1 in committed). */
  retried: number;
  /**
   * Why the call returned: 'limit' (`max` records completed), 'end' (the end of the log for
   * nonblockingProcess; close() for either), 'break' (the handler answered 'break'), 'abort' (the
   * signal aborted).
   */
  stoppedBy: 'limit' | 'end' | 'break' | 'abort';
}

/** What happens when a handler answers 'retry' (or throws, with retryOnThrow). */
export interface RetryPolicy {
  /**
   * Attempts per record before it is dead-lettered and counted as skipped; null for no limit. From 1
   * to 1,000,000.
   * @defaultValue `null` (no limit)
   */
  maxAttempts?: number | null;
  /**
   * Wait before each new attempt, ms; from 0 to 3,600,000.
   * @defaultValue `0`
   */
  delayMs?: number;
  /**
   * 'fixed' waits delayMs every time; 'exponential' waits `delayMs × 2^(attempt - 1)`, at most maxDelayMs.
   * @defaultValue `'fixed'`
   */
  backoff?: 'fixed' | 'exponential';
  /**
   * Cap for exponential backoff, ms; from 0 to 3,600,000.
   * @defaultValue `30_000`
   */
  maxDelayMs?: number;
  /**
   * Treat a handler that throws as 'retry' (its error message is kept for the dead letter) instead of
   * rejecting the call.
   * @defaultValue `false`
   */
  retryOnThrow?: boolean;
  /**
   * The dead-letter log's directory, an ordinary log directory (read it with a consumer and
   * {@link decodeDeadLetter}). A relative path is resolved when the consumer opens.
   * @defaultValue `<logDir>.dead-letter.<cursor>`, where `<cursor>` is `client.<id>`, `global` or `nontx`
   */
  deadLetterDir?: string;
}

/** Group commit for the transactional styles: one fsync per group instead of one per record. */
export interface CommitPolicy {
  /**
   * Make the cursor durable after this many completed records; from 1 to 1,000,000,000.
   * @defaultValue `1` (every record); with `everyMs` set, no count (groups are bounded by time alone)
   */
  everyRecords?: number;
  /**
   * ...or when a record completes this many ms after the last durable commit; from 1 to 3,600,000.
   * @defaultValue `null` (off)
   */
  everyMs?: number | null;
}

/**
 * Options of {@link Consumer.open}. Durations are in milliseconds. An unknown option, or a value of
 * the wrong type or out of range, fails the open with `ERR_INVALID_OPTION` naming it.
 */
export interface ConsumerOptions {
  /**
   * The log directory; it must exist (a producer creates it): a log, or an empty directory (a log no
   * producer has written yet). Required.
   */
  logDir: string;
  /** How the consumer keeps its place: `ConsumerStyle.nonTx(whence)`, `clientTx(id)` or `globalTx()`. Required. */
  style: ConsumerStyle;
  /**
   * Hand out records once written ('written') or only once fsynced ('durable'). Default 'written'
   * for nonTx; the transactional styles always use 'durable', so a cursor never passes durable data.
   * In another process than the producer, 'durable' follows the writer's durable.offset file.
   * @defaultValue `'written'` for nonTx, `'durable'` for the transactional styles
   */
  visibility?: 'written' | 'durable';
  /**
   * Tailing from another process: the longest wait between checks of the files, ms; from 1 to 60,000.
   * @defaultValue `50`
   */
  pollIntervalMs?: number;
  /**
   * What 'retry' (and, with retryOnThrow, a throw) does, and where records go after the last attempt.
   * @defaultValue `{}`: every field of {@link RetryPolicy} at its default
   */
  retry?: RetryPolicy;
  /**
   * Group commit of the transactional styles (no effect for nonTx).
   * @defaultValue `{}`: a durable commit per record (`everyRecords: 1`)
   */
  commit?: CommitPolicy;
  /**
   * What `open` does when the consumer would start below the log start (retention deleted the records
   * a transactional cursor or `Whence.position` names): `'error'` (the default) fails with
   * `ERR_POSITION_EXPIRED`; `'oldest'` starts at the oldest record still stored, and a transactional
   * cursor is committed there first. Records the log no longer holds are skipped either way.
   * @defaultValue `'error'`
   */
  onPositionExpired?: 'error' | 'oldest';
  /**
   * Ends the open: aborted before `Consumer.open` resolves (or already), it rejects with
   * `ERR_ABORTED`, the signal's reason as `cause`, and holds nothing (no cursor lock, no open file).
   * It has no effect on the consumer once opened; `tail({ signal })` and `blockingProcess(..., {
   * signal })` take one for their waits.
   * @defaultValue none (`undefined`)
   */
  signal?: AbortSignal;
  /**
   * Lag past which the consumer publishes `reactive-log:lag` (`above: true`), and again when it is
   * back under it (`above: false`): records behind, the age of the next unread record in ms, or
   * both (either one past counts). Measured once a second, only while someone subscribes to the
   * channel (on JetStream, from the view of the stream `lag()` reads: docs/jetstream.md). Default: none.
   */
  lagThreshold?: LagThreshold;
}

/**
 * Options of a processing call with a handler module (a worker pool).
 */
export interface PoolOptions {
  /**
   * Worker threads; from 1 to 256.
   * @defaultValue the machine's available parallelism (`os.availableParallelism()`)
   */
  workers?: number;
  /**
   * A handler call running longer than this many ms has its worker replaced and its record dispatched again.
   * A lane's import of the handler module lasting longer fails the call with `ERR_INVALID_OPTION` ('handler').
   * @defaultValue `30_000`
   */
  timeoutMs?: number;
  /**
   * Records per stripe: the workers take stripes of this many records in turn.
   * @defaultValue `256`
   */
  batchRecords?: number;
  /** Aborting it ends the call ('abort'): the lanes stop, and what finished in order is committed. An aborted signal runs no record. */
  signal?: AbortSignal;
}
