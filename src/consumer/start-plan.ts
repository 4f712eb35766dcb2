/**
 * Where a consumer starts and what its options resolve to before anything is opened: the part of
 * `Consumer.open`'s resolved options that a backend reads to open a consumer's reader and cursor.
 * Types only, so that the backend seam and the consumer's option checks need not import each other.
 */
import type { ControlViews } from '../ring/layout.js';
import type { RetryPolicy, Whence } from '../types.js';

/** The retry policy with every default applied (each field as documented in RetryPolicy). */
export type ResolvedRetry = { readonly [K in keyof RetryPolicy]-?: Exclude<RetryPolicy[K], undefined> } & {
  /** deadLetterDir is the default, beside the log (the library's choice, not the user's): see besideItsLog. */
  readonly deadLetterBesideLog?: boolean;
};

/**
 * Where a consumer starts, resolved from its style: a Whence (nonTx), or a transactional cursor with
 * its file stem (`client.<id>` or `global`) and its group commit.
 */
export type StartPlan =
  | { readonly kind: 'whence'; readonly whence: Whence }
  | { readonly kind: 'cursor'; readonly cursorName: string; readonly commitEveryRecords: number; readonly commitEveryMs: number | null };

/** What a backend needs to open a consumer: where it starts and how the open may end early. */
export interface StartRequest {
  /** Where the consumer starts. */
  readonly start: StartPlan;
  /** Below the log start at open: fail (ERR_POSITION_EXPIRED) or start at the oldest record. */
  readonly onPositionExpired: 'error' | 'oldest';
  /** Aborts the open (ERR_ABORTED), if it aborts before the open is done. */
  readonly signal: AbortSignal | undefined;
}

/**
 * A `latest` start in the producer's process past what its writer has written (records still in its
 * ring): the producer's block and that offset. If that producer stops without writing them (it failed,
 * or was destroyed), they are lost and the next producer appends new records at those offsets, after
 * the consumer opened: the consumer then starts at the end that producer had written instead.
 */
export interface AheadOfWritten {
  readonly views: ControlViews;
  readonly offset: number;
}
