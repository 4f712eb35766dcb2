/** Small helpers of the owner's side of the funnel (owner-connection.ts). */
import { ErrorCode, LogError } from '../errors.js';
import type { AppendOptions } from '../format/record.js';

/** What the owner's append threw, as a LogError (anything else is an internal invariant broken). */
export function asLogError(e: unknown): LogError {
  if (e instanceof LogError) return e;
  return new LogError(ErrorCode.INTERNAL, `internal invariant broken: the owner's append threw ${(e as Error | undefined)?.message ?? String(e)}`);
}

/**
 * Runs `fn` with no stack captured for the errors made meanwhile. Each record of a client's batch the
 * owner refuses makes a LogError whose code and message go back on the wire and whose stack no one
 * reads: capturing it cost about 6 µs a record (0.5 µs without), so a batch of refused records (dedup
 * keys sent to an owner without a dedup window, say) held the owner's thread longer than a batch it
 * appended. Where the limit cannot be assigned (a frozen Error), `fn` runs with it as it is.
 */
export function withoutStacks<T>(fn: () => T): T {
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 0;
  } catch {
    return fn(); // read-only (--frozen-intrinsics, SES lockdown, a frozen Error): the stacks are made, the batch goes in
  }
  try {
    return fn();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * A timer's callback that runs `fn` after the next poll phase of the event loop. A timer that comes
 * due while the owner's thread is busy (its own work, an append waiting for ring room) runs before
 * the poll phase that reads what a client sent meanwhile: judged before it, a client that did its
 * part would look silent.
 */
export function afterPoll(fn: () => void): () => void {
  return () => { setImmediate(fn).unref(); };
}

/** What appendRun appended: `appended` records from offset `first`, and the error that stopped the rest, if one did. */
export interface RunResult {
  readonly first: number;
  readonly appended: number;
  readonly error: LogError | null;
}

/** The limits the owner announces in HELLO_OK. */
export interface FunnelLimits {
  readonly maxFrameBytes: number;
  readonly maxRecordBytes: number;
  /** How long the owner's append may wait for ring room (and its flush while retention blocks the writer) before it answers. */
  readonly appendTimeoutMs: number;
}

/** What the funnel needs of the producer that owns the log. */
export interface FunnelTarget {
  append(data: Uint8Array, opts?: AppendOptions): number;
  /**
   * Appends `body[start, end)`, records already in the ring's format and checked (checkBatch's
   * `run`), with their offsets from `first` on; null when it takes records one at a time only (the
   * producer is shared with other threads). Throws when the producer stopped before the first.
   * `progress` runs after each piece copied (each may have waited for ring room).
   */
  appendRun?(body: Uint8Array, start: number, end: number, progress?: () => void): RunResult | null;
  flush(): Promise<void>;
  readonly options: { readonly maxRecordBytes: number; readonly appendTimeoutMs: number };
}
