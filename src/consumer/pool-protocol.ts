/**
 * The messages and the shared progress block between a consumer's pool coordinator and its workers.
 *
 * Records are dealt to workers in stripes: the records from `originOffset` on are cut into stripes of
 * `stripe` records, and stripe number s belongs to lane s mod `lanes`. Each worker runs one lane as
 * one long task, in log order, and reports progress through shared memory (the first record of its
 * lane it has not finished, and an outcome byte per finished record), so records neither wait for a
 * task hand-off nor pass through the coordinator's thread. A task ends only when its lane reaches
 * `endOffset`, on a stop, on a 'break' or a throw, or after a record exhausted its attempts (the
 * coordinator needs that record, as the handler had it, and its last error for the dead letter, then
 * starts the lane again: retention may have deleted the record's segment since the lane read it).
 */
import type { LogErrorDetails } from '../errors.js';
import type { ReaderHint } from '../reader/reader-contracts.js';
import type { DirIdentity } from '../reader/dir-identity.js';
import type { Message, ProcessSummary } from '../types.js';
import type { ResolvedRetry } from './start-plan.js';
import type { ThrownShape } from './pool-thrown.js';

/**
 * What a lane reads its records with: a LaneReader over the segment files (src/reader/lane-reader.ts),
 * or a WindowReader over the round's shared record window (src/consumer/pool-window.ts).
 */
export interface LaneRecordReader {
  /** The offset of the record read() returns next. */
  readonly nextOffset: number;
  /** The next record below `limit`, or null; `strict`: every record below `limit` must be readable. */
  read(limit: number, strict: boolean): Message | null;
  /** Moves forward to `offset` by reading through; false when it cannot (seek instead). */
  skipTo(offset: number): boolean;
  /** Places the reader so that read() returns `offset` next. */
  seek(offset: number): void;
  /** Where the reader stands, for the next lane to jump to; null when it has no such place. */
  hint(): ReaderHint | null;
  /** Moves to `offset` from a hint; false when the hint is not usable. */
  jumpTo(h: ReaderHint, offset: number): boolean;
}

/**
 * A control block (src/ring/layout.ts) whose I64 slot `offsetSlot` holds the end of the readable
 * records and whose I32 slot `seqSlot` is bumped and notified when it moves: the producer's own block
 * when the consumer shares its process, else one the pool coordinator publishes into as it tails the
 * files. Workers wait on it with Atomics.wait, so new records reach them without the coordinator.
 */
export interface EndSource {
  /** The control block. */
  readonly control: SharedArrayBuffer;
  /** The I64 slot holding the end offset. */
  readonly offsetSlot: number;
  /** The I32 slot bumped when the end moves. */
  readonly seqSlot: number;
  /** True when the end comes from this process's writer (reads past it are a bug, not a torn tail). */
  readonly strict: boolean;
  /** That writer's directory is known to be the log's: frames it wrote lately need no new check (src/ring/writer-frames.ts). */
  readonly writerFrames: boolean;
}

/** Run lane `lane` of the pool from record `startOffset` (a record of that lane) up to `endOffset`. */
export interface PoolTask {
  /** The log's id (locally the real path of the log directory): ctx.logId. */
  readonly logDir: string;
  /** The log directory's device and inode at the consumer's open: the worker's reader checks it at each segment it opens (dir-identity.ts). */
  readonly dirIdentity: DirIdentity;
  /**
   * The round's shared record window (src/consumer/pool-window.ts) when the log is not in files the
   * worker can read (a backend); null: the worker reads the segment files under `logDir`.
   */
  readonly window: SharedArrayBuffer | null;
  /** The handler module's URL (its default export is the handler). */
  readonly handler: string;
  /** The consumer's retry policy, applied in the lane. */
  readonly retry: ResolvedRetry;
  /** The state committed with the cursor (ctx.state): the same for the whole call, as a pool refuses setState. */
  readonly state: Uint8Array | null;
  /** Where the worker watches the end of the records it may read. */
  readonly end: EndSource;
  /** The shared progress block (see progressViews). */
  readonly progress: SharedArrayBuffer;
  /** This task's lane number, from 0. */
  readonly lane: number;
  /** Lanes in the round (one per worker). */
  readonly lanes: number;
  /** The offset of the round's first record: stripes are counted from it. */
  readonly originOffset: number;
  /** Records per stripe. */
  readonly stripe: number;
  /** The offset of the lane's first record to run. */
  readonly startOffset: number;
  /** Exclusive; Number.MAX_SAFE_INTEGER for a blocking call without `max`. */
  readonly endOffset: number;
  /**
   * The pool's count of handler module imports in flight in its threads (I32 slot 0, notified when
   * it drops): an import goes on in its thread after the call stopped, and ConsumerPool.close() lets
   * it finish before it stops the threads.
   */
  readonly imports: SharedArrayBuffer;
}

