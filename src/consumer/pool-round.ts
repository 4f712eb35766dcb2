/**
 * One round of a pool processing call, on the consumer's thread: the coordinator. It deals the
 * records from `originOffset` up to `endOffset` to one task per lane (src/consumer/pool-protocol.ts),
 * watches the shared progress block, commits the contiguous prefix of finished records, dead-letters exhausted
 * ones, replaces a worker that crashed or whose handler call runs past `timeoutMs`, and stops the
 * lanes on 'break', a throw, the signal, close() or a failure. A round ends early, with `moved`, when
 * the producer of this process that the workers watch goes away: ConsumerPool starts another round.
 * Not thread-safe: a round lives on the consumer's thread; it talks to the workers only through the
 * progress block and the tasks' answers.
 */
import type { Piscina } from 'piscina';
import { ErrorCode, LogError, internalError } from '../errors.js';
import type { ProcessSummary } from '../types.js';
import type { PoolCall } from './pool-host.js';
import {
  OutcomeByte, P32, STOP_CLOSING, WINDOW, laneFrom, progressBytes, progressViews, runningRecord, runningSlot,
  type PoolResult, type PoolTask, type ProgressViews, type RoundEnd, type Stop,
} from './pool-protocol.js';
import { WindowSupply } from './pool-feeder.js';
import { FileSupply, type RecordSupply } from './pool-supply.js';
import { bump, controlViews, type ControlViews } from '../ring/layout.js';
import { commitHolding } from './pool-hold.js';
import { ExhaustedRecords } from './pool-exhausted.js';
import { ImportWatch } from './pool-import-watch.js';
import { rebuildThrown } from './pool-thrown.js';

const MAX_RESTARTS = 5; // how many times one record may lose its worker before the call gives up
const SETTLE_MS = 2; // the coordinator looks at progress at least this often while records are being finished (ms)
const IDLE_SETTLE_MS = 250; // ... and at most this rarely when nothing moves (a progress wakes it at once)
/** Per lane: the task's abort, the handler-call counter at launch (a call runs while the count since is odd), and since when it stood still. */
interface LaneWatch { ac: AbortController; base: number; calls: number; since: number }

/** One round of a pool processing call: its lanes from `originOffset` to `endOffset`, and the commits (see the module comment). */
export class PoolRound {
  private readonly summary: ProcessSummary = { committed: 0, skipped: 0, retried: 0, stoppedBy: 'end' };
  private readonly progress: SharedArrayBuffer;
  private readonly pv: ProgressViews;
  private readonly supply: RecordSupply; // how the records reach the lanes: the files, or a shared window the round feeds (pool-supply.ts)
  private readonly sourceViews: ControlViews;

  /** Every record below is completed and committed. */
  private doneOffset: number;
  private stop: Stop | null = null;
  /** A failure of the pool itself (a record lost its worker too often), thrown once the lanes are done. */
  private failure: unknown = null;
  /** The record the failure is at (a record that lost its worker too often); -Infinity: none, it outranks any stop. */
  private failureAt = -Infinity;
  private moved = false;
  stoppedAt = Infinity; // when the lanes were told to stop (performance.now(); ConsumerPool.close() counts from it)
  private readonly running = new Map<number, Promise<void>>(); // lane -> its task
  private readonly hung = new Map<number, LaneWatch>(); // lane -> its watch
  private readonly exhausted = new ExhaustedRecords(); // offset -> its last attempt, the record as the lane read it; the lanes parked for them
  private readonly restarts = new Map<number, number>(); // record -> workers lost while it ran
  private readonly imports: ImportWatch; // bounds the lanes' imports of the handler module by timeoutMs

  // Wakes the coordinator's loop (a task ended, the signal aborted); `dirty` keeps a poke that came while the loop was not waiting.
  private dirty = false;
  private wake: (() => void) | null = null;
  private idleFor = 0;
  /** The done offset the cursor was last made durable at before a wait for new records. */
  private syncedAt = -1;
  /** close() or the signal: the lanes stop at once (a record not begun by then is not begun), then the coordinator looks. */
  private readonly onAbort = (): void => { this.checkStops(); this.poke(); };

  constructor(private readonly pool: Piscina, private readonly lanes: number, private readonly call: PoolCall,
    private readonly originOffset: number, private readonly endOffset: number) {
    this.doneOffset = originOffset;
    this.imports = new ImportWatch(call.handlerUrl, call.timeoutMs);
    this.progress = new SharedArrayBuffer(progressBytes(lanes));
    this.pv = progressViews(this.progress, lanes);
    Atomics.store(this.pv.i64, 0, BigInt(originOffset));
    for (let k = 0; k < lanes; k++) {
      Atomics.store(this.pv.i64, 1 + k, BigInt(laneFrom(originOffset, k, lanes, originOffset, call.batchRecords)));
      Atomics.store(this.pv.stripeDone, k, -1n);
    }
    const arenaBytes = call.host.poolWindowBytes();
    this.supply = arenaBytes === null ? new FileSupply(call)
      : new WindowSupply(call, arenaBytes, this.pv, originOffset, endOffset, (e) => this.onSupplyFailure(e));
    this.sourceViews = controlViews(this.supply.end.control);
  }

