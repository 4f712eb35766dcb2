/**
 * Processing with a pool of worker threads (piscina). The coordinator, on the consumer's thread,
 * dispatches ranges [from, to) in log order and advances the cursor only over the contiguous prefix
 * of finished records. A blocking call dispatches ranges ahead of the records written so far: each
 * worker waits on Atomics for the end of the log itself (the producer's control block in its process;
 * elsewhere a block the coordinator publishes into as it tails the files), so a new record reaches a
 * waiting worker without passing through the coordinator. Workers read their records from the files
 * themselves, and come back early with what they finished when records stop arriving. A worker that crashes or exceeds
 * `timeoutMs` has its range dispatched again: its records were not committed, so nothing is lost and
 * nothing is committed twice (effects a handler made before the crash may repeat: use the idempotency
 * key). 'break' or a throw stops dispatching; ranges after the stop are not committed.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { ErrorCode, LogError } from '../errors.js';
import type { Message, ProcessSummary } from '../types.js';
import type { ResolvedRetry } from './consumer-options.js';
import type { DeadLetterSink } from './dead-letter.js';
import type { EndSource, PoolResult, PoolTask } from './pool-protocol.js';
import { CONTROL_BYTES, I32, I64, bump, controlViews, loadOffset, storeOffset } from '../ring/layout.js';

export interface PoolOptions {
  /** Worker threads. Default: the machine's available parallelism. */
  workers?: number;
  /** A range whose worker has not answered after this many ms is taken back and dispatched again. Default 30,000. */
  timeoutMs?: number;
  /** Records per dispatched range. Default 256. */
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
  isClosed(): boolean;
}

/** How many times one range may lose its worker before the call gives up. */
const MAX_RANGE_RESTARTS = 5;

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
    let next = host.position(); // next offset to dispatch
    let done = next; // every record below is completed and committed
    let budget = max ?? Infinity; // records left to dispatch
    const inflight = new Map<number, Promise<void>>(); // ranges whose worker has not answered
    const finished = new Map<number, { to: number; result: PoolResult }>();
    let stop: PoolResult['stop'] | 'abort' | 'closed' = null;
    let failure: unknown = null;
    const stopping = (): boolean => stop !== null || failure !== null || opts.signal?.aborted === true || host.isClosed();

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
    let tailing: Promise<void> | null = null;

    const launch = (from: number, to: number, restarts: number): void => {
      let end = host.endSource();
      if (end === null) {
        publish();
        end = ownSource;
      }
      const task: PoolTask = { logDir: host.logId, handler: handlerUrl, from, to, retry, end };
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), opts.timeoutMs);
      const p = (this.pool.run(task, { signal: ac.signal }) as Promise<PoolResult>).then(
        (result) => {
          inflight.delete(from);
          if (result.stop === null && result.completed < to - from) {
            // Back early (records stopped arriving): keep what it finished, dispatch the rest again,
            // unless the call is ending (then the rest stays uncommitted for the next call).
            if (result.completed > 0) finished.set(from, { to: from + result.completed, result });
            if (!stopping()) launch(from + result.completed, to, restarts);
            return;
          }
          finished.set(from, { to, result });
        },
        (err: unknown) => {
          // The worker died or hung: its records were not committed; hand the range out again.
          if (restarts + 1 >= MAX_RANGE_RESTARTS) {
            failure ??= new LogError(ErrorCode.WORKER_FAILED,
              `records ${from} to ${to - 1}: the pool worker failed ${MAX_RANGE_RESTARTS} times (${err instanceof Error ? err.message : String(err)})`, { offset: from });
            return;
          }
          inflight.delete(from);
          launch(from, to, restarts + 1);
        },
      ).finally(() => clearTimeout(timer));
      inflight.set(from, p);
    };

    const settle = async (): Promise<void> => {
      // Advance over the contiguous prefix of finished ranges.
      for (let f = finished.get(done); f !== undefined && stop === null; f = finished.get(done)) {
        const from = done;
        finished.delete(from);
        const r = f.result;
        summary.retried += r.retried;
        let k = 0;
        for (; k < r.completed; k++) {
          if (r.outcomes[k] === 0) summary.committed++;
          else {
            if (r.outcomes[k] === 2) {
              const ex = r.exhausted.find((e) => e.offset === from + k)!;
              await deadLetters().put(host.readOne(from + k), ex.attempts, ex.lastError);
            }
            summary.skipped++;
          }
        }
        done = from + r.completed;
        if (r.completed > 0) host.advanceTo(done);
        if (r.stop !== null) stop = r.stop;
      }
    };

    try {
      for (;;) {
        if (failure !== null) throw failure;
        await settle();
        if (stop === null && opts.signal?.aborted) stop = 'abort';
        if (stop === null && host.isClosed()) stop = 'closed';
        if (stop === null) {
          // Dispatch in log order while there are idle slots: a blocking call also past the records
          // written so far (the workers wait for them). Bounded look-ahead: ranges in flight, and
          // finished ranges waiting for an earlier one.
          // A blocking call keeps one range per worker: a range queued behind ranges still waiting for
          // records would hold up the rest of a range that came back early.
          const slots = blocking ? this.workers : this.workers * 2;
          while (inflight.size < slots && finished.size < this.workers * 8 && budget > 0) {
            const cap = blocking ? Infinity : host.availableEnd();
            const end = Math.min(cap, next + opts.batchRecords, next + budget);
            if (end <= next) break;
            launch(next, end, 0);
            budget -= end - next;
            next = end;
          }
        }
        if (inflight.size === 0) {
          if (finished.size > 0 && stop === null) continue; // settle() advances over them
          if (stop !== null || budget <= 0 || !blocking) break;
          await host.wait(opts.signal, next);
          continue;
        }
        const waits = [...inflight.values()];
        if (blocking && stop === null && host.endSource() === null) {
          // Tail the files for the workers: publish each new end into the block they watch.
          tailing ??= host.wait(opts.signal, loadOffset(own, I64.WRITTEN_OFFSET)).then(publish, () => undefined).finally(() => { tailing = null; });
          waits.push(tailing);
        }
        await Promise.race(waits);
      }
    } finally {
      // Let every range in flight finish before returning: their workers are still running handlers.
      // A worker waiting for records comes back within its idle limit.
      await Promise.allSettled(inflight.values());
    }
    const why = stop as PoolResult['stop'] | 'abort' | 'closed'; // assigned in closures, which narrowing does not see
    if (why !== null && typeof why === 'object' && why.kind === 'error') {
      throw Object.assign(new Error(why.message), why.code !== null ? { code: why.code } : {});
    }
    summary.stoppedBy = why === 'abort' ? 'abort' : why !== null && typeof why === 'object' && why.kind === 'break' ? 'break'
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
