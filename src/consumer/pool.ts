/**
 * Processing with a pool of worker threads (piscina). The records from the call's first one on are
 * dealt in stripes of `batchRecords` to the workers in turn (src/consumer/pool-protocol.ts); each
 * worker runs its lane as one long task, waits on Atomics for records not written yet (the producer's
 * control block in its process; elsewhere a block the coordinator publishes into as it tails the
 * files), reads its records from the files itself, and reports each finished record through shared
 * memory. So in steady state a record passes from the writer to a worker without the coordinator's
 * thread and without a task hand-off. The coordinator, on the consumer's thread, advances the cursor
 * over the contiguous prefix of finished records only.
 *
 * A worker that crashes, or whose handler call runs past `timeoutMs`, is replaced and its lane starts
 * again at its first unfinished record: nothing finished is lost, and nothing is committed twice
 * (effects a handler made before the crash may repeat: use the idempotency key). 'break' or a throw
 * stops the call; records after the stopping one are not committed.
 *
 * close() of the consumer waits for the call: the lanes stop, each finishes the handler call it is
 * running (a call past `timeoutMs` still has its worker stopped), the contiguous prefix of finished
 * records is committed and counted, and the call returns. The consumer destroys the pool after that.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { ErrorCode, LogError } from '../errors.js';
import type { Message, ProcessSummary } from '../types.js';
import type { ResolvedRetry } from './consumer-options.js';
import type { DeadLetterSink } from './dead-letter.js';
import {
  OutcomeByte, P32, WINDOW, laneFrom, progressBytes, progressViews, runningRecord, runningSlot, type EndSource, type PoolResult, type PoolTask,
} from './pool-protocol.js';
import { CONTROL_BYTES, I32, I64, bump, controlViews, loadOffset, storeOffset } from '../ring/layout.js';

export interface PoolOptions {
  /** Worker threads. Default: the machine's available parallelism. */
  workers?: number;
  /** A handler call running longer than this many ms has its worker replaced and its record dispatched again. Default 30,000. */
  timeoutMs?: number;
  /** Records per stripe: the workers take stripes of this many records in turn. Default 256. */
  batchRecords?: number;
  signal?: AbortSignal;
}

/** What the pool needs from its consumer. */
export interface PoolHost {
  readonly logId: string;
  /** First offset not yet completed. */
  position(): number;
  /** The offset below which records may be handed out now. */
  availableEnd(): number;
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

/** How many times one record may lose its worker before the call gives up. */
const MAX_RESTARTS = 5;
/** The coordinator looks at progress at least this often while records are being finished (ms). */
const SETTLE_MS = 2;
/** ... and at most this rarely when nothing moves (a progress wakes it at once). */
const IDLE_SETTLE_MS = 250;

type Stop = Exclude<PoolResult['stop'], null | { kind: 'stopped' } | { kind: 'exhausted' }> | { kind: 'abort' } | { kind: 'closed' };

export class ConsumerPool {
  private readonly pool: Piscina;

  constructor(readonly workers: number) {
    this.pool = new Piscina({
      filename: new URL('./pool-worker.js', import.meta.url).href,
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: 60_000,
      concurrentTasksPerWorker: 1,
    });
  }

