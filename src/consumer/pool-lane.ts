/**
 * One lane of a consumer pool, run in a pool worker (workers/pool-worker.ts) as one task. The lane
 * reads the records of its stripes (src/consumer/pool-protocol.ts) itself, from the segment files
 * (no payload is copied between threads) or, on a backend, from the round's shared record window
 * (src/consumer/pool-window.ts), and runs the handler on each in order under the retry policy.
 * Records not written yet are waited for with Atomics.wait on the end source (the producer's control
 * block in its process), so a new record wakes the worker directly. Progress goes to the shared
 * progress block; the lane never commits: the coordinator (src/consumer/pool-round.ts) advances the
 * cursor over the contiguous prefix of finished records.
 *
 * Not thread-safe: one Lane belongs to one task on one worker thread.
 */
import { LogError, isLogError, type LogErrorDetails } from '../errors.js';
import { controlViews, loadOffset, type ControlViews } from '../ring/layout.js';
import { waitSlot } from '../ring/wait.js';
import type { Handler, Message, Outcome } from '../types.js';
import { checkOutcome, errorText, retryDelayMs, valueText } from './handler-policy.js';
import { PoolContext } from './pool-context.js';
import { thrownShape, type ThrownShape } from './pool-thrown.js';
import {
  OutcomeByte, P32, WINDOW, deadLetterRecord, laneFrom, progressViews, runningSlot, type LaneRecordReader, type PoolResult,
  type PoolTask, type ProgressViews,
} from './pool-protocol.js';

/** The longest one Atomics.wait lasts before the stop flag is looked at again (stops also notify). */
const WAIT_SLICE_MS = 100;
/** Finished records between two progress reports while records keep coming. */
const PUBLISH_EVERY = 32;

type Stop = NonNullable<PoolResult['stop']>;
/** One record's result: its outcome byte, or why the lane stops there. */
type RecordResult = number | Stop;
/** What an attempt's handler threw (any value, undefined included). */
interface Thrown { readonly error: unknown }

/** One lane of a pool task, run in a worker: its records in log order, with progress in shared memory. */
export class Lane {
  private readonly p: ProgressViews;
  /** The lane's first unfinished record. */
  private offset: number;
  /** Records finished since the last progress report. */
  private unpublished = 0;

  constructor(private readonly task: PoolTask) {
    this.p = progressViews(task.progress, task.lanes);
    this.offset = task.startOffset;
  }

  /** Runs the lane up to `endOffset`, a stop, a 'break', a throw or an exhausted record. */
  async run(handler: Handler, reader: LaneRecordReader): Promise<PoolResult> {
    const { task, p } = this;
    const c = controlViews(task.end.control); // a posted SharedArrayBuffer arrives as a new object each time
    let end = 0;
    let windowEnd = 0;
    while (this.offset < task.endOffset) {
      const offset = this.offset;
      if (Atomics.load(p.i32, P32.STOP) !== 0) {
        this.publish(offset);
        return { stop: { kind: 'stopped' } };
      }
      if (offset >= windowEnd || Atomics.load(p.i32, P32.HOLD) !== 0) {
        if (this.unpublished > 0) this.publish(offset);
        if (!this.waitForWindow(offset)) return { stop: { kind: 'stopped' } };
        windowEnd = Number(Atomics.load(p.i64, 0)) + WINDOW;
      }
      if (end <= offset) {
        if (this.unpublished > 0) this.publish(offset); // before waiting: the coordinator can commit what is done
        end = this.waitForRecord(c, offset);
        if (end < 0) return { stop: { kind: 'stopped' } };
      }
      const msg = this.readRecord(reader, offset, end);
      Atomics.store(p.running, task.lane, runningSlot(offset, task.originOffset));
      let r = this.attempt(handler, msg, 1, null);
      if (r instanceof Promise) r = await r;
      if (typeof r !== 'number') return this.stopAt(offset, r, reader);
      this.finish(offset, r, reader);
    }
    this.publish(this.offset);
    return { stop: null };
  }

  /** The task's answer to a throw: the lane's progress so far, and the error at its first unfinished record. */
  fail(e: unknown): PoolResult {
    this.publish(this.offset);
    return { stop: errorStop(this.offset, e) };
  }

