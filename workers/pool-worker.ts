/**
 * A consumer pool worker (run by piscina). One task is one lane (src/consumer/pool-protocol.ts): the
 * worker reads the records of its stripes from the segment files itself, so no payload is copied
 * between threads, and runs the user's handler module on each in order, applying the retry policy.
 * Records not written yet are waited for with Atomics.wait on the end source (the producer's control
 * block in its process), so a new record wakes the worker directly. Progress goes to the shared
 * progress block after every record; the worker never commits: the coordinator advances the cursor
 * over the contiguous prefix of finished records.
 */
import { LogError } from '../src/errors.js';
import { LaneReader } from '../src/reader/lane-reader.js';
import { fileIO } from '../src/storage/file-io.js';
import { controlViews, loadOffset, type ControlViews } from '../src/ring/layout.js';
import { waitSlot } from '../src/ring/wait.js';
import type { Handler, Message, Outcome as HandlerOutcome, ProcessContext } from '../src/types.js';
import { Outcome, P32, WINDOW, laneFrom, progressViews, runningSlot, type PoolResult, type PoolTask, type ProgressViews } from '../src/consumer/pool-protocol.js';

/** The longest one Atomics.wait lasts before the stop flag is looked at again (stops also notify). */
const WAIT_SLICE_MS = 100;
/** Finished records between two progress reports while records keep coming. */
const PUBLISH_EVERY = 32;

const handlers = new Map<string, Promise<Handler>>();
const readers = new Map<string, LaneReader>();

function loadHandler(url: string): Promise<Handler> {
  let h = handlers.get(url);
  if (h === undefined) {
    h = import(url).then((m: { default?: unknown }) => {
      if (typeof m.default !== 'function') throw LogError.invalidOption('handler', `module ${url} has no default export function`);
      return m.default as Handler;
    });
    handlers.set(url, h);
  }
  return h;
}

/** The context handed to the handler with one record. */
class PoolContext implements ProcessContext {
  readonly state = null;
  constructor(readonly attempt: number, readonly logId: string, readonly offset: number) {}
  setState(): void {
    throw LogError.invalidOption('state', 'a state value cannot be committed from a worker pool: records finish out of order');
  }
}

/**
 * Waits until record `offset` is readable; returns the end seen, or -1 when the call stops. At the
 * start of a stripe whose previous stripe (another lane's) is not finished yet, it waits for that lane
 * to pass the baton (laneWake) instead of on the end of the log: one worker wakes per new record.
 */