/** A task's answer to the coordinator. */
export interface PoolResult {
  /** Why the task ended before `endOffset`: a stop, a record exhausted, 'break', or a throw at record `offset`. */
  readonly stop:
    | null
    | { readonly kind: 'stopped' }
    | { readonly kind: 'exhausted'; readonly offset: number; readonly attempts: number; readonly lastError: string | null; readonly record: Message }
    | { readonly kind: 'break'; readonly offset: number }
    | { readonly kind: 'error'; readonly offset: number; readonly message: string; readonly code: string | null; readonly details: LogErrorDetails | null; readonly shape: ThrownShape | null };
}

/**
 * An exhausted record as a task's answer carries it to the coordinator's dead letter: its bytes and
 * key copied out of the lane reader's buffer (a view would send the whole buffer along).
 */
export function deadLetterRecord(msg: Message): Message {
  const copy = (b: Uint8Array): Uint8Array => Uint8Array.prototype.slice.call(b);
  return { offset: msg.offset, data: copy(msg.data), timestamp: msg.timestamp, key: msg.key === null ? null : copy(msg.key), headers: msg.headers };
}

/** Outcome bytes of finished records (0: not finished). */
export const OutcomeByte = { COMMIT: 1, SKIP: 2, EXHAUSTED: 3 } as const;

/** Finished records a lane may run ahead of the committed prefix (a power of two: the outcome window). */
export const WINDOW = 1 << 16;

/** I32 slots of the progress block. */
export const P32 = {
  /**
   * Set when the call ends: workers finish the record they run and return. STOP_CLOSING when close()
   * ends it (the pool's threads are stopped next), else 1.
   */
  STOP: 0,
  /** 1 while the coordinator wants a wake-up on the next progress (PROGRESS_SEQ). */
  WAITING: 1,
  PROGRESS_SEQ: 2,
  /** Bumped when the committed prefix moves or the call stops (workers held by the window wait on it). */
  SETTLED_SEQ: 3,
  /**
   * 1 while the cursor's commit is in doubt (on JetStream: a try failed and is being retried): workers
   * finish the record they run and begin no other until it is cleared (SETTLED_SEQ is bumped) or the
   * call stops, so records whose commit may never be written do not pile up to run again.
   */
  HOLD: 4,
  /**
   * Lanes of the round whose worker has the handler (each counted once, see `loaded`). A lane begins
   * its first record only once every lane that has records has it, so a handler module that fails to
   * import on one thread stops the call before any record runs (workers/pool-worker.ts).
   */
  READY: 5,
} as const;
const P32_FIXED = 6;
/** ProgressViews.loaded: the lane's worker has the handler. */
export const LANE_HAS_HANDLER = 1;
/** ProgressViews.loaded: the lane's worker is importing the handler module (not counted in P32.READY yet). */
export const LANE_IMPORTING = 2;
/** ProgressViews.loaded: a worker started in place of a lost one is importing it (the lane is counted already). */
export const LANE_REIMPORTING = 3;
/** P32.STOP's value when close() ends the call: a worker lets an import in progress finish first. */
export const STOP_CLOSING = 2;