  async run(host: PoolHost, max: number | null, handlerUrl: string, blocking: boolean, opts: Required<Omit<PoolOptions, 'signal'>> & { signal?: AbortSignal },
    retry: ResolvedRetry, deadLetters: () => DeadLetterSink): Promise<ProcessSummary> {
    const summary: ProcessSummary = { committed: 0, skipped: 0, retried: 0, stoppedBy: 'end' };
    const origin = host.position();
    const limit = max === null ? Number.MAX_SAFE_INTEGER : origin + max;
    const to = blocking ? limit : Math.min(limit, host.availableEnd());
    if (to <= origin) {
      summary.stoppedBy = max !== null && max === 0 ? 'limit' : 'end';
      return summary;
    }
    const lanes = this.workers;
    const stripe = opts.batchRecords;
    const progress = new SharedArrayBuffer(progressBytes(lanes));
    const pv = progressViews(progress, lanes);
    Atomics.store(pv.i64, 0, BigInt(origin));
    const nextOf = (lane: number): number => Math.min(to, Number(Atomics.load(pv.i64, 1 + lane)));
    for (let k = 0; k < lanes; k++) {
      Atomics.store(pv.i64, 1 + k, BigInt(laneFrom(origin, k, lanes, origin, stripe)));
      Atomics.store(pv.stripeDone, k, -1n);
    }

    // Without the producer in this process, workers watch this block, where the coordinator publishes
    // the end of the records it finds in the files.
    const ownBlock = new SharedArrayBuffer(CONTROL_BYTES);
    const own = controlViews(ownBlock);
    const ownSource: EndSource = { control: ownBlock, offsetSlot: I64.WRITTEN_OFFSET, seqSlot: I32.WRITTEN_SEQ, strict: false };
    const publish = (): void => {
      const end = host.availableEnd();
      if (end > loadOffset(own, I64.WRITTEN_OFFSET)) {
        storeOffset(own, I64.WRITTEN_OFFSET, end);
        bump(own, I32.WRITTEN_SEQ);
      }
    };
    let source = host.endSource();
    if (source === null) {
      publish();
      source = ownSource;
    }
    const endSource = source;
    const sourceViews = controlViews(endSource.control);

    let done = origin; // every record below is completed and committed
    let stop: Stop | null = null;
    let failure: unknown = null;
    const running = new Map<number, Promise<void>>(); // lane -> its task
    const exhausted = new Map<number, { attempts: number; lastError: string | null }>();
    const restarts = new Map<number, number>(); // record -> workers lost while it ran
    // Wakes the coordinator's loop (a task ended, the signal aborted); `dirty` keeps a poke that came
    // while the loop was not waiting.
    let dirty = false;
    const poke = (): void => {
      const f = wake;
      wake = null;
      if (f === null) dirty = true;
      else f();
    };
    const stopAll = (why: Stop | null): void => {
      if (why !== null) stop ??= why;
      if (Atomics.load(pv.i32, P32.STOP) !== 0) return;
      Atomics.store(pv.i32, P32.STOP, 1);
      bump(pv, P32.SETTLED_SEQ);
      Atomics.notify(sourceViews.i32, endSource.seqSlot); // workers waiting for records look at the stop flag
      for (let k = 0; k < lanes; k++) Atomics.notify(pv.laneWake, k);
    };

    const launch = (lane: number, start: number): void => {
      const task: PoolTask = { logDir: host.logId, handler: handlerUrl, retry, end: endSource, progress, lane, lanes, origin, stripe, start, to };
      const ac = new AbortController();
      Atomics.store(pv.running, lane, runningSlot(start, origin));
      // A worker that died during a handler call left the lane's counter odd: count from here.
      const calls = Atomics.load(pv.calls, lane);
      hung.set(lane, { ac, base: calls, calls, since: performance.now() });
      const p = (this.pool.run(task, { signal: ac.signal }) as Promise<PoolResult>).then(
        (result) => {
          running.delete(lane);
          const r = result.stop;
          if (r === null || r.kind === 'stopped') return;
          if (r.kind === 'exhausted') {
            exhausted.set(r.offset, { attempts: r.attempts, lastError: r.lastError });
            if (Atomics.load(pv.i32, P32.STOP) === 0) launch(lane, nextOf(lane));
            return;
          }
          stopAll(r);
        },
        (err: unknown) => {
          // The worker died or was stopped for running too long: its unfinished records were not
          // committed; start its lane again at the first of them.
          running.delete(lane);
          if (Atomics.load(pv.i32, P32.STOP) !== 0) return;
          if (host.isClosed()) {
            // The call is ending: the lane's unfinished records come again on the next call, not on
            // a new worker.
            stopAll({ kind: 'closed' });
            return;
          }
          const at = nextOf(lane);
          // Charged to the record whose call ran last (the lane's progress lags it by up to 32 records).
          const lost = runningRecord(Atomics.load(pv.running, lane), at, origin);
          const n = (restarts.get(lost) ?? 0) + 1;
          restarts.set(lost, n);
          if (n >= MAX_RESTARTS) {
            failure ??= new LogError(ErrorCode.WORKER_FAILED,
              `record ${lost}: the pool worker failed ${MAX_RESTARTS} times (${err instanceof Error ? err.message : String(err)})`, { offset: lost });
            stopAll(null);
            return;
          }
          launch(lane, at);
        },
      ).finally(poke);
      running.set(lane, p);
    };
    /**
     * Per lane: the task's abort, the handler-call counter when it was launched (a call runs while the
     * count since then is odd), and since when the counter has stood still.
     */
    const hung = new Map<number, { ac: AbortController; base: number; calls: number; since: number }>();
    const checkHung = (now: number): void => {
      for (const [lane, h] of hung) {
        if (!running.has(lane)) continue;
        const calls = Atomics.load(pv.calls, lane);
        if (calls !== h.calls) {
          h.calls = calls;
          h.since = now;
        } else if (((calls - h.base) & 1) === 1 && now - h.since > opts.timeoutMs) {
          h.ac.abort(); // piscina ends that worker thread; the rejection starts the lane again
        }
      }
    };

    const settle = async (): Promise<void> => {
      // Also after close() was called: the consumer closes the cursor only once this call returned.
      let prefix = to;
      for (let k = 0; k < lanes; k++) prefix = Math.min(prefix, nextOf(k));
      let o = done;
      for (; o < prefix; o++) {
        const i = o & (WINDOW - 1);
        const outcome = pv.outcomes[i];
        if (outcome === OutcomeByte.COMMIT) summary.committed++;
        else if (outcome === OutcomeByte.SKIP) summary.skipped++;
        else if (outcome === OutcomeByte.EXHAUSTED) {
          const ex = exhausted.get(o);
          if (ex === undefined) break; // its task's answer (the last error) is still on its way
          await deadLetters().put(host.readOne(o), ex.attempts, ex.lastError);
          exhausted.delete(o);
          summary.skipped++;
        } else {
          throw new LogError(ErrorCode.LOG_CORRUPT, `pool: record ${o} was reported finished without an outcome`, { offset: o });
        }
        pv.outcomes[i] = 0;
      }
      if (o > done) {
        done = o;
        host.advanceTo(done);
        Atomics.store(pv.i64, 0, BigInt(done));
        bump(pv, P32.SETTLED_SEQ);
      }
    };

    let tailing: Promise<void> | null = null;
    let idleFor = 0;
    let wake: (() => void) | null = null;
    const onAbort = (): void => poke();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    host.closeRequested.addEventListener('abort', onAbort, { once: true });
    let thrown: unknown = null;
    let moved = false; // the end source changed: another round follows
    try {
      for (let k = 0; k < lanes; k++) launch(k, nextOf(k));
      for (;;) {
        const before = done;
        await settle();
        if (failure !== null) break;
        if (opts.signal?.aborted) stopAll({ kind: 'abort' });
        if (host.isClosed()) stopAll({ kind: 'closed' });
        if (endSource !== ownSource && !moved && host.endSource()?.control !== endSource.control) {
          // The producer of this process closed (or was replaced): its block says no more. End
          // this round and go on with the source there is now (see the end of run()).
          moved = true;
          stopAll(null);
        }
        if (running.size === 0) break;
        checkHung(performance.now());
        // While records are being finished, look every SETTLE_MS; when nothing moves, ask the
        // workers for a wake-up at the next progress and look less often.
        idleFor = done > before ? 0 : Math.min(IDLE_SETTLE_MS, Math.max(SETTLE_MS, idleFor * 2));
        if (dirty) {
          dirty = false;
          continue;
        }
        const waits: Array<Promise<unknown>> = [new Promise<void>((resolve) => { wake = resolve; })];
        let timer: NodeJS.Timeout | undefined;
        waits.push(new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.min(idleFor || SETTLE_MS, opts.timeoutMs / 4)); }));
        if (idleFor > SETTLE_MS) {
          const seq = Atomics.load(pv.i32, P32.PROGRESS_SEQ);
          Atomics.store(pv.i32, P32.WAITING, 1);
          const w = Atomics.waitAsync(pv.i32, P32.PROGRESS_SEQ, seq, idleFor);
          if (w.async) waits.push(w.value);
        }
        if (blocking && endSource === ownSource && Atomics.load(pv.i32, P32.STOP) === 0) {
          // Tail the files for the workers: publish each new end into the block they watch.
          tailing ??= host.wait(opts.signal, loadOffset(own, I64.WRITTEN_OFFSET)).then(publish, () => undefined).finally(() => { tailing = null; });
          waits.push(tailing);
        }
        await Promise.race(waits);
        wake = null;
        clearTimeout(timer);
        Atomics.store(pv.i32, P32.WAITING, 0);
      }
    } catch (e) {
      thrown = e;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      host.closeRequested.removeEventListener('abort', onAbort);
      // Let every lane finish its running record before returning: their workers are still running
      // handlers. A handler call past timeoutMs still has its worker stopped meanwhile.
      stopAll(null);
      while (running.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([...running.values(), new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.min(IDLE_SETTLE_MS, opts.timeoutMs / 4)); })]);
        clearTimeout(timer);
        checkHung(performance.now());
      }
    }
    // Commit what finished before the end, a stop or a failure.
    if (thrown === null) {
      try {
        await settle();
      } catch (e) {
        thrown = e;
      }
    }
    if (thrown !== null) throw thrown;
    if (failure !== null) throw failure;
    const why = stop as Stop | null; // assigned in closures, which narrowing does not see
    for (let k = 0; k < lanes; k++) summary.retried += Atomics.load(pv.retried, k);
    if (why !== null && why.kind === 'error') {
      throw Object.assign(new Error(why.message), why.code !== null ? { code: why.code } : {});
    }
    if (moved && why === null && !host.isClosed()) {
      // A new round from the first record not done, watching the new source (records finished
      // out of order past it in this round come again: they were not committed).
      const rest = await this.run(host, max === null ? null : max - summary.committed - summary.skipped, handlerUrl, blocking, opts, retry, deadLetters);
      return { committed: summary.committed + rest.committed, skipped: summary.skipped + rest.skipped, retried: summary.retried + rest.retried, stoppedBy: rest.stoppedBy };
    }
    summary.stoppedBy = why?.kind === 'abort' ? 'abort' : why?.kind === 'break' ? 'break'
      : max !== null && summary.committed + summary.skipped >= max ? 'limit' : 'end';
    return summary;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

export function resolvePoolOptions(o: PoolOptions | undefined): Required<Omit<PoolOptions, 'signal'>> & { signal?: AbortSignal } {
  const v = o ?? {};
  const workers = v.workers ?? availableParallelism();
  if (!Number.isSafeInteger(workers) || workers < 1 || workers > 256) throw LogError.invalidOption('workers', `expected a whole number from 1 to 256, got ${String(workers)}`);
  const timeoutMs = v.timeoutMs ?? 30_000;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw LogError.invalidOption('timeoutMs', `expected a whole number of ms of at least 1, got ${String(timeoutMs)}`);
  const batchRecords = v.batchRecords ?? 256;
  if (!Number.isSafeInteger(batchRecords) || batchRecords < 1) throw LogError.invalidOption('batchRecords', `expected a whole number of at least 1, got ${String(batchRecords)}`);
  return { workers, timeoutMs, batchRecords, ...(v.signal ? { signal: v.signal } : {}) };
}
