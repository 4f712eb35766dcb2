/**
 * What a pool processing call works with: the consumer it runs for (PoolHost, implemented by the
 * consumer's RecordFeed) and the call's parameters (PoolCall), which stay the same for each round of the call
 * (src/consumer/pool-round.ts).
 */
import type { Message } from '../types.js';
import type { ResolvedRetry } from './start-plan.js';
import type { DeadLetterSink } from './dead-letter.js';
import type { EndSource } from './pool-protocol.js';

/** What the pool needs from its consumer. */
export interface PoolHost {
  /** The real path of the log directory. */
  readonly logId: string;
  /** Every record below this offset is done; the call goes on from it. */
  doneOffset(): number;
  /** The offset below which records may be handed out now. */
  availableEndOffset(): number;
  /** Waits (bounded) for records at or past `after`. */
  wait(signal: AbortSignal | undefined, after: number): Promise<void>;
  /** The producer's control block when it runs in this process (workers watch it), else null. */
  endSource(): EndSource | null;
  /** Every record below `offset` is done: move the cursor there. */
  advanceTo(offset: number): void;
  /** Reads one record (for dead letters). */
  readOne(offset: number): Message;
  /** close() was called: stop the lanes, commit what finished, return. */
  isClosed(): boolean;
  /** Aborts when close() is called (wakes the coordinator). */
  readonly closeRequested: AbortSignal;
}

/** One processing call's parameters, the same for each of its rounds. */
export interface PoolCall {
  readonly host: PoolHost;
  /** The handler module's URL (its default export is the handler). */
  readonly handlerUrl: string;
  /** blockingProcess: wait for new records; else stop at the end of the log. */
  readonly blocking: boolean;
  /** PoolOptions.timeoutMs, resolved. */
  readonly timeoutMs: number;
  /** PoolOptions.batchRecords, resolved: the stripe length. */
  readonly batchRecords: number;
  /** The caller's signal (blockingProcess). */
  readonly signal?: AbortSignal;
  readonly retry: ResolvedRetry;
  /** The consumer's dead-letter log (it opens on its first dead letter). */
  readonly deadLetters: DeadLetterSink;
  /** Why the pool's threads cannot start (their module could not be loaded), or null: no lane is launched then. */
  readonly startFailure: () => Error | null;
}