export interface ProgressViews {
  readonly i32: Int32Array;
  /** [0]: the committed prefix; [1 + lane]: the lane's first unfinished record. */
  readonly i64: BigInt64Array;
  /** Per lane: the number of the last stripe it finished (-1: none). */
  readonly stripeDone: BigInt64Array;
  /**
   * Per lane: bumped and notified when the stripe before the lane's next one is finished. Only the
   * lane whose records come next waits on the end of the log; the others wait here, so a new record
   * wakes one worker, not all of them.
   */
  readonly laneWake: Int32Array;
  /**
   * Per lane, 3 slots: where its reader stood when it finished its last stripe (segment, file
   * position, first offset of that frame): the next lane jumps there (src/reader/lane-reader.ts).
   */
  readonly hints: BigInt64Array;
  /** Per lane: handler calls started plus calls ended (odd while a call runs). */
  readonly calls: Int32Array;
  /** Per lane: 'retry' answers. */
  readonly retried: Int32Array;
  /**
   * Per lane: the record whose handler call started last, as (offset - originOffset) mod 2^32 (see
   * runningRecord): a worker that dies is charged to that record, not to its lane's last progress.
   */
  readonly running: Int32Array;
  /**
   * Per lane: LANE_HAS_HANDLER once a worker of the lane had the handler (P32.READY counts these);
   * LANE_IMPORTING (LANE_REIMPORTING) while the lane's first worker (one in place of a lost one) imports the handler module (the coordinator bounds
   * that import by timeoutMs, src/consumer/pool-round.ts); 0 before.
   */
  readonly loaded: Int32Array;
  /** Outcome of record o at o & (WINDOW - 1). */
  readonly outcomes: Uint8Array;
}

export function progressBytes(lanes: number): number {
  return 8 * (1 + 5 * lanes) + 4 * (P32_FIXED + 5 * lanes) + WINDOW + 8;
}

export function progressViews(sab: SharedArrayBuffer, lanes: number): ProgressViews {
  const i64 = new BigInt64Array(sab, 0, 1 + lanes);
  let at = i64.byteLength;
  const stripeDone = new BigInt64Array(sab, at, lanes);
  at += stripeDone.byteLength;
  const hints = new BigInt64Array(sab, at, 3 * lanes);
  at += hints.byteLength;
  const i32 = new Int32Array(sab, at, P32_FIXED);
  at += i32.byteLength;
  const calls = new Int32Array(sab, at, lanes);
  at += calls.byteLength;
  const retried = new Int32Array(sab, at, lanes);
  at += retried.byteLength;
  const laneWake = new Int32Array(sab, at, lanes);
  at += laneWake.byteLength;
  const running = new Int32Array(sab, at, lanes);
  at += running.byteLength;
  const loaded = new Int32Array(sab, at, lanes);
  at += loaded.byteLength;
  return { i64, i32, stripeDone, laneWake, hints, calls, retried, running, loaded, outcomes: new Uint8Array(sab, at, WINDOW) };
}

/** The `running` slot's value for record `offset`. */
export function runningSlot(offset: number, originOffset: number): number {
  return (offset - originOffset) | 0;
}

/**
 * The record a lane's `running` slot names, given `fromOffset`, the lane's published next record (it
 * lags the running one by fewer than 32 of the lane's records, far less than 2^31). A slot naming a
 * record below `fromOffset` (the worker died after finishing it, between calls) gives `fromOffset`.
 */
export function runningRecord(slot: number, fromOffset: number, originOffset: number): number {
  const ahead = (slot - runningSlot(fromOffset, originOffset)) | 0;
  return ahead > 0 ? fromOffset + ahead : fromOffset;
}

/** The first record at or after `offset` that belongs to `lane`. */
export function laneFrom(offset: number, lane: number, lanes: number, originOffset: number, stripe: number): number {
  const s = Math.floor((offset - originOffset) / stripe);
  const own = s + ((((lane - s) % lanes) + lanes) % lanes);
  return own === s ? offset : originOffset + own * stripe;
}

/** The lanes of a round that have records (those the round launches at its start): the lanes whose worker must have the handler before any runs a record. */
export function lanesWithRecords(task: Pick<PoolTask, 'lanes' | 'stripe' | 'originOffset' | 'endOffset'>): number {
  return Math.min(task.lanes, Math.ceil((task.endOffset - task.originOffset) / task.stripe));
}

type TaskStop = NonNullable<PoolResult['stop']>;
/** Why the round stopped its lanes before `endOffset`: the first 'break' or error in log order, else the first reason. */
export type Stop = Exclude<TaskStop, { kind: 'stopped' } | { kind: 'exhausted' }> | { kind: 'abort' } | { kind: 'closed' };
/** How a round that returns stopped (an 'error' stop is thrown instead). */
export type RoundStop = Exclude<Stop, { kind: 'error' }>;

/** How a round ended. */
export interface RoundEnd {
  /** Committed, skipped and retried in this round (stoppedBy is left to the caller). */
  readonly summary: ProcessSummary;
  /** Why the round stopped its lanes, or null when it reached its `endOffset` (or the end of the log). */
  readonly stop: RoundStop | null;
  /** The end source the workers watch went away: another round follows. */
  readonly moved: boolean;
}
