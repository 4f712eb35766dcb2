/**
 * The producer's retention options on a JetStream stream: `maxTotalBytes` and `maxFileAge` become the
 * stream's own limits `max_bytes` and `max_age`, set when the producer opens. The server then removes
 * the oldest messages one by one (not whole segments, as a local log does). An option not given leaves
 * the stream's limit as it is; null lifts it. `blockingMinimumRetention` has no JetStream equivalent
 * (a stream's limits never wait for a cursor or an age) and is refused.
 */
import { LogError } from '../errors.js';
import { optionalInt } from '../validate.js';
import type { StreamConfig } from '@nats-io/jetstream';
import type { Session } from './session.js';

/** The smallest `max_age` a nats-server accepts, ms. */
const MIN_MAX_AGE_MS = 100;
/** Nanoseconds per millisecond: JetStream's durations are in ns. */
const NS_PER_MS = 1_000_000;
/** A stream's duplicate window when its config names none: 2 minutes, in ns. */
export const DEFAULT_DUPLICATE_WINDOW_NS = 120_000_000_000;

/** The limits the producer sets: undefined leaves a limit as it is, null lifts it. */
export interface StreamLimits {
  readonly maxTotalBytes: number | null | undefined;
  readonly maxFileAge: number | null | undefined;
}

/** Checks the retention options of Producer.open on JetStream (ERR_INVALID_OPTION, nothing changed). */
export function resolveStreamLimits(o: Record<string, unknown>): StreamLimits {
  if (o.blockingMinimumRetention !== undefined && o.blockingMinimumRetention !== null) {
    throw LogError.invalidOption('blockingMinimumRetention', 'a JetStream stream removes messages by its limits alone and cannot hold them back for a cursor or an age: the JetStream backend has no such setting');
  }
  return {
    maxTotalBytes: o.maxTotalBytes === undefined ? undefined : optionalInt('maxTotalBytes', o.maxTotalBytes, 1024, Number.MAX_SAFE_INTEGER, null),
    maxFileAge: o.maxFileAge === undefined ? undefined : optionalInt('maxFileAge', o.maxFileAge, MIN_MAX_AGE_MS, Number.MAX_SAFE_INTEGER / NS_PER_MS, null),
  };
}

/** The stream's limits (`max_bytes`, `max_age` and `duplicate_window`, ns) once `limits` are set on a stream of `config`. */
interface LimitsAfter {
  readonly maxBytes: number;
  readonly maxAge: number;
  readonly dupWindow: number;
}

/**
 * The limits a stream of `config` has once `limits` are set; `config` null stands for a stream not
 * created yet (no limits, the server's default duplicate window). A stream's duplicate window may not
 * be longer than its `max_age`: it is shortened to it when it is.
 */
export function limitsAfter(config: Pick<StreamConfig, 'max_bytes' | 'max_age' | 'duplicate_window'> | null, limits: StreamLimits): LimitsAfter {
  const maxBytes = limits.maxTotalBytes === undefined ? (config?.max_bytes ?? -1) : (limits.maxTotalBytes ?? -1);
  const maxAge = limits.maxFileAge === undefined ? (config?.max_age ?? 0) : (limits.maxFileAge ?? 0) * NS_PER_MS;
  const current = config?.duplicate_window ?? DEFAULT_DUPLICATE_WINDOW_NS;
  return { maxBytes, maxAge, dupWindow: maxAge > 0 && current > maxAge ? maxAge : current };
}

/**
 * ERR_INVALID_OPTION for a `maxTotalBytes` on a stream made beforehand with the "discard new" policy:
 * past its max_bytes the server refuses new records instead of removing the oldest, and the producer
 * would stop with ERR_IO once the stream filled. Checked before anything is created or changed.
 */
export function refuseBytesOnDiscardNew(stream: string, config: Pick<StreamConfig, 'discard'>, limits: StreamLimits): void {
  if (typeof limits.maxTotalBytes !== 'number' || String(config.discard) !== 'new') return;
  throw LogError.invalidOption('maxTotalBytes', `stream ${stream} discards new messages past its limits: with max_bytes ${limits.maxTotalBytes} the server would refuse records instead of removing the oldest, and the producer would stop once the stream filled. Use the "discard old" policy on the stream, or leave maxTotalBytes out (docs/jetstream.md)`);
}

/**
 * Sets the stream's `max_bytes` and `max_age` to the limits given, when they differ (see limitsAfter).
 * `check` sees the duplicate window the stream will have (ns) and may refuse before anything is changed.
 * Returns the stream's max_msg_size (-1 or 0: none), which the producer's records must fit.
 */
export async function applyStreamLimits(session: Session, limits: StreamLimits, check: (duplicateWindowNs: number) => Promise<void>): Promise<number> {
  const { config } = await session.streamInfo();
  refuseBytesOnDiscardNew(config.name, config, limits);
  const { maxBytes, maxAge, dupWindow } = limitsAfter(config, limits);
  await check(dupWindow);
  const maxMsgSize = config.max_msg_size ?? -1;
  if (maxBytes === config.max_bytes && maxAge === config.max_age && dupWindow === (config.duplicate_window ?? DEFAULT_DUPLICATE_WINDOW_NS)) return maxMsgSize;
  await session.jsm.streams.update(config.name, { ...config, max_bytes: maxBytes, max_age: maxAge, duplicate_window: dupWindow });
  return maxMsgSize;
}