  /** Reads record `offset` (readable below `end`), moving the reader there first if need be. */
  private readRecord(reader: LaneRecordReader, offset: number, end: number): Message {
    if (reader.nextOffset !== offset && !this.jumpFromBaton(reader, offset)) {
      // Moving forward past the other lanes' stripes is cheaper than a seek (which lists the
      // directory, reads the index and reopens the segment).
      if (!reader.skipTo(offset)) reader.seek(offset);
    }
    const msg = reader.read(Math.min(this.task.endOffset, end), this.task.end.strict);
    if (msg === null || msg.offset !== offset) throw new LogError('ERR_LOG_CORRUPT', `record ${offset} was dispatched but cannot be read`, { offset });
    return msg;
  }

  /** Record `offset` is finished with outcome byte `byte`: report it and move to the lane's next record. */
  private finish(offset: number, byte: number, reader: LaneRecordReader): void {
    const { lane, lanes, originOffset, stripe } = this.task;
    this.p.outcomes[offset & (WINDOW - 1)] = byte;
    this.passBaton(offset, reader);
    this.offset = laneFrom(offset + 1, lane, lanes, originOffset, stripe);
    // Progress is published in small groups (and always before waiting): one BigInt store and a
    // look at the coordinator's wake-up flag per group, not per record.
    if (++this.unpublished >= PUBLISH_EVERY) this.publish(this.offset);
  }

  /**
   * The lane stops at record `offset`. An exhausted record counts as finished (the coordinator
   * dead-letters it), but the lane's progress stays at it: only the task's answer carries the last
   * error that the dead letter needs, and the coordinator moves the lane past the record once that
   * answer is in. A worker that dies before its answer arrives leaves the record to run again.
   */
  private stopAt(offset: number, stop: Stop, reader: LaneRecordReader): PoolResult {
    if (stop.kind === 'exhausted') {
      this.p.outcomes[offset & (WINDOW - 1)] = OutcomeByte.EXHAUSTED;
      this.passBaton(offset, reader);
    }
    this.publish(offset);
    return { stop };
  }

  private publish(next: number): void {
    this.unpublished = 0;
    Atomics.store(this.p.i64, 1 + this.task.lane, BigInt(next));
    wakeCoordinator(this.p);
  }

  /**
   * Waits until record `offset` is readable; returns the end seen, or -1 when the call stops. At the
   * start of a stripe whose previous stripe (another lane's) is not finished yet, it waits for that lane
   * to pass the baton (laneWake) instead of on the end of the log: one worker wakes per new record.
   */
  private waitForRecord(c: ControlViews, offset: number): number {
    const { p, task } = this;
    const { offsetSlot, seqSlot } = task.end;
    const { lane, lanes, originOffset, stripe } = task;
    const rel = offset - originOffset;
    const s = Math.floor(rel / stripe);
    const prev = (lane - 1 + lanes) % lanes;
    const atStripeStart = lanes > 1 && s > 0 && rel % stripe === 0;
    for (;;) {
      if (atStripeStart) {
        const wake = Atomics.load(p.laneWake, lane);
        if (Number(Atomics.load(p.stripeDone, prev)) < s - 1 && loadOffset(c, offsetSlot) <= offset) {
          if (Atomics.load(p.i32, P32.STOP) !== 0) return -1;
          Atomics.wait(p.laneWake, lane, wake, WAIT_SLICE_MS);
          continue;
        }
      }
      const seq = Atomics.load(c.i32, seqSlot);
      const end = loadOffset(c, offsetSlot);
      if (end > offset) return end;
      if (Atomics.load(p.i32, P32.STOP) !== 0) return -1;
      Atomics.wait(c.i32, seqSlot, seq, WAIT_SLICE_MS);
    }
  }

