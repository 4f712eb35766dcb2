/**
 * The `lagThreshold` option of Consumer.open: once a second, while someone subscribes to
 * `reactive-log:lag`, the consumer measures its lag (Consumer.lag()) and publishes when it passes the
 * threshold (`above: true`) and when it is back under it (`above: false`); nothing per record, and
 * nothing at all while nobody subscribes. A transactional consumer opened again on its cursor in this
 * process goes on from the state its previous run published (aboveCursors). A check that fails (an I/O error reading the log) is
 * reported as a process warning, `RL_LAG_CHECK_FAILED`, once per failure in a row with the same
 * error, and the next check runs a second later as usual: only the consumer's close ends the watch.
 * A nonTx consumer that closes after publishing `above: true` publishes `above: false` as it closes:
 * it reads nothing more and no cursor keeps its position, so nothing lags any longer (a transactional
 * consumer's cursor still lags: its alert stays, for its reopen to go on from).
 */
import type { CursorLag, LagThreshold } from '../types.js';
import { ErrorCode, LogError, isLogError } from '../errors.js';
import { channels, publish, type LagEvent } from '../events.js';
import { requireInt, requireObject } from '../validate.js';

/** How often the lag is measured, ms. */
export const LAG_CHECK_MS = 1000;

/** `lagThreshold` checked: at least one limit, each a whole number of at least 1. */
export function resolveLagThreshold(v: unknown): LagThreshold | null {
  if (v === undefined || v === null) return null;
  const o = requireObject('lagThreshold', v) as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'records' && k !== 'ms') throw LogError.invalidOption(`lagThreshold.${k}`, 'unknown option');
  if (o.records === undefined && o.ms === undefined) throw LogError.invalidOption('lagThreshold', 'names no limit: give records, ms or both');
  const records = o.records === undefined ? undefined : requireInt('lagThreshold.records', o.records, 1, Number.MAX_SAFE_INTEGER);
  const ms = o.ms === undefined ? undefined : requireInt('lagThreshold.ms', o.ms, 1, Number.MAX_SAFE_INTEGER);
  return { ...(records === undefined ? {} : { records }), ...(ms === undefined ? {} : { ms }) };
}

/**
 * The cursors (`logDir` NUL id) whose last event in this process was `above: true`: a consumer opened
 * again on one starts from that state, so its restart under the threshold publishes `above: false`
 * (the alert its previous run raised is cleared) and one still above publishes nothing new.
 */
const aboveCursors = new Set<string>();

/** Watches one consumer's lag; stop() when the consumer closes. */
export class LagWatch {
  private above: boolean;
  private readonly timer: NodeJS.Timeout;
  /** The code and message of the error the last check failed with (warned once), or null after a check that worked. */
  private failed: string | null = null;
  /** The lag the last check measured. */
  private lastLag: CursorLag | null = null;

  constructor(
    private readonly threshold: LagThreshold,
    private readonly logDir: string,
    /** The consumer's cursor id (`'@global'`, GLOBAL_CURSOR_ID, for globalTx, as inspectLog names it), or null for nonTx. */
    private readonly consumer: string | null,
    /** The consumer's lag now; throws once the consumer is closed. */
    private readonly lag: () => CursorLag,
  ) {
    this.above = consumer !== null && aboveCursors.has(this.key());
    this.timer = setInterval(() => this.check(), LAG_CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * The consumer closes (called before it releases anything, while its lag still reads): stops the
   * watch, and a nonTx consumer above its threshold publishes `above: false` with its lag now (or
   * the last one measured, if it cannot be read).
   */
  close(): void {
    this.stop();
    if (this.consumer !== null || !this.above) return;
    this.above = false;
    let lag = this.lastLag!;
    try {
      lag = this.lag();
    } catch { /* the last lag measured */ }
    this.publish(lag);
  }

  private check(): void {
    if (!channels.lag.hasSubscribers) return;
    let lag: CursorLag;
    try {
      lag = this.lag();
    } catch (e) {
      if (isLogError(e) && e.code === ErrorCode.LOG_CLOSED) {
        this.stop(); // closed meanwhile
        return;
      }
      this.warn(e);
      return;
    }
    this.failed = null;
    this.lastLag = lag;
    const t = this.threshold;
    const above = (t.records !== undefined && lag.records > t.records) || (t.ms !== undefined && lag.ms > t.ms);
    if (above === this.above) return;
    this.above = above;
    if (this.consumer !== null) {
      if (above) aboveCursors.add(this.key());
      else aboveCursors.delete(this.key());
    }
    this.publish(lag);
  }

  private publish(lag: CursorLag): void {
    const above = this.above;
    publish(channels.lag, (): LagEvent => ({ logDir: this.logDir, consumer: this.consumer, above, lag, threshold: { ...this.threshold } })); // a copy: a subscriber cannot move the watch's own
  }

  private key(): string {
    return `${this.logDir}\0${String(this.consumer)}`;
  }

  /** A check failed with `e`: a process warning, unless the check before failed with the same error. */
  private warn(e: unknown): void {
    const code = isLogError(e) ? e.code : (e as { code?: unknown } | null)?.code;
    const message = e instanceof Error ? e.message : String(e);
    const key = `${String(code)} ${message}`;
    if (key === this.failed) return;
    this.failed = key;
    const who = this.consumer === null ? 'a nonTx consumer' : `consumer ${this.consumer}`;
    process.emitWarning(`the lag check of ${who} of ${this.logDir} failed (${String(code)}: ${message}); reactive-log:lag is not published until a check works again (the next runs in ${LAG_CHECK_MS} ms)`,
      { code: 'RL_LAG_CHECK_FAILED' });
  }
}
