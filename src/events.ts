/**
 * What the handles tell an operator, through `node:diagnostics_channel`: one channel per event, named
 * `reactive-log:<event>`. Publishing costs one `hasSubscribers` check when nobody listens; a payload
 * is built only for a subscriber. Channels are per thread: subscribe in the thread that holds the
 * handle (the writer thread's roll and deletion events are relayed to its producer's thread).
 *
 * | Channel | When | Payload |
 * | --- | --- | --- |
 * | `reactive-log:recovery` | a producer opened a directory (after recovery) | `{ logDir, nextOffset, truncated, removed }` |
 * | `reactive-log:roll` | the writer sealed a segment and started the next | `{ logDir, sealedBaseOffset, sealedBytes, baseOffset }` |
 * | `reactive-log:retention` | retention deleted a segment | `{ logDir, baseOffset, endOffset, bytes, logStartOffset }` |
 * | `reactive-log:writer-failure` | the writer failed (once per producer) | `{ logDir, error }` (a LogError) |
 * | `reactive-log:dead-letter` | a consumer wrote a record to its dead-letter log | `{ logDir, deadLetterDir, offset, attempts, lastError }` |
 * | `reactive-log:lag` | a consumer opened with `lagThreshold` passed it (`above: true`) or came back under it (`above: false`), seen by a check once a second; a nonTx consumer closed above it also publishes `above: false` | `{ logDir, consumer, above, lag, threshold }` |
 */
import * as diagnosticsChannel from 'node:diagnostics_channel';
import type { LogError } from './errors.js';
import type { CursorLag, LagThreshold, RecoveryReport } from './types.js';

/** `reactive-log:recovery`: a producer opened a directory, after recovery. */
export interface RecoveryEvent extends RecoveryReport {
  /** The log directory (its real path). */
  readonly logDir: string;
  /** The offset the next append gets. */
  readonly nextOffset: number;
}
/** `reactive-log:roll`: the writer sealed a segment and started the next. */
export interface RollEvent {
  /** The log directory (its real path). */
  readonly logDir: string;
  /** The base offset of the segment sealed. */
  readonly sealedBaseOffset: number;
  /** The size of the segment sealed, in bytes. */
  readonly sealedBytes: number;
  /** The base offset of the new segment. */
  readonly baseOffset: number;
}
/** `reactive-log:retention`: retention deleted a segment. */
export interface RetentionEvent {
  /** The log directory (its real path). */
  readonly logDir: string;
  /** The base offset of the segment deleted. */
  readonly baseOffset: number;
  /** The offset after its last record. */
  readonly endOffset: number;
  /** Its size, in bytes. */
  readonly bytes: number;
  /** The log's first stored offset now. */
  readonly logStartOffset: number;
}
/** `reactive-log:writer-failure`: the writer failed (once per producer). */
export interface WriterFailureEvent {
  /** The log directory (its real path). */
  readonly logDir: string;
  /** The writer's error, as `producer.failed` resolves with it. */
  readonly error: LogError;
}
/** `reactive-log:dead-letter`: a consumer wrote a record to its dead-letter log. */
export interface DeadLetterEvent {
  /** The log the record came from (its real path). */
  readonly logDir: string;
  /** The dead-letter log's directory. */
  readonly deadLetterDir: string;
  /** The record's offset in the log it came from. */
  readonly offset: number;
  /** How many times the handler ran on it. */
  readonly attempts: number;
  /** The message of the last error the handler threw, or null if it answered 'retry' without one. */
  readonly lastError: string | null;
}

/** `reactive-log:lag`: a consumer opened with `lagThreshold` passed it, or came back under it. */
export interface LagEvent {
  /** The log directory (its real path); on a backend, the backend's logId (`jetstream:<stream>`). */
  readonly logDir: string;
  /** The consumer's cursor id (`'@global'`, GLOBAL_CURSOR_ID, for globalTx, as inspectLog names it), or null for a nonTx consumer. */
  readonly consumer: string | null;
  /** True when the lag passed the threshold, false when it came back under it (or a nonTx consumer above it closed). */
  readonly above: boolean;
  /** The lag measured, as `consumer.lag()` gives it. */
  readonly lag: CursorLag;
  /** The consumer's `lagThreshold`. */
  readonly threshold: LagThreshold;
}

/**
 * The channels, by event. Subscribe with `diagnostics_channel.subscribe('reactive-log:roll', fn)` or
 * through these. Channels are per thread: subscribe in the thread that holds the handle.
 *
 * @example
 * ```ts
 * import diagnosticsChannel from 'node:diagnostics_channel';
 * import type { RollEvent } from 'reactive-log';
 *
 * diagnosticsChannel.subscribe('reactive-log:roll', (e) => console.log('rolled', (e as RollEvent).sealedBaseOffset));
 * ```
 */
export const channels = {
  /** `reactive-log:recovery`, with a {@link RecoveryEvent}. */
  recovery: diagnosticsChannel.channel('reactive-log:recovery'),
  /** `reactive-log:roll`, with a {@link RollEvent}. */
  roll: diagnosticsChannel.channel('reactive-log:roll'),
  /** `reactive-log:retention`, with a {@link RetentionEvent}. */
  retention: diagnosticsChannel.channel('reactive-log:retention'),
  /** `reactive-log:writer-failure`, with a {@link WriterFailureEvent}. */
  writerFailure: diagnosticsChannel.channel('reactive-log:writer-failure'),
  /** `reactive-log:dead-letter`, with a {@link DeadLetterEvent}. */
  deadLetter: diagnosticsChannel.channel('reactive-log:dead-letter'),
  /** `reactive-log:lag`, with a {@link LagEvent}. */
  lag: diagnosticsChannel.channel('reactive-log:lag'),
} as const;

/** Publishes what `payload` builds on `channel`, if anyone subscribes. */
export function publish<T extends object>(channel: diagnosticsChannel.Channel, payload: () => T): void {
  if (channel.hasSubscribers) channel.publish(payload());
}
