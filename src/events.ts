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
 * | `reactive-log:lag` | a consumer opened with `lagThreshold` passed it (`above: true`) or came back under it (`above: false`), seen by a check once a second | `{ logDir, consumer, above, lag, threshold }` |
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { LogError } from './errors.js';
import type { CursorLag } from './admin/inspect.js';
import type { LagThreshold } from './consumer/lag-watch.js';
import type { RecoveryReport } from './types.js';

export interface RecoveryEvent extends RecoveryReport {
  readonly logDir: string;
  readonly nextOffset: number;
}
export interface RollEvent {
  readonly logDir: string;
  readonly sealedBaseOffset: number;
  readonly sealedBytes: number;
  readonly baseOffset: number;
}
export interface RetentionEvent {
  readonly logDir: string;
  readonly baseOffset: number;
  readonly endOffset: number;
  readonly bytes: number;
  readonly logStartOffset: number;
}
export interface WriterFailureEvent {
  readonly logDir: string;
  readonly error: LogError;
}
export interface DeadLetterEvent {
  readonly logDir: string;
  readonly deadLetterDir: string;
  readonly offset: number;
  readonly attempts: number;
  readonly lastError: string | null;
}

export interface LagEvent {
  readonly logDir: string;
  /** The consumer's cursor id (`global` for globalTx), or null for a nonTx consumer. */
  readonly consumer: string | null;
  /** True when the lag passed the threshold, false when it came back under it. */
  readonly above: boolean;
  readonly lag: CursorLag;
  readonly threshold: LagThreshold;
}

/** The channels, by event. Subscribe with `diagnostics_channel.subscribe('reactive-log:roll', fn)` or through these. */
export const channels = {
  recovery: diagnosticsChannel.channel('reactive-log:recovery'),
  roll: diagnosticsChannel.channel('reactive-log:roll'),
  retention: diagnosticsChannel.channel('reactive-log:retention'),
  writerFailure: diagnosticsChannel.channel('reactive-log:writer-failure'),
  deadLetter: diagnosticsChannel.channel('reactive-log:dead-letter'),
  lag: diagnosticsChannel.channel('reactive-log:lag'),
} as const;

/** Publishes what `payload` builds on `channel`, if anyone subscribes. */
export function publish<T extends object>(channel: diagnosticsChannel.Channel, payload: () => T): void {
  if (channel.hasSubscribers) channel.publish(payload());
}
