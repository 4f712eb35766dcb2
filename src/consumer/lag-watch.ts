/**
 * The `lagThreshold` option of Consumer.open: once a second, while someone subscribes to
 * `reactive-log:lag`, the consumer measures its lag (Consumer.lag()) and publishes when it passes the
 * threshold (`above: true`) and when it is back under it (`above: false`); nothing per record, and
 * nothing at all while nobody subscribes.
 */
import type { CursorLag, LagThreshold } from '../types.js';
import { LogError } from '../errors.js';
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

/** Watches one consumer's lag; stop() when the consumer closes. */
export class LagWatch {
  private above = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly threshold: LagThreshold,
    private readonly logDir: string,
    /** The consumer's cursor id (`global` for globalTx), or null for nonTx. */
    private readonly consumer: string | null,
    /** The consumer's lag now; throws once the consumer is closed. */
    private readonly lag: () => CursorLag,
  ) {
    this.timer = setInterval(() => this.check(), LAG_CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    if (!channels.lag.hasSubscribers) return;
    let lag: CursorLag;
    try {
      lag = this.lag();
    } catch {
      this.stop(); // closed meanwhile
      return;
    }
    const t = this.threshold;
    const above = (t.records !== undefined && lag.records > t.records) || (t.ms !== undefined && lag.ms > t.ms);
    if (above === this.above) return;
    this.above = above;
    publish(channels.lag, (): LagEvent => ({ logDir: this.logDir, consumer: this.consumer, above, lag, threshold: this.threshold }));
  }
}
