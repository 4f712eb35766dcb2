/** The messages between a consumer's pool coordinator and its pool worker threads. */
import type { ResolvedRetry } from './consumer-options.js';

/** Process the records [from, to) of the log with the handler module. */
export interface PoolTask {
  readonly logDir: string;
  /** The handler module's URL (its default export is the handler). */
  readonly handler: string;
  readonly from: number;
  /** May lie past the records written so far: the worker waits for them (see `end`). */
  readonly to: number;
  readonly retry: ResolvedRetry;
  /** Where the worker watches the end of the records it may read. */
  readonly end: EndSource;
}

/**
 * A control block (src/ring/layout.ts) whose I64 slot `offsetSlot` holds the end of the readable
 * records and whose I32 slot `seqSlot` is bumped and notified when it moves: the producer's own block
 * when the consumer shares its process, else one the pool coordinator publishes into as it tails the
 * files. Workers wait on it with Atomics.wait, so new records reach them without the coordinator.
 */
export interface EndSource {
  readonly control: SharedArrayBuffer;
  readonly offsetSlot: number;
  readonly seqSlot: number;
  /** True when the end comes from this process's writer (reads past it are a bug, not a torn tail). */
  readonly strict: boolean;
}

export interface PoolResult {
  /**
   * How many records from `from` on were completed, in order. Fewer than the range with `stop` null:
   * the worker came back early because the next record had not arrived; the rest is dispatched again.
   */
  readonly completed: number;
  /** Per completed record: 0 committed, 1 skipped, 2 exhausted (maxAttempts: dead-letter it, count skipped). */
  readonly outcomes: Uint8Array;
  /** 'retry' answers in this range. */
  readonly retried: number;
  /** For exhausted records, in order: attempts and the last error. */
  readonly exhausted: ReadonlyArray<{ readonly offset: number; readonly attempts: number; readonly lastError: string | null }>;
  /** Why the range ended early: the handler answered 'break' or threw (record `from + completed`). */
  readonly stop: null | { readonly kind: 'break' } | { readonly kind: 'error'; readonly message: string; readonly code: string | null };
}
