/** The producer's options: `SyncPolicy`, `ProducerOptions`, the defaults, and `resolveProducerOptions`. */
import { LogError } from '../errors.js';
import { describe, noExtraArguments, optionalInt, requireInt, requireLogDir } from '../validate.js';
import type { DedupWindowOption } from './dedup-window.js';

/**
 * How the writer makes records durable. Build one with the `SyncPolicy` factories; `flush()` makes
 * every record appended before it durable whatever the policy.
 */
export type SyncPolicy =
  | {
    /** fsync after every group of writes (group commit). */
    readonly kind: 'always' }
  | {
    /** fsync at most every `intervalMs`. */
    readonly kind: 'periodic';
    /** Milliseconds between fsyncs: from 1 to 86,400,000. */
    readonly intervalMs: number }
  | {
    /** fsync once `bytes` bytes were written since the last one. */
    readonly kind: 'everyBytes';
    /** Bytes written between fsyncs: at least 1. */
    readonly bytes: number }
  | {
    /** fsync only on `flush()`, segment roll and `close()`. */
    readonly kind: 'never' };

/**
 * Builds a SyncPolicy.
 *
 * @example
 * ```ts
 * await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });       // group commit
 * await Producer.open({ logDir, syncPolicy: SyncPolicy.periodic(100) });  // at most 100 ms lost in a crash
 * ```
 */
export const SyncPolicy = {
  /** Group commit: a record is durable when the fsync that covers it returns. */
  always(): SyncPolicy {
    noExtraArguments('syncPolicy', 'SyncPolicy.always()', arguments.length, 0);
    return { kind: 'always' };
  },
  /**
   * fsync at most every `intervalMs`; a crash loses at most the last interval (plus one fsync).
   * @throws {@link LogError} `ERR_INVALID_OPTION` unless `intervalMs` is a whole number from 1 to 86,400,000.
   */
  periodic(intervalMs: number): SyncPolicy {
    noExtraArguments('syncPolicy', 'SyncPolicy.periodic(ms)', arguments.length, 1);
    requireInt('syncPolicy', intervalMs, 1, 24 * 3_600_000, 'periodic(ms) takes whole milliseconds from 1 to 86,400,000');
    return { kind: 'periodic', intervalMs };
  },
  /**
   * fsync after every `bytes` bytes written.
   * @throws {@link LogError} `ERR_INVALID_OPTION` unless `bytes` is a whole number of at least 1.
   */
  everyBytes(bytes: number): SyncPolicy {
    noExtraArguments('syncPolicy', 'SyncPolicy.everyBytes(n)', arguments.length, 1);
    requireInt('syncPolicy', bytes, 1, Number.MAX_SAFE_INTEGER, 'everyBytes(n) takes a whole number of bytes of at least 1');
    return { kind: 'everyBytes', bytes };
  },
  /** The OS decides; `flush()`, a segment roll, `close()` and retention holding the writer back (`blockingMinimumRetention`) still force an fsync. */
  never(): SyncPolicy {
    noExtraArguments('syncPolicy', 'SyncPolicy.never()', arguments.length, 0);
    return { kind: 'never' };
  },
} as const;

/**
 * Options of {@link Producer.open}. Sizes are in bytes, durations in milliseconds. An unknown option,
 * or a value of the wrong type or out of range, fails the open with `ERR_INVALID_OPTION` naming it.
 */
