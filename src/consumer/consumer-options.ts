/** Options of `Consumer.open`, their validation and defaults. */
import { ErrorCode, LogError } from '../errors.js';
import { describe, requireInt, requireLogDir } from '../validate.js';
import type { ConsumerStyle } from '../types.js';

/** What happens when a handler answers 'retry' (or throws, with retryOnThrow). */
export interface RetryPolicy {
  /** Attempts per record before it is dead-lettered and counted as skipped. Default null: no limit. */
  maxAttempts?: number | null;
  /** Wait before each new attempt, ms. Default 0. */
  delayMs?: number;
  /** 'fixed' waits delayMs every time; 'exponential' doubles it per attempt up to maxDelayMs. Default 'fixed'. */
  backoff?: 'fixed' | 'exponential';
  /** Cap for exponential backoff, ms. Default 30,000. */
  maxDelayMs?: number;
  /** Treat a handler that throws as 'retry' (its error is recorded) instead of rejecting. Default false. */
  retryOnThrow?: boolean;
  /** The dead-letter log's directory. Default `<logDir>.dead-letter.<cursor name>`. */
  deadLetterDir?: string;
}

/** Group commit for the transactional styles: one fsync per group instead of one per record. */
export interface CommitPolicy {
  /** Make the cursor durable after this many completed records. Default 1 (every record). */
  everyRecords?: number;
  /** ...or once this many ms passed since the last durable commit. Default null (off). */
  everyMs?: number | null;
}

export interface ConsumerOptions {
  /** The log directory; it must exist (a producer creates it). */
  logDir: string;
  style: ConsumerStyle;
  /**
   * Hand out records once written ('written') or only once fsynced ('durable'). Default 'written'
   * for nonTx; the transactional styles always use 'durable', so a cursor never passes durable data.
   * In another process than the producer, 'durable' follows the writer's durable.offset file.
   */
  visibility?: 'written' | 'durable';
  /** Tailing from another process: the longest wait between checks of the files. Default 50 ms. */
  pollIntervalMs?: number;
  retry?: RetryPolicy;
  commit?: CommitPolicy;
}

export interface ResolvedRetry {
  readonly maxAttempts: number | null;
  readonly delayMs: number;
  readonly backoff: 'fixed' | 'exponential';
  readonly maxDelayMs: number;
  readonly retryOnThrow: boolean;
  readonly deadLetterDir: string;
}

export interface ResolvedConsumerOptions {
  readonly logDir: string;
  readonly style: ConsumerStyle;
  readonly durableOnly: boolean;
  readonly pollIntervalMs: number;
  readonly retry: ResolvedRetry;
  readonly commitEveryRecords: number;
  readonly commitEveryMs: number | null;
  /** The cursor's file stem: `client.<id>`, `global`, or `nontx` (no cursor). */
  readonly cursorName: string;
}

const KNOWN = new Set(['logDir', 'style', 'visibility', 'pollIntervalMs', 'retry', 'commit']);
const RETRY_KEYS = new Set(['maxAttempts', 'delayMs', 'backoff', 'maxDelayMs', 'retryOnThrow', 'deadLetterDir']);
const COMMIT_KEYS = new Set(['everyRecords', 'everyMs']);
export const MAX_CONSUMER_ID_LENGTH = 128;

