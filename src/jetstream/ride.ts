/**
 * How a consumer rides out a transient outage (a server restart, a lost connection, a leader
 * election): a request that fails with a transient error is tried again, every RETRY_MS, until
 * something succeeds; when nothing has succeeded for 2 x timeoutMs since the first failure (the rule
 * the producer's resync follows), the consumer stops with ERR_IO saying so. The bound is the
 * server's: a try of run() still unanswered ends at the bound, and a try sent in the bound's last
 * timeoutMs that failed (a request lost while the cluster had no leader) may have missed a server
 * that answers again by then, so one more try is sent, past the bound, with its own timeout; only
 * a try sent past the bound ends the ride. So a server that answers again within 2 x timeoutMs of
 * the first failure is heard, and the ERR_IO comes at most one try's timeout past the bound. Any other error
 * stops it at once. stop() (the consumer's close or destroy) ends a retry at once, and a request in
 * flight is no longer waited for.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, LogError } from '../errors.js';
import { asLogError } from './session.js';
import { transientError } from './transient.js';

/** Between two tries of a request that failed transiently (a leader election takes seconds). */
const RETRY_MS = 250;

/**
 * Whether a try sent at `sentAt` (performance.now()) that failed is the bound's last try: sent in the
 * `timeoutMs` before `deadline`, it may have been lost just before the server answered again, so one
 * more try follows it (the module comment). The rule of Ride, the producer's resync and its lease wait.
 */
export function lastTryBeforeBound(sentAt: number, deadline: number, timeoutMs: number): boolean {
  return sentAt < deadline && sentAt > deadline - timeoutMs;
}
/**
 * An outage a ride of the consumer gave up in (ERR_IO past its bound, failing the call it served),
 * shared by the consumer's rides (its pull, its reads of the stream's end, its commits). The call
 * still commits what its handler finished as it ends: that commit is one more try in the same
 * outage, not the first of a window of its own (the call would otherwise take the sum of its steps'
 * bounds), so a commit whose first failure comes while the outage is marked counts its bound from
 * the outage's start. The mark holds until a ride of the consumer succeeds or the next call or
 * iteration starts (JsSource.callStarts: an outage of a call before is not its own). Only commits
 * take it on: a read's window follows its call (pull.ts), and a commit's failures never shorten a read's.
 */
export class Outage {
  /** When the outage began (the first failure of the ride that gave up; performance.now(), ms), else null. */
  private since: number | null = null;

  get marked(): boolean {
    return this.since !== null;
  }

  /** A ride gave up on an outage that began at `since`. */
  mark(since: number): void {
    this.since = Math.min(this.since ?? Infinity, since);
  }

  clear(): void {
    this.since = null;
  }

  /** Where a first failure at `now` counts its bound from: the outage's start while it is marked. */
  startFor(now: number): number {
    return this.since ?? now;
  }
}

/** How a ride takes part in its consumer's Outage: it `adopts` the mark (commits), and it `marks` when it gives up in failed(). */
export interface OutageRole {
  readonly outage: Outage;
  readonly adopts?: boolean;
  /** Unless false: the pull decides itself whether its giving up ends the call (pull.ts). */
  readonly marks?: boolean;
}

export class Ride {
  /** When the first failure since the last success happened (performance.now(), ms), else null. */
  private since: number | null = null;
  private readonly stopping = new AbortController();