  /** Runs the round to its end; throws what stopped it with an error, after committing what finished. */
  async run(): Promise<RoundEnd> {
    const { host, signal } = this.call;
    signal?.addEventListener('abort', this.onAbort, { once: true });
    host.closeRequested.addEventListener('abort', this.onAbort, { once: true });
    let thrown: unknown = null;
    try {
      for (let k = 0; k < this.lanes; k++) this.launch(k, this.nextOf(k));
      await this.coordinate();
    } catch (e) {
      thrown = e;
    } finally {
      signal?.removeEventListener('abort', this.onAbort);
      host.closeRequested.removeEventListener('abort', this.onAbort);
      await this.drain();
    }
    // Commit what finished before the end, a stop or a failure; then records read past it go back.
    try {
      if (thrown === null) await this.settle();
    } catch (e) {
      thrown = e;
    } finally {
      await this.supply.close(this.doneOffset);
    }
    const why = this.stop;
    // A 'break' or a throw at an earlier record stops the call first, as without a pool (the record that kept losing its worker lies past where the cursor stops).
    const earlier = why !== null && (why.kind === 'break' || why.kind === 'error') && why.offset < this.failureAt;
    if (thrown !== null || (this.failure !== null && !earlier)) throw thrown !== null ? thrown : this.failure;
    for (let k = 0; k < this.lanes; k++) this.summary.retried += Atomics.load(this.pv.retried, k);
    if (why !== null && why.kind === 'error') {
      // A LogError in the worker is one here too; the handler's own errors come rebuilt (pool-thrown.ts).
      if (why.details !== null && why.code !== null) throw new LogError(why.code as ErrorCode, why.message, why.details);
      throw rebuildThrown(why.message, why.code, why.shape);
    }
    return { summary: this.summary, stop: why, moved: this.moved };
  }

  /** The coordinator's loop: commit progress, look for stops and hung calls, wait for the next change. */
  private async coordinate(): Promise<void> {
    for (;;) {
      const before = this.doneOffset;
      await this.settle();
      if (this.failure !== null) return;
      this.checkStops();
      if (this.running.size === 0) return;
      this.checkHung(performance.now());
      if ((this.failure ??= this.imports.check(this.pv, this.lanes, performance.now())) !== null) return; // run() drains the lanes
      // While records are being finished, look every SETTLE_MS; when nothing moves, ask the
      // workers for a wake-up at the next progress and look less often.
      this.idleFor = this.doneOffset > before ? 0 : Math.min(IDLE_SETTLE_MS, Math.max(SETTLE_MS, this.idleFor * 2));
      if (this.dirty) {
        this.dirty = false;
        continue;
      }
      // Every record there is done, and a blocking call waits for new ones: the cursor is made durable
      // first, as without a pool (a group does not wait for records that may be long in coming).
      if (this.call.blocking && this.doneOffset !== this.syncedAt && this.doneOffset >= this.call.host.availableEndOffset()) {
        this.syncedAt = this.doneOffset;
        await commitHolding(this.pv, this.call.host.syncCursor(), () => this.call.host.commitInDoubt(), SETTLE_MS);
      }
      await this.waitForProgress();
    }
  }

  /** Stops the lanes on the signal, close(), the cursor store's failure (its records another owner's now), or the producer's block going away. */
  private checkStops(): void {
    const host = this.call.host;
    if (this.call.signal?.aborted) this.stopAll({ kind: 'abort' });
    if (host.isClosed()) this.stopAll({ kind: 'closed' });
    // No record more through this owner's lanes: the call fails with it once they are done.
    try { host.checkCursor(); } catch (e) { this.failure ??= e; this.stopAll(null); }
    if (!this.moved && this.supply.gone()) {
      // The producer of this process closed (or was replaced): its block says no more. End this
      // round; ConsumerPool goes on with the source there is now.
      this.moved = true;
      this.stopAll(null);
    }
  }