/** Consumer ids become file names: letters, digits, '.', '_' and '-', not starting with '.'. */
export function validateConsumerId(id: unknown): string {
  const bad = (why: string): never => {
    throw new LogError(ErrorCode.INVALID_CONSUMER_ID, `invalid consumer id ${describe(id)}: ${why}`);
  };
  if (typeof id !== 'string') return bad('expected a string');
  if (id.length === 0) return bad('it is empty');
  if (id.length > MAX_CONSUMER_ID_LENGTH) return bad(`it is longer than ${MAX_CONSUMER_ID_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id)) return bad('it holds control characters');
  if (id.includes('/') || id.includes('\\') || id.startsWith('.')) return bad('it looks like a path');
  if (!/^[A-Za-z0-9._-]+$/.test(id)) return bad("only letters, digits, '.', '_' and '-' are allowed");
  return id;
}

function checkKeys(what: string, o: object, known: Set<string>): void {
  for (const k of Object.keys(o)) if (!known.has(k)) throw LogError.invalidOption(`${what}${k}`, 'unknown option');
}

export function resolveConsumerOptions(options: unknown): ResolvedConsumerOptions {
  if (options === null || typeof options !== 'object') throw LogError.invalidOption('options', `expected an object, got ${describe(options)}`);
  const o = options as Record<string, unknown>;
  checkKeys('', o, KNOWN);
  const logDir = requireLogDir(o.logDir);
  const style = o.style as ConsumerStyle | null | undefined;
  if (style === null || typeof style !== 'object' || !['nonTx', 'clientTx', 'globalTx'].includes(style.kind)) {
    throw LogError.invalidOption('style', `expected ConsumerStyle.nonTx(whence), clientTx(id) or globalTx(), got ${describe(style)}`);
  }
  let cursorName = 'nontx';
  if (style.kind === 'clientTx') cursorName = `client.${validateConsumerId(style.consumerId)}`;
  if (style.kind === 'globalTx') cursorName = 'global';
  if (style.kind === 'nonTx') {
    const w = style.whence as { kind?: unknown } | null;
    if (w === null || typeof w !== 'object' || !['oldest', 'latest', 'position'].includes(w.kind as string)) {
      throw LogError.invalidOption('whence', `expected Whence.oldest(), latest() or position(n), got ${describe(w)}`);
    }
  }
  const visibility = o.visibility ?? (style.kind === 'nonTx' ? 'written' : 'durable');
  if (visibility !== 'written' && visibility !== 'durable') throw LogError.invalidOption('visibility', `expected 'written' or 'durable', got ${describe(visibility)}`);
  if (style.kind !== 'nonTx' && visibility !== 'durable') {
    throw LogError.invalidOption('visibility', 'transactional consumers read durable records only, so that a cursor never passes durable data');
  }
  const pollIntervalMs = o.pollIntervalMs === undefined ? 50 : requireInt('pollIntervalMs', o.pollIntervalMs, 1, 60_000);

  const r = (o.retry ?? {}) as Record<string, unknown>;
  if (typeof r !== 'object' || r === null) throw LogError.invalidOption('retry', `expected an object, got ${describe(r)}`);
  checkKeys('retry.', r, RETRY_KEYS);
  const maxAttempts = r.maxAttempts === undefined || r.maxAttempts === null ? null : requireInt('retry.maxAttempts', r.maxAttempts, 1, 1_000_000);
  const delayMs = r.delayMs === undefined ? 0 : requireInt('retry.delayMs', r.delayMs, 0, 3_600_000);
  const backoff = r.backoff ?? 'fixed';
  if (backoff !== 'fixed' && backoff !== 'exponential') throw LogError.invalidOption('retry.backoff', `expected 'fixed' or 'exponential', got ${describe(backoff)}`);
  const maxDelayMs = r.maxDelayMs === undefined ? 30_000 : requireInt('retry.maxDelayMs', r.maxDelayMs, 0, 3_600_000);
  if (r.retryOnThrow !== undefined && typeof r.retryOnThrow !== 'boolean') throw LogError.invalidOption('retry.retryOnThrow', `expected a boolean, got ${describe(r.retryOnThrow)}`);
  const deadLetterDir = r.deadLetterDir === undefined ? `${logDir.replace(/[/\\]+$/, '')}.dead-letter.${cursorName}` : requireLogDir(r.deadLetterDir, 'retry.deadLetterDir');

  const c = (o.commit ?? {}) as Record<string, unknown>;
  if (typeof c !== 'object' || c === null) throw LogError.invalidOption('commit', `expected an object, got ${describe(c)}`);
  checkKeys('commit.', c, COMMIT_KEYS);
  const commitEveryRecords = c.everyRecords === undefined ? 1 : requireInt('commit.everyRecords', c.everyRecords, 1, 1_000_000_000);
  const commitEveryMs = c.everyMs === undefined || c.everyMs === null ? null : requireInt('commit.everyMs', c.everyMs, 1, 3_600_000);

  return {
    logDir, style, durableOnly: visibility === 'durable', pollIntervalMs, cursorName,
    retry: { maxAttempts, delayMs, backoff, maxDelayMs, retryOnThrow: r.retryOnThrow === true, deadLetterDir },
    commitEveryRecords, commitEveryMs,
  };
}
