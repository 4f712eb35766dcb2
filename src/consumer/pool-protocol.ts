/** The messages between a consumer's pool coordinator and its pool worker threads. */
import type { ResolvedRetry } from './consumer-options.js';

/** Process the records [from, to) of the log with the handler module. */
export interface PoolTask {
  readonly logDir: string;
  /** The handler module's URL (its default export is the handler). */
  readonly handler: string;
  readonly from: number;
  readonly to: number;
  readonly retry: ResolvedRetry;
}

export interface PoolResult {
  /** How many records from `from` on were completed, in order, before a stop (or all of them). */
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