  /** Waits for a poke, a timer, a progress wake-up (when idle) or, tailing the files, a new end. */
  private async waitForProgress(): Promise<void> {
    const { pv, call } = this;
    const waits: Array<Promise<unknown>> = [new Promise<void>((resolve) => { this.wake = resolve; })];
    let timer: NodeJS.Timeout | undefined;
    waits.push(new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.min(this.idleFor || SETTLE_MS, call.timeoutMs / 4)); }));
    if (this.idleFor > SETTLE_MS) {
      const seq = Atomics.load(pv.i32, P32.PROGRESS_SEQ);
      // WAITING after reading the sequence: a worker that sees it bumps the sequence past `seq`.
      Atomics.store(pv.i32, P32.WAITING, 1);
      const w = Atomics.waitAsync(pv.i32, P32.PROGRESS_SEQ, seq, this.idleFor);
      if (w.async) waits.push(w.value);
    }
    const more = this.supply.more(Atomics.load(pv.i32, P32.STOP) !== 0);
    if (more !== null) waits.push(more);
    await Promise.race(waits);
    this.wake = null;
    clearTimeout(timer);
    Atomics.store(pv.i32, P32.WAITING, 0);
  }

  /** Lets every lane finish its running record (their workers still run handlers); one past timeoutMs is still stopped. */
  private async drain(): Promise<void> {
    this.stopAll(null);
    while (this.running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const slice = new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.min(IDLE_SETTLE_MS, this.call.timeoutMs / 4)); });
      await Promise.race([...this.running.values(), slice]);
      clearTimeout(timer);
      this.checkHung(performance.now());
    }
  }

  private launch(lane: number, startOffset: number): void {
    if (startOffset >= this.endOffset) return; // no record left in the lane (a call shorter than its stripes): no task, no thread imports the handler
    const { pv, call } = this;
    // The pool's threads cannot start (a task given to the stopped pool would never settle), or the worker module's file cannot be written.
    const filename = call.workerFile();
    if (typeof filename !== 'string') {
      this.failure ??= filename;
      this.stopAll(null);
      return;
    }
    const task: PoolTask = {
      logDir: call.host.logId, dirIdentity: call.host.dirIdentity, window: this.supply.window, handler: call.handlerUrl, retry: call.retry, state: call.host.currentState(), imports: call.imports,
      end: this.supply.end, progress: this.progress, lane, lanes: this.lanes, originOffset: this.originOffset, stripe: call.batchRecords, startOffset, endOffset: this.endOffset,
    };
    const ac = new AbortController();
    Atomics.store(pv.running, lane, runningSlot(startOffset, this.originOffset));
    // A worker that died during a handler call left the lane's counter odd: count from here.
    const calls = Atomics.load(pv.calls, lane);
    this.hung.set(lane, { ac, base: calls, calls, since: performance.now() });
    this.imports.launching(pv, lane); // before the task reaches a thread: its import is timed from its own start
    const p = (this.pool.run(task, { signal: ac.signal, filename }) as Promise<PoolResult>)
      .then((result) => this.onTaskEnd(lane, result), (err: unknown) => this.onTaskLost(lane, err))
      .finally(() => this.poke());
    this.running.set(lane, p);
  }

  /** A task answered: its lane reached `endOffset` or stopped, or a record exhausted its attempts (the lane goes on). */
  private onTaskEnd(lane: number, result: PoolResult): void {
    this.running.delete(lane);
    const r = result.stop;
    if (r === null || r.kind === 'stopped') return;
    if (r.kind === 'exhausted') {
      const goOn = this.exhausted.add(r.offset, { attempts: r.attempts, lastError: r.lastError, record: r.record }, lane);
      // The lane published its progress at the record (pool-lane.ts, stopAt): past it now that its dead letter can be written.
      Atomics.store(this.pv.i64, 1 + lane, BigInt(laneFrom(r.offset + 1, lane, this.lanes, this.originOffset, this.call.batchRecords)));
      if (goOn && Atomics.load(this.pv.i32, P32.STOP) === 0) this.launch(lane, this.nextOf(lane));
      return;
    }
    // As without a pool, the round stops at the first 'break' or error in log order (where the cursor stops),
    // whichever answered first; a handler's error also outranks a stop asked for meanwhile (close(), an abort),
    // and its 'break' an abort (the abort is checked before each record: the answer ends the call first).
    const was = this.stop;
    if (was !== null && (was.kind === 'break' || was.kind === 'error' ? was.offset > r.offset : r.kind === 'error' || was.kind === 'abort')) this.stop = r;
    this.stopAll(r);
  }

  /** The worker died or was stopped for running too long: its lane starts again at its first unfinished record (not committed). */
  private onTaskLost(lane: number, err: unknown): void {
    this.running.delete(lane);
    if (Atomics.load(this.pv.i32, P32.STOP) !== 0) return;
    if (this.call.host.isClosed()) {
      // The call is ending: the lane's unfinished records come again on the next call, not on a new worker.
      this.stopAll({ kind: 'closed' });
      return;
    }
    const at = this.nextOf(lane);
    // Charged to the record whose call ran last (the lane's progress lags it by up to 32 records).
    const lost = runningRecord(Atomics.load(this.pv.running, lane), at, this.originOffset);
    const n = (this.restarts.get(lost) ?? 0) + 1;
    this.restarts.set(lost, n);
    if (n >= MAX_RESTARTS) {
      if (this.failure === null) {
        this.failure = new LogError(ErrorCode.WORKER_FAILED,
          `record ${lost}: the pool worker failed ${MAX_RESTARTS} times (${err instanceof Error ? err.message : String(err)})`, { offset: lost });
        this.failureAt = lost;
      }
      this.stopAll(null);
      return;
    }
    this.launch(lane, at);
  }

  /** Stops a lane whose handler call ran past timeoutMs (its counter odd and unchanged), or still running, in no call, timeoutMs after the stop (a stuck import). */
  private checkHung(now: number): void {
    for (const [lane, h] of this.hung) {
      if (!this.running.has(lane)) continue;
      const calls = Atomics.load(this.pv.calls, lane);
      if (calls !== h.calls) {
        h.calls = calls;
        h.since = now;
      } else if ((((calls - h.base) & 1) === 1 ? now - h.since : now - this.stoppedAt) > this.call.timeoutMs) {
        h.ac.abort(); // piscina ends that worker thread; the rejection starts the lane again
      }
    }
  }

  /** Commits the contiguous prefix of finished records and tells the workers the new window. */
  private async settle(): Promise<void> {
    // Also after close() was called: the consumer closes the cursor only once this call returned.
    const { pv, summary } = this;
    let prefix = this.endOffset;
    for (let k = 0; k < this.lanes; k++) prefix = Math.min(prefix, this.nextOf(k));
    let o = this.doneOffset;
    for (; o < prefix; o++) {
      const i = o & (WINDOW - 1);
      const outcome = pv.outcomes[i];
      if (outcome === OutcomeByte.COMMIT) summary.committed++;
      else if (outcome === OutcomeByte.SKIP) summary.skipped++;
      else if (outcome === OutcomeByte.EXHAUSTED) {
        const ex = this.exhausted.get(o);
        // Its answer (the last error) is on its way; or destroy() released the cursor: it comes again, to be dead-lettered then.
        if (ex === undefined || this.call.host.isReleased) break;
        await this.moveTo(o); // the records before it first: a dead letter that fails does not hand them out again
        this.call.host.checkCursor(); // the record is another owner's now (its lease taken over): its dead letter is theirs to write
        await this.call.deadLetters.put(ex.record, ex.attempts, ex.lastError);
        this.exhausted.delete(o);
        summary.skipped++;
      } else {
        throw internalError(`pool: record ${o} was reported finished without an outcome`, { offset: o });
      }
      pv.outcomes[i] = 0;
    }
    await this.moveTo(o);
    // Lanes parked while too many bytes of exhausted records waited (pool-exhausted.ts) go on.
    for (const lane of this.exhausted.resume(this.lanes, (k) => this.nextOf(k), Atomics.load(pv.i32, P32.STOP) !== 0)) this.launch(lane, this.nextOf(lane));
  }

  /** Every record below `o` is done: the cursor moves there and the workers are told the new window. */
  private async moveTo(o: number): Promise<void> {
    if (o <= this.doneOffset) return;
    this.doneOffset = o;
    const committing = this.call.host.advanceTo(o);
    Atomics.store(this.pv.i64, 0, BigInt(o)); // the prefix first, then the bump that wakes the workers held by the window
    bump(this.pv, P32.SETTLED_SEQ);
    if (committing !== undefined) await commitHolding(this.pv, committing, () => this.call.host.commitInDoubt(), SETTLE_MS);
  }

  private stopAll(why: Stop | null): void {
    if (why !== null) this.stop ??= why;
    const pv = this.pv;
    if (Atomics.load(pv.i32, P32.STOP) !== 0) return;
    this.stoppedAt = performance.now();
    Atomics.store(pv.i32, P32.STOP, this.call.host.isClosed() ? STOP_CLOSING : 1); // close(): the threads are stopped next
    bump(pv, P32.SETTLED_SEQ);
    Atomics.notify(this.sourceViews.i32, this.supply.end.seqSlot); // workers waiting for records look at the stop flag
    for (let k = 0; k < this.lanes; k++) Atomics.notify(pv.laneWake, k);
  }

  private poke(): void {
    const f = this.wake;
    this.wake = null;
    if (f === null) this.dirty = true;
    else f();
  }

  /** The lane's first unfinished record (at most `endOffset`). */
  private nextOf(lane: number): number {
    return Math.min(this.endOffset, Number(Atomics.load(this.pv.i64, 1 + lane)));
  }

  /** The feeder of a window round failed (a read of the backend, a record too large): the call fails with it. */
  private onSupplyFailure(e: unknown): void {
    this.failure ??= e;
    this.stopAll(null);
    this.poke();
  }
}