export interface ProducerOptions {
  /**
   * The log directory; created if missing. Required. An existing one must hold a log or be empty: a
   * directory that is not empty and holds none of a log's files is `ERR_INVALID_OPTION`. A relative
   * path is resolved when `Producer.open` is called.
   */
  logDir: string;
  /**
   * How the writer makes records durable.
   * @defaultValue `SyncPolicy.periodic(1000)`
   */
  syncPolicy?: SyncPolicy;
  /**
   * A segment is rolled once it reaches this size. From 1 KiB to 1 TiB.
   * @defaultValue `67_108_864` (64 MiB)
   */
  fileRollSize?: number;
  /**
   * Segments whose newest record is younger than this (ms), or that hold records a transactional
   * cursor has not committed, are never deleted. When the log would then exceed `maxTotalBytes`, the
   * writer holds records back and `append` blocks (bounded by `appendTimeoutMs`, then ERR_LOG_FULL).
   * @defaultValue `null` (off)
   */
  blockingMinimumRetention?: number | null;
  /**
   * Oldest whole segments are deleted past this total; null for no limit. At least 1 KiB and at least
   * `fileRollSize`.
   * @defaultValue `536_870_912` (512 MiB)
   */
  maxTotalBytes?: number | null;
  /**
   * Segments whose newest record is older than this (ms) are deleted.
   * @defaultValue `null` (off)
   */
  maxFileAge?: number | null;
  /**
   * Largest record accepted (data, key and headers, with the attribute block that encodes them:
   * docs/format.md, Records); larger ones throw ERR_RECORD_TOO_LARGE. At most ringBytes - 16.
   * @defaultValue `16_777_216` (16 MiB), or `ringBytes - 16` when that is smaller
   */
  maxRecordBytes?: number;
  /**
   * Size of the shared ring between `append` and the writer; a power of two from 64 KiB to 1 GiB.
   * @defaultValue `33_554_432` (32 MiB)
   */
  ringBytes?: number;
  /**
   * How long `append` may wait for ring space before ERR_LOG_FULL, ms; from 0 to 3,600,000.
   * @defaultValue `10_000`
   */
  appendTimeoutMs?: number;
  /**
   * Largest batch the writer frames and writes at once; from 1 KiB to 64 MiB. An `appendBatch` larger
   * than this is still written as one frame.
   * @defaultValue `262_144` (256 KiB)
   */
  maxBatchBytes?: number;
  /**
   * A sparse index entry is written every this many segment bytes; from 512 bytes to 1 GiB.
   * @defaultValue `65_536` (64 KiB)
   */
  indexIntervalBytes?: number;
  /**
   * Idempotent appends: `{ records: n }` (the last n offsets) or `{ ms }` (the last ms milliseconds).
   * An append whose `dedupKey` the window holds returns the earlier record's offset and appends
   * nothing. Rebuilt from the log on open. Off, a dedupKey is refused (ERR_INVALID_RECORD).
   * @defaultValue `null` (off)
   */
  dedupWindow?: DedupWindowOption | null;
  /**
   * Listen on `<logDir>/producer.sock` (mode 0600) for `Producer.connect` from other processes of
   * the machine, which append through this producer (docs/funnel.md). Default false.
   */
  acceptConnections?: boolean;
}

/**
 * The options with every default applied (each field as documented in ProducerOptions); what the
 * writer thread receives.
 */
export type ResolvedProducerOptions = { readonly [K in keyof ProducerOptions]-?: Exclude<ProducerOptions[K], undefined> };

/** The default `indexIntervalBytes`: one index entry per this many segment bytes (repair rebuilds indexes at it too). */
export const DEFAULT_INDEX_INTERVAL_BYTES = 64 * 1024;

/** The largest appendTimeoutMs (an hour), for Producer.open and the tokens Producer.attach takes. */
export const MAX_APPEND_TIMEOUT_MS = 3_600_000;

const DEFAULTS = {
  fileRollSize: 64 * 1024 * 1024,
  maxTotalBytes: 512 * 1024 * 1024,
  maxRecordBytes: 16 * 1024 * 1024,
  ringBytes: 32 * 1024 * 1024,
  appendTimeoutMs: 10_000,
  maxBatchBytes: 256 * 1024,
  indexIntervalBytes: DEFAULT_INDEX_INTERVAL_BYTES,
} as const;

const KNOWN = new Set([
  'logDir', 'syncPolicy', 'fileRollSize', 'blockingMinimumRetention', 'maxTotalBytes', 'maxFileAge',
  'maxRecordBytes', 'ringBytes', 'appendTimeoutMs', 'maxBatchBytes', 'indexIntervalBytes', 'dedupWindow', 'acceptConnections',
]);

/** The largest `{ records }` window (about 1 GiB of keys of a few bytes). */
export const MAX_DEDUP_WINDOW_RECORDS = 10_000_000;
/** The longest `{ ms }` window: 7 days. */
export const MAX_DEDUP_WINDOW_MS = 7 * 24 * 3_600_000;

export function validDedupWindow(v: unknown): DedupWindowOption | null {
  if (v === undefined || v === null) return null;
  const bad = (): LogError => LogError.invalidOption('dedupWindow', `expected { records: n } or { ms: n }, got ${describe(v)}`);
  if (typeof v !== 'object' || Array.isArray(v)) throw bad();
  const keys = Object.keys(v);
  if (keys.length !== 1) throw bad();
  const o = v as Record<string, unknown>;
  if (keys[0] === 'records') return { records: requireInt('dedupWindow', o.records, 1, MAX_DEDUP_WINDOW_RECORDS, `{ records } takes a whole number from 1 to ${MAX_DEDUP_WINDOW_RECORDS}, got ${describe(o.records)}`) };
  if (keys[0] === 'ms') return { ms: requireInt('dedupWindow', o.ms, 1, MAX_DEDUP_WINDOW_MS, `{ ms } takes whole milliseconds from 1 to ${MAX_DEDUP_WINDOW_MS}, got ${describe(o.ms)}`) };
  throw bad();
}

