/** Small helpers of the owner's side of the funnel (owner-connection.ts). */
import { ErrorCode, LogError } from '../errors.js';

/** What the owner's append threw, as a LogError (anything else is an internal invariant broken). */
export function asLogError(e: unknown): LogError {
  if (e instanceof LogError) return e;
  return new LogError(ErrorCode.INTERNAL, `internal invariant broken: the owner's append threw ${(e as Error | undefined)?.message ?? String(e)}`);
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
