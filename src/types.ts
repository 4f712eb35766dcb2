/** Public value types of reactive-log, documented where they are declared. */
import { LogError } from './errors.js';

/** One record as a consumer sees it. */
export interface Message {
  /** Dense, strictly increasing from 0, never reused. */
  readonly offset: number;
  /** The bytes appended. A view that stays valid after the next record is read. */
  readonly data: Uint8Array;
  /** ms since epoch, set when the writer stored the record's batch. */
  readonly timestamp: number;
}

/** Where a non-transactional consumer starts. */
export type Whence =
  | { readonly kind: 'oldest' }
  | { readonly kind: 'latest' }
  | { readonly kind: 'position'; readonly offset: number };

export const Whence = {
  /** The first record still stored. */
  oldest: (): Whence => ({ kind: 'oldest' }),
  /** The next record appended after the consumer opens. */
  latest: (): Whence => ({ kind: 'latest' }),
  /** The record at `offset` (at most the current end of the log). */
  position: (offset: number): Whence => {
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
      throw LogError.invalidOption('whence', `position(offset) takes a whole number of at least 0, got ${String(offset)}`);
    }
    return { kind: 'position', offset };
  },
} as const;

/** How a consumer keeps its place. */
export type ConsumerStyle =
  | { readonly kind: 'nonTx'; readonly whence: Whence }
  | { readonly kind: 'clientTx'; readonly consumerId: string }
  | { readonly kind: 'globalTx' };

export const ConsumerStyle = {
  /** At-least-once, no durable cursor: starts at `whence` every time it opens. */
  nonTx: (whence: Whence): ConsumerStyle => ({ kind: 'nonTx', whence }),
  /** Exactly-once per consumer id: a durable named cursor. */
  clientTx: (consumerId: string): ConsumerStyle => ({ kind: 'clientTx', consumerId }),
  /** Exactly-once across the whole log: one durable shared cursor. */
  globalTx: (): ConsumerStyle => ({ kind: 'globalTx' }),
} as const;

/** What a processing handler answers for a record. */
export type Outcome = 'commit' | 'retry' | 'skip' | 'break';

/** What a handler receives beside the message. */
export interface ProcessContext {
  /** 1 for the first run on this record, 2 after one 'retry', and so on. */
  readonly attempt: number;
  /** Identifies the log (its real directory path); `(logId, offset)` is an idempotency key. */
  readonly logId: string;
  /** The record's offset (also `msg.offset`). */
  readonly offset: number;
  /** Transactional styles: the state committed with the cursor so far (null if none). */
  readonly state: Uint8Array | null;
  /**
   * Transactional styles: stage a new state value (at most 64 KiB) to be committed atomically with
   * this record's 'commit' or 'skip'. A 'retry' or a throw discards it.
   */
  setState(value: Uint8Array | string | null): void;
}

export type Handler = (msg: Message, ctx: ProcessContext) => Outcome | Promise<Outcome>;

/** What a processing call did. */
export interface ProcessSummary {
  committed: number;
  skipped: number;
  retried: number;
  stoppedBy: 'limit' | 'end' | 'break' | 'abort';
}
