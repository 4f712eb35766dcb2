/**
 * What a pool processing call works with: the consumer it runs for (PoolHost, implemented by the
 * consumer's RecordFeed) and the call's parameters (PoolCall), which stay the same for each round of the call
 * (src/consumer/pool-round.ts).
 */
import type { Message } from '../types.js';
import type { ResolvedRetry } from './start-plan.js';
import type { DeadLetterSink } from './dead-letter.js';
import type { EndSource } from './pool-protocol.js';
import type { DirIdentity } from '../reader/dir-identity.js';

/** What the pool needs from its consumer. */
export interface PoolHost {
  /** The log's id (locally the real path of the log directory). */
  readonly logId: string;
  /** A local log: its directory's device and inode at the consumer's open (the workers' readers check it), else null. */
  readonly dirIdentity: DirIdentity;
  /** Every record below this offset is done; the call goes on from it. */
  doneOffset(): number;
  /** The offset below which records may be handed out now. */
  availableEndOffset(): number;
  /** Waits (bounded) for records at or past `after`. */
  wait(signal: AbortSignal | undefined, after: number): Promise<void>;
  /** The producer's control block when it runs in this process (workers watch it), else null. */
  endSource(): EndSource | null;
  /** Every record below `offset` is done: move the cursor there (an async cursor store: the commit's promise when it syncs). */
  advanceTo(offset: number): void | Promise<void>;
  /** A commit of the cursor failed and is being retried (an async store riding out an outage): the lanes hold meanwhile. */
  commitInDoubt(): boolean;
  /** Throws why the cursor store can commit nothing more (its lease taken over while the call runs), if it can't: the round stops its lanes. */
  checkCursor(): void;
  /** Makes the cursor durable now (a blocking call that waits for new records; an async store: the commit's promise). */
  syncCursor(): void | Promise<void>;
  /**
   * The arena size of the shared record window a round needs when the workers cannot read the log
   * themselves (a backend: src/consumer/pool-window.ts), or null: they read the segment files.
   */
  poolWindowBytes(): number | null;
  /** Window rounds: the next record of the consumer's reader (the feeder's), or null when none is here yet. */
  pullRecord(): Message | null;
  /** Window rounds: fetches what the log holds now; false when there is nothing more. */
  fill(signal: AbortSignal | undefined): Promise<boolean> | false;
  /** Window rounds: records pulled and not done, handed back in order to be read again first. */
  giveBack(records: readonly Message[]): void;
  /** A nonblocking call on a backend: reads the log's end anew, so availableEndOffset() is now's. */
  refreshEnd(signal: AbortSignal | undefined): Promise<void> | void;
  /** A copy of the state committed with the cursor (ctx.state), or null. */
  currentState(): Uint8Array | null;
  /** destroy() released the cursor: nothing is written for an outcome (no dead letter). */
  readonly isReleased: boolean;
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
  /** The caller's signal. */
  readonly signal?: AbortSignal;
  readonly retry: ResolvedRetry;
  /** The consumer's dead-letter log (it opens on its first dead letter). */
  readonly deadLetters: DeadLetterSink;
  /**
   * The pool worker module's file, for a task (written anew when a cleaner removed it), or why no lane
   * can be launched: the pool's threads cannot start, or the file cannot be written.
   */
  readonly workerFile: () => string | Error;
  /** The pool's count of handler imports in flight in its threads (PoolTask.imports). */
  readonly imports: SharedArrayBuffer;
}
