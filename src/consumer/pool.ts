/**
 * Processing with a pool of worker threads (piscina). The records from the call's first one on are
 * dealt in stripes of `batchRecords` to the workers in turn (src/consumer/pool-protocol.ts); each
 * worker runs its lane as one long task, waits on Atomics for records not written yet (the producer's
 * control block in its process; elsewhere a block the coordinator publishes into as it tails the
 * files), reads its records from the files itself, and reports each finished record through shared
 * memory. So in steady state a record passes from the writer to a worker without the coordinator's
 * thread and without a task hand-off. On a backend the coordinator's feeder copies the records into a
 * shared window the workers read instead (src/consumer/pool-feeder.ts, pool-window.ts). The coordinator, on the consumer's thread, advances the cursor
 * over the contiguous prefix of finished records only.
 *
 * A worker that crashes, or whose handler call runs past `timeoutMs`, is replaced and its lane starts
 * again at its first unfinished record: nothing finished is lost, and nothing is committed twice
 * (effects a handler made before the crash may repeat: use the idempotency key). 'break' or a throw
 * stops the call; records after the stopping one are not committed.
 *
 * This module holds the pool and the validation of its options (PoolOptions, in types.ts); the coordinator of one round of a call is
 * src/consumer/pool-round.ts, and a lane is src/consumer/pool-lane.ts, run by workers/pool-worker.ts (embedded in the
 * built library; src/consumer/pool-worker-file.ts gives piscina its file).
 *
 * close() of the consumer waits for the call: the lanes stop, each finishes the handler call it is
 * running (a call past `timeoutMs` still has its worker stopped), the contiguous prefix of finished
 * records is committed and counted, and the call returns. The consumer destroys the pool after that.
 */
import { availableParallelism } from 'node:os';
import type { Piscina } from 'piscina';
import { ErrorCode, LogError } from '../errors.js';
import { requirePackage } from '../package-require.js';
import { describe, requireInt } from '../validate.js';
import type { PoolOptions, ProcessSummary } from '../types.js';
import type { ResolvedRetry } from './start-plan.js';
import type { DeadLetterSink } from './dead-letter.js';
import type { PoolHost } from './pool-host.js';
import { PoolRound } from './pool-round.js';
import { poolWorkerFile } from './pool-worker-file.js';
import { valueText } from './handler-policy.js';

/** PoolOptions with every default applied. */
export type ResolvedPoolOptions = Required<Omit<PoolOptions, 'signal'>> & { signal?: AbortSignal };

const POOL_KEYS = new Set(['workers', 'timeoutMs', 'batchRecords', 'signal']);

/** The longest delay a Node timer takes (ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

let piscina: typeof Piscina | null = null;

/**
 * piscina, loaded by the first pool of the process with a require from the library's own file (in
 * a bundle, the bundle's file; src/package-require.ts).
 * A bundler does not follow that call, so piscina stays a package of node_modules without being
 * named an external: it starts each thread from a file of its own package, which inlined code could
 * not find. A process without pools never loads it.
 */
function loadPiscina(): typeof Piscina {
  try {
    piscina ??= (requirePackage('piscina') as { Piscina: typeof Piscina }).Piscina;
  } catch (e) {
    throw new LogError(ErrorCode.WORKER_FAILED, `consumer pools need the package piscina, which could not be loaded: ${valueText(e)}`, {}, { cause: e });
  }
  return piscina;
}

/** The piscina pool of one consumer, with a fixed number of threads; it serves that consumer's calls one at a time. */
export class ConsumerPool {
  private readonly pool: Piscina;
  /** A pool thread that could not start (piscina's own thread script failed): every later call fails with it. */
  private startFailure: LogError | null = null;
  /** I32 slot 0: handler module imports in flight in the pool's threads (workers/pool-worker.ts counts them). */
  private readonly imports = new SharedArrayBuffer(4);
  /** Until when (performance.now()) close() waits for those imports: timeoutMs after the last call stopped. */
  private importsUntil = 0;
  /** The round of the call under way, else null (read by tests: whether it stopped its lanes). */
  round: PoolRound | null = null;

  /** `workers`: the pool's threads. */
  constructor(readonly workers: number) {
    const Pool = loadPiscina();
    poolWorkerFile(); // ERR_WORKER_FAILED now when the temporary directory takes no file
    // No module for piscina to load when a thread starts: each task names the worker module's file
    // (workerFile), so a thread started in place of a lost one does not need a file a cleaner of the
    // temporary directory removed since the pool started.
    this.pool = new Pool({
      filename: null,
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: 60_000,
      concurrentTasksPerWorker: 1,
    });
    // piscina emits 'error' when a thread fails outside a task, as when it cannot start; unheard,
    // that event would end the process. (The worker module's file failing to load fails a task.)
    // A thread that cannot start will not start on a retry: the pool is stopped, which ends the tasks
    // waiting for a thread, and the call fails with this error.
    this.pool.on('error', (e: unknown) => {
      if (this.startFailure !== null) return;
      this.startFailure = new LogError(ErrorCode.WORKER_FAILED, `a consumer pool thread failed to start: ${valueText(e)}`, {}, { cause: e });
      void this.pool.destroy().catch(() => undefined);
    });
  }