  /**
   * At the start of a stripe: jump to where the previous lane's reader stood when it finished the
   * stripe just before (not reading through it). False when that hint is not for this stripe.
   */
  private jumpFromBaton(reader: LaneRecordReader, offset: number): boolean {
    const { p, task } = this;
    const { lane, lanes, originOffset, stripe } = task;
    const rel = offset - originOffset;
    if (lanes === 1 || rel % stripe !== 0 || rel === 0) return false;
    const prev = (lane - 1 + lanes) % lanes;
    const s = rel / stripe;
    if (Number(Atomics.load(p.stripeDone, prev)) !== s - 1) return false;
    const at = 3 * prev;
    const h = { seg: Number(Atomics.load(p.hints, at)), pos: Number(Atomics.load(p.hints, at + 1)), base: Number(Atomics.load(p.hints, at + 2)) };
    // Read after stripeDone: if the lane finished another stripe meanwhile, the hint is past `offset`.
    if (h.base < reader.nextOffset || Number(Atomics.load(p.stripeDone, prev)) !== s - 1) return false;
    return reader.jumpTo(h, offset);
  }

  /** After the last record of a stripe: tell the lane of the next stripe, and where this reader stands. */
  private passBaton(offset: number, reader: LaneRecordReader): void {
    const { p, task } = this;
    const rel = offset - task.originOffset;
    if (task.lanes === 1 || (rel + 1) % task.stripe !== 0) return;
    const h = reader.hint();
    const at = 3 * task.lane;
    Atomics.store(p.hints, at, BigInt(h?.seg ?? -1));
    Atomics.store(p.hints, at + 1, BigInt(h?.pos ?? -1));
    Atomics.store(p.hints, at + 2, BigInt(h?.base ?? -1));
    // The hint first, then the stripe number that vouches for it, then the wake-up.
    Atomics.store(p.stripeDone, task.lane, BigInt(Math.floor(rel / task.stripe)));
    const next = (task.lane + 1) % task.lanes;
    Atomics.add(p.laneWake, next, 1);
    Atomics.notify(p.laneWake, next);
  }

  /** Waits until `offset` is inside the outcome window and no commit is in doubt (P32.HOLD); false when the call stops. */
  private waitForWindow(offset: number): boolean {
    const p = this.p;
    for (;;) {
      const seq = Atomics.load(p.i32, P32.SETTLED_SEQ);
      if (offset < Number(Atomics.load(p.i64, 0)) + WINDOW && Atomics.load(p.i32, P32.HOLD) === 0) return true;
      if (Atomics.load(p.i32, P32.STOP) !== 0) return false;
      wakeCoordinator(p);
      Atomics.wait(p.i32, P32.SETTLED_SEQ, seq, WAIT_SLICE_MS);
    }
  }

  /**
   * Runs the handler on one record (attempt `n`) under the retry policy: the outcome byte, or a stop.
   * `lastError` is what the record's earlier attempts last threw (errorText), kept for its dead letter.
   * Each call is counted in the lane's call counter while it runs. A synchronous handler that answers
   * at once gets its answer back synchronously (no promise per record).
   */
  private attempt(handler: Handler, msg: Message, n: number, lastError: string | null): RecordResult | Promise<RecordResult> {
    const calls = this.p.calls;
    const lane = this.task.lane;
    let answer: Outcome | PromiseLike<Outcome>;
    let thenable: boolean;
    Atomics.add(calls, lane, 1);
    try {
      answer = handler(msg, new PoolContext(n, this.task.logDir, msg.offset, this.task.state));
      // Reading `then` may throw (a getter, a revoked proxy): then the answer cannot be awaited, and
      // the attempt threw, as `await` says in the consumer's thread.
      thenable = isThenable(answer);
    } catch (e) {
      Atomics.add(calls, lane, 1);
      return this.afterAttempt(handler, msg, n, lastError, null, { error: e });
    }
    if (thenable) return this.attemptEnds(handler, msg, n, lastError, answer as PromiseLike<Outcome>);
    Atomics.add(calls, lane, 1);
    return this.afterAttempt(handler, msg, n, lastError, answer, null);
  }

  /** The end of an attempt whose handler answered with a promise. */
  private async attemptEnds(handler: Handler, msg: Message, n: number, lastError: string | null, pending: PromiseLike<Outcome>): Promise<RecordResult> {
    let answer: Outcome | null = null;
    let thrown: Thrown | null = null;
    try {
      answer = await pending;
    } catch (e) {
      thrown = { error: e };
    } finally {
      Atomics.add(this.p.calls, this.task.lane, 1);
    }
    return this.afterAttempt(handler, msg, n, lastError, answer, thrown);
  }

