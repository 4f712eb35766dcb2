/**
 * A pool round's bound on handler module imports (src/consumer/pool-round.ts). No lane begins a
 * record before every lane that has records has the handler (workers/pool-worker.ts), so one thread
 * whose import never settles (a top-level await on a service that does not answer, a loop that never
 * yields) would hold the whole call for good (and one in a worker started in place of a lost one,
 * its lane): timeoutMs bounds a lane's import as it bounds a
 * handler call, counted from when the coordinator first sees the lane importing (the thread's start
 * is not counted). Past it the call fails with ERR_INVALID_OPTION ('handler'), as for a module that
 * cannot be loaded: no record ran (a replacement's: what finished before is committed).
 */
import { LogError } from '../errors.js';
import { LANE_HAS_HANDLER, LANE_IMPORTING, LANE_REIMPORTING, P32, type ProgressViews } from './pool-protocol.js';

export class ImportWatch {
  /** Lane -> when (performance.now()) the coordinator first saw it importing. */
  private readonly since = new Map<number, number>();

  constructor(private readonly handlerUrl: string, private readonly timeoutMs: number) {}

  /**
   * A task is given to `lane` (at the start, or in place of one that ended or was lost): the import
   * its worker may make is its own, counted from when that worker marks it. An import a lost worker
   * left marked is no longer under way: its mark is undone (the lane counted in P32.READY as before),
   * else the new worker's import would be charged with the time the lost one spent.
   */
  launching(pv: ProgressViews, lane: number): void {
    this.since.delete(lane);
    const state = Atomics.load(pv.loaded, lane);
    if (state === LANE_IMPORTING) Atomics.store(pv.loaded, lane, 0);
    else if (state === LANE_REIMPORTING) Atomics.store(pv.loaded, lane, LANE_HAS_HANDLER);
  }

  /**
   * The failure for a lane whose import has lasted past timeoutMs, else null. Not once the call is
   * stopped (close(), an abort, another lane's answer): the stop ends it then (ConsumerPool.close()
   * lets an import finish for up to timeoutMs, and stops the thread after that).
   */
  check(pv: ProgressViews, lanes: number, now: number): LogError | null {
    if (Atomics.load(pv.i32, P32.STOP) !== 0) return null;
    for (let k = 0; k < lanes; k++) {
      const state = Atomics.load(pv.loaded, k);
      if (state !== LANE_IMPORTING && state !== LANE_REIMPORTING) {
        this.since.delete(k);
        continue;
      }
      const since = this.since.get(k);
      if (since === undefined) this.since.set(k, now);
      else if (now - since > this.timeoutMs) {
        const where = state === LANE_REIMPORTING ? 'a pool thread started in place of a lost one' : 'a pool thread: no record ran';
        return LogError.invalidOption('handler', `module ${this.handlerUrl} did not finish loading within timeoutMs (${this.timeoutMs} ms) on ${where} (a top-level await that never settles, or a load slower than that: a larger timeoutMs allows it)`);
      }
    }
    return null;
  }
}