function waitForRecord(task: PoolTask, c: ControlViews, p: ProgressViews, offset: number): number {
  const { offsetSlot, seqSlot } = task.end;
  const { lane, lanes, origin, stripe } = task;
  const rel = offset - origin;
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
function jumpFromBaton(task: PoolTask, p: ProgressViews, reader: LaneReader, offset: number): boolean {
  const { lane, lanes, origin, stripe } = task;
  const rel = offset - origin;
  if (lanes === 1 || rel % stripe !== 0 || rel === 0) return false;
  const prev = (lane - 1 + lanes) % lanes;
  const s = rel / stripe;
  if (Number(Atomics.load(p.stripeDone, prev)) !== s - 1) return false;
  const at = 3 * prev;
  const h = { seg: Number(Atomics.load(p.hints, at)), pos: Number(Atomics.load(p.hints, at + 1)), base: Number(Atomics.load(p.hints, at + 2)) };
  // Read after stripeDone: if the lane finished another stripe meanwhile, the hint is past `offset`.
  if (h.base < reader.position || Number(Atomics.load(p.stripeDone, prev)) !== s - 1) return false;
  return reader.jumpTo(h, offset);
}

/** After the last record of a stripe: tell the lane of the next stripe, and where this reader stands. */
function passBaton(task: PoolTask, p: ProgressViews, offset: number, reader: LaneReader): void {
  const rel = offset - task.origin;
  if (task.lanes === 1 || (rel + 1) % task.stripe !== 0) return;
  const h = reader.hint();
  const at = 3 * task.lane;
  Atomics.store(p.hints, at, BigInt(h?.seg ?? -1));
  Atomics.store(p.hints, at + 1, BigInt(h?.pos ?? -1));
  Atomics.store(p.hints, at + 2, BigInt(h?.base ?? -1));
  Atomics.store(p.stripeDone, task.lane, BigInt(Math.floor(rel / task.stripe)));
  const next = (task.lane + 1) % task.lanes;
  Atomics.add(p.laneWake, next, 1);
  Atomics.notify(p.laneWake, next);
}

/** Waits until `offset` is inside the outcome window; false when the call stops. */
function waitForWindow(p: ProgressViews, offset: number): boolean {
  for (;;) {
    const seq = Atomics.load(p.i32, P32.SETTLED_SEQ);
    if (offset < Number(Atomics.load(p.i64, 0)) + WINDOW) return true;
    if (Atomics.load(p.i32, P32.STOP) !== 0) return false;
    wakeCoordinator(p);
    Atomics.wait(p.i32, P32.SETTLED_SEQ, seq, WAIT_SLICE_MS);
  }
}

function wakeCoordinator(p: ProgressViews): void {
  if (Atomics.load(p.i32, P32.WAITING) !== 0 && Atomics.compareExchange(p.i32, P32.WAITING, 1, 0) === 1) {
    Atomics.add(p.i32, P32.PROGRESS_SEQ, 1);
    Atomics.notify(p.i32, P32.PROGRESS_SEQ);
  }
}

function isThenable(x: unknown): x is PromiseLike<HandlerOutcome> {
  return x !== null && typeof x === 'object' && typeof (x as { then?: unknown }).then === 'function';
}

type RecordResult = number | NonNullable<PoolResult['stop']>;

/**
 * Runs the handler on one record (attempt `n`) under the retry policy: the outcome byte, or a stop.
 * Each call is counted in the lane's call counter while it runs. A synchronous handler that answers
 * at once gets its answer back synchronously (no promise per record).
 */
function callHandler(task: PoolTask, p: ProgressViews, handler: Handler, msg: Message, n: number): RecordResult | Promise<RecordResult> {
  let outcome: HandlerOutcome | PromiseLike<HandlerOutcome>;
  Atomics.add(p.calls, task.lane, 1);
  try {
    outcome = handler(msg, new PoolContext(n, task.logDir, msg.offset));
  } catch (e) {
    Atomics.add(p.calls, task.lane, 1);
    return afterAttempt(task, p, handler, msg, n, null, e);
  }
  if (isThenable(outcome)) return settleAsync(task, p, handler, msg, n, outcome);
  Atomics.add(p.calls, task.lane, 1);
  return afterAttempt(task, p, handler, msg, n, outcome, undefined);
}

async function settleAsync(task: PoolTask, p: ProgressViews, handler: Handler, msg: Message, attempt: number, pending: PromiseLike<HandlerOutcome>): Promise<RecordResult> {
  let outcome: HandlerOutcome | null = null;
  let thrown: unknown;
  try {
    outcome = await pending;
  } catch (e) {
    thrown = e;
  } finally {
    Atomics.add(p.calls, task.lane, 1);
  }
  return afterAttempt(task, p, handler, msg, attempt, outcome, thrown);
}

/** Maps one attempt's answer (or throw) to a result, or goes on with the next attempt after the delay. */
function afterAttempt(task: PoolTask, p: ProgressViews, handler: Handler, msg: Message, attempt: number,
  answer: HandlerOutcome | null, thrown: unknown): RecordResult | Promise<RecordResult> {
  const offset = msg.offset;
  let outcome = answer;
  let lastError: string | null = null;
  if (thrown !== undefined) {
    if (!task.retry.retryOnThrow) {
      const code = (thrown as { code?: unknown } | null)?.code;
      return { kind: 'error', offset, message: thrown instanceof Error ? thrown.message : String(thrown), code: typeof code === 'string' ? code : null };
    }
    lastError = thrown instanceof Error ? thrown.message : String(thrown);
    outcome = 'retry';
  }
  if (outcome === 'commit') return Outcome.COMMIT;
  if (outcome === 'skip') return Outcome.SKIP;
  if (outcome === 'break') return { kind: 'break', offset };
  if (outcome !== 'retry') {
    return { kind: 'error', offset, message: `handler returned ${String(outcome)}; expected 'commit', 'retry', 'skip' or 'break'`, code: 'ERR_INVALID_OPTION' };
  }
  Atomics.add(p.retried, task.lane, 1);
  const r = task.retry;
  if (r.maxAttempts !== null && attempt >= r.maxAttempts) return { kind: 'exhausted', offset, attempts: attempt, lastError };
  // A stopped call (break elsewhere, abort, close) makes no further attempt: the record is not
  // finished and comes again. Without this a record retried forever would keep the call from ending.
  if (Atomics.load(p.i32, P32.STOP) !== 0) return { kind: 'stopped' };
  const delay = r.backoff === 'fixed' ? r.delayMs : Math.min(r.maxDelayMs, r.delayMs * 2 ** (attempt - 1));
  return retryDelay(p, delay).then((go) => (go ? callHandler(task, p, handler, msg, attempt + 1) : { kind: 'stopped' as const }));
}

/** Waits `ms` before the next attempt; false as soon as the call stops (stopAll bumps SETTLED_SEQ). */
async function retryDelay(p: ProgressViews, ms: number): Promise<boolean> {
  if (ms <= 0) {
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

export default async function run(task: PoolTask): Promise<PoolResult> {
  const p = progressViews(task.progress, task.lanes);
  const { lane, lanes, origin, stripe, to } = task;
  let offset = task.start;
  let unpublished = 0;
  const publish = (next: number): void => {
    unpublished = 0;
    Atomics.store(p.i64, 1 + lane, BigInt(next));
    wakeCoordinator(p);
  };
  try {
    const handler = await loadHandler(task.handler);
    let reader = readers.get(task.logDir);
    if (reader === undefined) {
      reader = new LaneReader(await fileIO(), task.logDir);
      readers.set(task.logDir, reader);
    }
    const c = controlViews(task.end.control); // a posted SharedArrayBuffer arrives as a new object each time
    let end = 0;
    let windowEnd = 0;
    while (offset < to) {
      if (Atomics.load(p.i32, P32.STOP) !== 0) {
        publish(offset);
        return { stop: { kind: 'stopped' } };
      }
      if (offset >= windowEnd) {
        if (unpublished > 0) publish(offset);
        if (!waitForWindow(p, offset)) return { stop: { kind: 'stopped' } };
        windowEnd = Number(Atomics.load(p.i64, 0)) + WINDOW;
      }
      if (end <= offset) {
        if (unpublished > 0) publish(offset); // before waiting: the coordinator can commit what is done
        end = waitForRecord(task, c, p, offset);
        if (end < 0) return { stop: { kind: 'stopped' } };
      }
      if (reader.position !== offset && !jumpFromBaton(task, p, reader, offset)) {
        // Moving forward past the other lanes' stripes is cheaper than a seek (which lists the
        // directory, reads the index and reopens the segment).
        if (!reader.skipTo(offset)) reader.seek(offset);
      }
      const msg = reader.read(Math.min(to, end), task.end.strict);
      if (msg === null || msg.offset !== offset) throw new LogError('ERR_LOG_CORRUPT', `record ${offset} was dispatched but cannot be read`, { offset });
      Atomics.store(p.running, lane, runningSlot(offset, origin));
      let r = callHandler(task, p, handler, msg, 1);
      if (r instanceof Promise) r = await r;
      if (typeof r !== 'number') {
        if (r.kind === 'exhausted') {
          p.outcomes[offset & (WINDOW - 1)] = Outcome.EXHAUSTED;
          passBaton(task, p, offset, reader);
          publish(laneFrom(offset + 1, lane, lanes, origin, stripe));
        }
        else publish(offset);
        return { stop: r };
      }
      p.outcomes[offset & (WINDOW - 1)] = r;
      passBaton(task, p, offset, reader);
      offset = laneFrom(offset + 1, lane, lanes, origin, stripe);
      // Progress is published in small groups (and always before waiting): one BigInt store and a
      // look at the coordinator's wake-up flag per group, not per record.
      if (++unpublished >= PUBLISH_EVERY) publish(offset);
    }
    publish(offset);
    return { stop: null };
  } catch (e) {
    publish(offset);
    const code = (e as { code?: unknown } | null)?.code;
    return { stop: { kind: 'error', offset, message: e instanceof Error ? e.message : String(e), code: typeof code === 'string' ? code : null } };
  }
}