  /**
   * `signal`: an open's abort signal; once it aborts, a failed try ends the ride with ERR_ABORTED.
   * `role`: its part in the consumer's Outage.
   */
  constructor(private readonly timeoutMs: number, private readonly who: string, private readonly signal?: AbortSignal, private readonly role?: OutageRole) {
    signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  /** Something succeeded: a later failure gets a window of its own, and the consumer's outage is over. */
  progress(): void {
    this.since = null;
    this.role?.outage.clear();
  }

  /** This ride's later failures get a window of their own; the consumer's outage stays as it is. */
  resetWindow(): void {
    this.since = null;
  }

  /** This ride gave up (ERR_IO past its bound) and the call it served fails: the consumer's outage is marked. */
  markGaveUp(): void {
    if (this.since !== null) this.role?.outage.mark(this.since);
  }

  /**
   * The window starts at `t` (performance.now()) when it began before it: the failures before `t`
   * no longer count. Returns whether it moved.
   */
  windowFrom(t: number): boolean {
    if (this.since === null || this.since >= t) return false;
    this.since = t;
    return true;
  }

  /** A failure happened and nothing has succeeded since. */
  get failing(): boolean {
    return this.since !== null;
  }

  get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** Ends every retry now: they reject with ERR_LOG_CLOSED. */
  stop(): void {
    this.stopping.abort();
  }

  /**
   * Runs `op` until it succeeds (see the module comment); `what` names it in the error. An op that
   * reads many answers and bounds itself by their silence (a range of records: tail-scan.ts) calls
   * `alive` at each: a try that is still reading is not ended at the bound (it ends on its own
   * silence; the bound still counts for the next try). `current` is false once the try ended: an op
   * that writes checks it before each write and takes no answer on after it, since a try cut at the
   * bound goes on unseen beside the next try (its late answer must not undo what a later try did).
   */
  async run<T>(what: string, op: (alive: () => void, current: () => boolean) => Promise<T>): Promise<T> {
    for (;;) {
      this.checkStopped();
      const sentAt = performance.now();
      const deadline = this.since === null ? Infinity : this.since + 2 * this.timeoutMs;
      let reading = false;
      let over = false;
      try {
        const value = await this.race(op(() => { reading = true; }, () => !over), sentAt < deadline ? () => (reading ? Infinity : deadline) : Infinity);
        this.progress();
        return value;
      } catch (e) {
        over = true;
        await this.failed(e, what, sentAt);
      }
    }
  }

  /**
   * A try failed with `e`: throws it coded when it is final (not transient, or past the deadline),
   * else waits before the next try. `sentAt` (performance.now()): when the failed try was sent; one
   * sent before the deadline and failing past it gets one more try at once (the module comment).
   */
  async failed(e: unknown, what: string, sentAt?: number): Promise<void> {
    this.checkStopped();
    if (!transientError(e)) throw asLogError(e, what);
    // Elapsed time, on the monotonic clock: a wall clock stepped (NTP, a resumed VM) neither ends the bound early nor stretches it.
    const now = performance.now();
    this.since ??= this.role?.adopts === true ? this.role.outage.startFor(now) : now;
    const deadline = this.since + 2 * this.timeoutMs;
    const left = deadline - now;
    if (left <= 0 && sentAt !== undefined && lastTryBeforeBound(sentAt, deadline, this.timeoutMs)) return; // one more try, sent past the bound
    if (left <= 0) {
      if (this.role?.marks !== false) this.markGaveUp();
      throw new LogError(ErrorCode.IO, `${what} failed (${(e as Error)?.message ?? String(e)}), and nothing succeeded within 2 x timeoutMs (${2 * this.timeoutMs} ms) of the first failure: the server is away or has no leader for the stream`, {}, { cause: e });
    }
    // stop() clears the timer: a stopped ride holds nothing that keeps the process up.
    await sleep(Math.min(RETRY_MS, left), undefined, { signal: this.stopping.signal }).catch(() => undefined);
    this.checkStopped();
  }

  /**
   * `p`, or ERR_LOG_CLOSED as soon as stop() is called (its timer cleared then: a stopped ride keeps
   * no timer running); a timeout at `until` (performance.now()), when given: a function is read again
   * when its time comes (it may have moved, or gone: Infinity).
   */
  race<T>(p: Promise<T>, until: number | (() => number) = Infinity): Promise<T> {
    const signal = this.stopping.signal;
    if (signal.aborted) {
      p.catch(() => undefined);
      return Promise.reject(LogError.closed(this.who));
    }
    return new Promise<T>((resolve, reject) => {
      let t: NodeJS.Timeout | undefined;
      const onStop = (): void => { clearTimeout(t); reject(LogError.closed(this.who)); };
      signal.addEventListener('abort', onStop, { once: true });
      const bound = typeof until === 'function' ? until : (): number => until;
      const arm = (): void => {
        const at = bound();
        if (at === Infinity) return;
        t = setTimeout(() => {
          if (performance.now() < bound()) arm();
          else reject(new Error('timeout: the try was still unanswered when the bound passed'));
        }, Math.max(0, at - performance.now()));
      };
      arm();
      const settled = (): void => { signal.removeEventListener('abort', onStop); clearTimeout(t); };
      p.then((v) => { settled(); resolve(v); }, (e: unknown) => { settled(); reject(e); });
    });
  }

  private checkStopped(): void {
    if (this.signal?.aborted === true) throw LogError.aborted(this.who, this.signal);
    if (this.stopped) throw LogError.closed(this.who);
  }
}