  /**
   * Maps one attempt's answer, or what it threw (`thrown`, null when it answered), to a result, or goes
   * on with the next attempt after the delay.
   */
  private afterAttempt(handler: Handler, msg: Message, n: number, lastError: string | null, answer: unknown, thrown: Thrown | null): RecordResult | Promise<RecordResult> {
    const { p, task } = this;
    const offset = msg.offset;
    if (thrown !== null) {
      if (!task.retry.retryOnThrow) return errorStop(offset, thrown.error);
      lastError = errorText(thrown.error);
      answer = 'retry';
    }
    let outcome: Outcome;
    try {
      outcome = checkOutcome(answer);
    } catch (e) {
      return errorStop(offset, e);
    }
    if (outcome === 'commit') return OutcomeByte.COMMIT;
    if (outcome === 'skip') return OutcomeByte.SKIP;
    if (outcome === 'break') return { kind: 'break', offset };
    Atomics.add(p.retried, task.lane, 1);
    if (task.retry.maxAttempts !== null && n >= task.retry.maxAttempts) return { kind: 'exhausted', offset, attempts: n, lastError, record: deadLetterRecord(msg) };
    // A stopped call (break elsewhere, abort, close) makes no further attempt: the record is not
    // finished and comes again. Without this a record retried forever would keep the call from ending.
    if (Atomics.load(p.i32, P32.STOP) !== 0) return { kind: 'stopped' };
    return this.retryDelay(retryDelayMs(task.retry, n))
      .then((go) => (go ? this.attempt(handler, msg, n + 1, lastError) : { kind: 'stopped' as const }));
  }

  /** Waits `ms` before the next attempt; false as soon as the call stops (a stop bumps SETTLED_SEQ). */
  private async retryDelay(ms: number): Promise<boolean> {
    const p = this.p;
    if (!(ms > 0)) {
      await new Promise((resolve) => setImmediate(resolve));
      return Atomics.load(p.i32, P32.STOP) === 0;
    }
    const deadline = performance.now() + ms;
    for (;;) {
      const seq = Atomics.load(p.i32, P32.SETTLED_SEQ); // before the stop flag: a stop after it moves seq
      if (Atomics.load(p.i32, P32.STOP) !== 0) return false;
      const left = deadline - performance.now();
      if (left <= 0) return true;
      await waitSlot(p.i32, P32.SETTLED_SEQ, seq, left);
    }
  }
}

/** Wakes the coordinator if it asked for a wake-up at the next progress (WAITING), once. */
function wakeCoordinator(p: ProgressViews): void {
  if (Atomics.load(p.i32, P32.WAITING) !== 0 && Atomics.compareExchange(p.i32, P32.WAITING, 1, 0) === 1) {
    Atomics.add(p.i32, P32.PROGRESS_SEQ, 1);
    Atomics.notify(p.i32, P32.PROGRESS_SEQ);
  }
}

function isThenable(x: unknown): x is PromiseLike<Outcome> {
  return x !== null && typeof x === 'object' && typeof (x as { then?: unknown }).then === 'function';
}

/**
 * A LogError's details as the answer can carry them to the coordinator's thread: the values a thread
 * can be sent as they are (strings, numbers, booleans, null). Others (a function, a symbol) would fail
 * the answer's copy, which reads as a lost worker: the record would run again.
 */
function plainDetails(d: LogErrorDetails): LogErrorDetails {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d ?? {})) {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out as LogErrorDetails;
}

/**
 * A throw at record `offset` as a stop the coordinator rethrows: message and code cross the thread,
 * and a LogError's details too, so that it is rebuilt as a LogError there. It never throws itself: a
 * value whose properties cannot be read (a throwing getter, a proxy) has no code, and its text.
 */
function errorStop(offset: number, e: unknown): Stop {
  let code: string | null = null;
  let details: LogErrorDetails | null = null;
  let shape: ThrownShape | null = null;
  try {
    const c = (e as { code?: unknown } | null)?.code;
    if (typeof c === 'string') code = c;
    if (isLogError(e)) details = plainDetails(e.details);
  } catch {
    code = null;
    details = null;
  }
  try { shape = isLogError(e) ? null : thrownShape(e); } catch { shape = null; } // a getter that throws: the message and code still go
  return { kind: 'error', offset, message: valueText(e), code, details, shape };
}