/** A SyncPolicy as SyncPolicy's factories make it, rebuilt by them (their checks); undefined gives periodic(1000). */
export function validSyncPolicy(v: unknown): SyncPolicy {
  if (v === undefined) return SyncPolicy.periodic(1000);
  const p = v as Partial<Record<string, unknown>> | null;
  if (p === null || typeof p !== 'object') throw LogError.invalidOption('syncPolicy', `expected a SyncPolicy, got ${describe(v)}`);
  switch (p.kind) {
    case 'always': return SyncPolicy.always();
    case 'never': return SyncPolicy.never();
    case 'periodic': return SyncPolicy.periodic(p.intervalMs as number);
    case 'everyBytes': return SyncPolicy.everyBytes(p.bytes as number);
    default: throw LogError.invalidOption('syncPolicy', `unknown kind ${describe(p.kind)}; use SyncPolicy.always(), periodic(ms), everyBytes(n) or never()`);
  }
}

/** Validates every option and applies the defaults. Throws ERR_INVALID_OPTION naming the first bad one. */
export function resolveProducerOptions(options: unknown): ResolvedProducerOptions {
  if (options === null || typeof options !== 'object') throw LogError.invalidOption('options', `expected an object, got ${describe(options)}`);
  const o = options as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw LogError.invalidOption(k, 'unknown option');
  const GiB = 1024 * 1024 * 1024;
  const logDir = requireLogDir(o.logDir);
  const syncPolicy = validSyncPolicy(o.syncPolicy);
  const fileRollSize = o.fileRollSize === undefined ? DEFAULTS.fileRollSize : requireInt('fileRollSize', o.fileRollSize, 1024, 1024 * GiB);
  const blockingMinimumRetention = optionalInt('blockingMinimumRetention', o.blockingMinimumRetention, 0, Number.MAX_SAFE_INTEGER, null);
  const maxTotalBytes = optionalInt('maxTotalBytes', o.maxTotalBytes, 1024, Number.MAX_SAFE_INTEGER, DEFAULTS.maxTotalBytes);
  const maxFileAge = optionalInt('maxFileAge', o.maxFileAge, 1, Number.MAX_SAFE_INTEGER, null);
  const ringBytes = o.ringBytes === undefined ? DEFAULTS.ringBytes : requireInt('ringBytes', o.ringBytes, 64 * 1024, GiB);
  if ((ringBytes & (ringBytes - 1)) !== 0) throw LogError.invalidOption('ringBytes', `must be a power of two, got ${ringBytes}`);
  const maxRecordDefault = Math.min(DEFAULTS.maxRecordBytes, ringBytes - 16);
  const maxRecordBytes = o.maxRecordBytes === undefined ? maxRecordDefault : requireInt('maxRecordBytes', o.maxRecordBytes, 0, ringBytes - 16,
    `expected a whole number of bytes from 0 to ringBytes - 16 (${ringBytes - 16}), got ${describe(o.maxRecordBytes)}`);
  const appendTimeoutMs = o.appendTimeoutMs === undefined ? DEFAULTS.appendTimeoutMs : requireInt('appendTimeoutMs', o.appendTimeoutMs, 0, MAX_APPEND_TIMEOUT_MS);
  const maxBatchBytes = o.maxBatchBytes === undefined ? DEFAULTS.maxBatchBytes : requireInt('maxBatchBytes', o.maxBatchBytes, 1024, 64 * 1024 * 1024);
  const indexIntervalBytes = o.indexIntervalBytes === undefined ? DEFAULTS.indexIntervalBytes : requireInt('indexIntervalBytes', o.indexIntervalBytes, 512, GiB);
  const dedupWindow = validDedupWindow(o.dedupWindow);
  const acceptConnections = o.acceptConnections === undefined ? false : o.acceptConnections;
  if (typeof acceptConnections !== 'boolean') throw LogError.invalidOption('acceptConnections', `expected true or false, got ${describe(acceptConnections)}`);
  if (maxTotalBytes !== null && maxTotalBytes < fileRollSize) {
    // The option the caller gave is the one named: a fileRollSize alone meets the default maxTotalBytes.
    if (o.maxTotalBytes === undefined) throw LogError.invalidOption('fileRollSize', `must be at most maxTotalBytes, whose default is ${maxTotalBytes}, got ${fileRollSize}: give maxTotalBytes too (null for no limit)`);
    throw LogError.invalidOption('maxTotalBytes', `must be at least fileRollSize (${fileRollSize}), got ${maxTotalBytes}`);
  }
  return {
    logDir, syncPolicy, fileRollSize, blockingMinimumRetention, maxTotalBytes, maxFileAge,
    maxRecordBytes, ringBytes, appendTimeoutMs, maxBatchBytes, indexIntervalBytes, dedupWindow, acceptConnections,
  };
}