  /**
   * One processing call: rounds of PoolRound from the host's done offset until `max`, the end or a stop.
   * A nonblocking call's later rounds keep `fixedEnd`, the end its first round read.
   */
  async run(host: PoolHost, max: number | null, handlerUrl: string, blocking: boolean, opts: ResolvedPoolOptions,
    retry: ResolvedRetry, deadLetters: DeadLetterSink, fixedEnd: number | null = null): Promise<ProcessSummary> {
    if (this.startFailure !== null) throw this.startFailure;
    // As without a pool: `max` 0 is 'limit', then a signal already aborted is 'abort', before any worker starts.
    const none = (stoppedBy: ProcessSummary['stoppedBy']): ProcessSummary => ({ committed: 0, skipped: 0, retried: 0, stoppedBy });
    const aborted = (): boolean => opts.signal?.aborted === true;
    if (max === 0) return none('limit');
    if (aborted()) return none('abort');
    if (!blocking && fixedEnd === null) {
      const refreshed = host.refreshEnd(opts.signal);
      if (refreshed !== undefined) await refreshed;
      if (aborted()) return none('abort');
    }
    const originOffset = host.doneOffset();
    const limitOffset = max === null ? Number.MAX_SAFE_INTEGER : originOffset + max;
    const endOffset = blocking ? limitOffset : Math.min(limitOffset, fixedEnd ?? host.availableEndOffset());
    if (endOffset <= originOffset) {
      return none('end');
    }
    const call = {
      host, handlerUrl, blocking, timeoutMs: opts.timeoutMs, batchRecords: opts.batchRecords, signal: opts.signal, retry, deadLetters,
      workerFile: () => this.workerFile(), imports: this.imports,
    };
    let round: Awaited<ReturnType<PoolRound['run']>>;
    const r = this.round = new PoolRound(this.pool, this.workers, call, originOffset, endOffset);
    try {
      round = await r.run();
    } catch (e) {
      throw this.startFailure ?? e;
    } finally {
      this.round = null;
      if (r.stoppedAt < Infinity) this.importsUntil = Math.max(this.importsUntil, r.stoppedAt + opts.timeoutMs);
    }
    if (this.startFailure !== null) throw this.startFailure;
    const { summary, stop, moved } = round;
    if (moved && stop === null && !host.isClosed()) {
      // A new round from the first record not done, watching the new source (records finished
      // out of order past it in this round come again: they were not committed). A nonblocking call
      // still ends where it read the end at its start: records appended since are the next call's.
      const rest = await this.run(host, max === null ? null : max - summary.committed - summary.skipped, handlerUrl, blocking, opts, retry, deadLetters,
        blocking ? null : endOffset);
      return { committed: summary.committed + rest.committed, skipped: summary.skipped + rest.skipped, retried: summary.retried + rest.retried, stoppedBy: rest.stoppedBy };
    }
    summary.stoppedBy = stop?.kind === 'abort' ? 'abort' : stop?.kind === 'break' ? 'break'
      : max !== null && summary.committed + summary.skipped >= max ? 'limit' : 'end';
    return summary;
  }

  /**
   * The worker module's file for the next task (written anew when it was removed), or why no task can
   * run: the pool's threads cannot start (the pool is stopped), or the file cannot be written.
   */
  private workerFile(): string | Error {
    if (this.startFailure !== null) return this.startFailure;
    try {
      return poolWorkerFile();
    } catch (e) {
      return e as Error;
    }
  }

  /**
   * Stops the pool's threads, once their imports of a handler module have finished: an abort ends a
   * call at once while its threads may still import the module, and Node's module loader reads a
   * module's file through an open descriptor that a thread stopped during the read leaves open in the
   * process. A thread waiting for its next task is paused (piscina), so the import goes on only while
   * the thread runs a task: each thread is given one that waits for its own imports (a thread that
   * died during its import left it in the pool's count, and no thread waits for it). The wait ends
   * timeoutMs after the last call stopped at the latest (an import that never settles, or a thread
   * the call already stopped during its import), so close() stays within about timeoutMs of the stop.
   */
  async close(): Promise<void> {
    if (this.startFailure !== null) return;
    const left = this.importsUntil - performance.now();
    const filename = Atomics.load(new Int32Array(this.imports), 0) > 0 && left > 0 ? this.workerFile() : null;
    if (typeof filename === 'string') {
      const task = { imports: this.imports, ms: left };
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(Array.from({ length: this.workers }, () => this.pool.run(task, { filename, name: 'settle' }))),
        // A Node timer holds at most 2^31 - 1 ms; a longer one fires after 1 ms (TimeoutOverflowWarning).
        new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.min(left, MAX_TIMER_MS)); }),
      ]);
      clearTimeout(timer);
    }
    await this.pool.destroy();
  }
}

/**
 * Validates the pool options and applies the defaults (an option left undefined or null takes its
 * default). Throws ERR_INVALID_OPTION naming the first bad or unknown one.
 */
export function resolvePoolOptions(o: PoolOptions | undefined): ResolvedPoolOptions {
  const v = (o ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!POOL_KEYS.has(k)) throw LogError.invalidOption(k, 'unknown option');
  const workers = v.workers == null ? availableParallelism() : requireInt('workers', v.workers, 1, 256);
  const timeoutMs = v.timeoutMs == null ? 30_000 : requireInt('timeoutMs', v.timeoutMs, 1, Number.MAX_SAFE_INTEGER,
    `expected a whole number of ms of at least 1, got ${describe(v.timeoutMs)}`);
  const batchRecords = v.batchRecords == null ? 256 : requireInt('batchRecords', v.batchRecords, 1, Number.MAX_SAFE_INTEGER,
    `expected a whole number of at least 1, got ${describe(v.batchRecords)}`);
  const signal = v.signal as AbortSignal | undefined;
  return { workers, timeoutMs, batchRecords, ...(signal ? { signal } : {}) };
}
