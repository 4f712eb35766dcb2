/** The validation and defaults of `Consumer.open`'s options (ConsumerOptions, in types.ts). */
import { realpathSync } from 'node:fs';
import { basename, resolve, sep } from 'node:path';
import { ErrorCode, LogError } from '../errors.js';
import type { Visibility } from '../ring/layout.js';
import { absolutePath, describe, optionalSignal, requireInt, requireLogDir, requireObject } from '../validate.js';
import type { ConsumerStyle, LagThreshold } from '../types.js';
import { resolveLagThreshold } from './lag-watch.js';
import { isLogBackend, type LogBackend } from '../backend/backend-types.js';
import type { ResolvedRetry, StartPlan, StartRequest } from './start-plan.js';
import { realPathOf, within } from '../storage/real-path.js';

/** The options of `Consumer.open`, checked, with every default applied. */
export interface ResolvedConsumerOptions extends StartRequest {
  /** As given (Consumer.open resolves its real path); on a backend, the backend's logId. */
  readonly logDir: string;
  /** The engine when the consumer reads a backend (then `logDir` was not given), else null. */
  readonly backend: LogBackend | null;
  /** Which of the producer's published ends the consumer reads up to. */
  readonly visibility: Visibility;
  /** Tailing from another process: the longest wait between checks of the files, ms. */
  readonly pollIntervalMs: number;
  readonly retry: ResolvedRetry;
  /** When reactive-log:lag is published (src/consumer/lag-watch.ts), else null. */
  readonly lagThreshold: LagThreshold | null;
}

const KNOWN = new Set(['logDir', 'backend', 'style', 'visibility', 'pollIntervalMs', 'retry', 'commit', 'onPositionExpired', 'signal', 'lagThreshold']);
/** The longest name of a directory entry (NAME_MAX), in bytes. */
const MAX_NAME_BYTES = 255;
/** The longest path the system takes (PATH_MAX, less its NUL), in bytes. */
const MAX_PATH_BYTES = 4095;
const RETRY_KEYS = new Set(['maxAttempts', 'delayMs', 'backoff', 'maxDelayMs', 'retryOnThrow', 'deadLetterDir']);
const COMMIT_KEYS = new Set(['everyRecords', 'everyMs']);
/** The keys of each ConsumerStyle kind. */
const STYLE_KEYS: Record<ConsumerStyle['kind'], Set<string>> = { nonTx: new Set(['kind', 'whence']), clientTx: new Set(['kind', 'consumerId']), globalTx: new Set(['kind']) };
const MAX_CONSUMER_ID_LENGTH = 128;

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

/** Checks the options of `Consumer.open` (ERR_INVALID_OPTION, ERR_INVALID_CONSUMER_ID) and applies the defaults. */
export function resolveConsumerOptions(options: unknown): ResolvedConsumerOptions {
  const o = requireObject('options', options) as Record<string, unknown>;
  checkKeys('', o, KNOWN);
  const backend = o.backend === undefined ? null : o.backend;
  if (backend !== null && !isLogBackend(backend)) throw LogError.invalidOption('backend', `expected a backend made by a backend factory such as jetstream(), got ${describe(backend)}`);
  if (backend !== null && o.logDir !== undefined) throw LogError.invalidOption('logDir', 'give either logDir or backend, not both');
  const logDir = backend !== null ? backend.logId : requireLogDir(o.logDir);
  if (backend !== null) {
    if (o.pollIntervalMs !== undefined) throw LogError.invalidOption('pollIntervalMs', `the ${backend.engine} backend does not support this option yet`);
  }
  const style = o.style as ConsumerStyle | null | undefined;
  if (style === null || typeof style !== 'object' || !['nonTx', 'clientTx', 'globalTx'].includes(style.kind)) {
    throw LogError.invalidOption('style', `expected ConsumerStyle.nonTx(whence), clientTx(id) or globalTx(), got ${describe(style)}`);
  }
  // A key the style's kind does not take (a whence given to globalTx, an id to globalTx) would be ignored without a word.
  checkKeys('style.', style, STYLE_KEYS[style.kind]);
  const cursorName = cursorNameOf(style);
  const visibility = o.visibility ?? (style.kind === 'nonTx' ? 'written' : 'durable');
  if (visibility !== 'written' && visibility !== 'durable') throw LogError.invalidOption('visibility', `expected 'written' or 'durable', got ${describe(visibility)}`);
  if (style.kind !== 'nonTx' && visibility !== 'durable') {
    throw LogError.invalidOption('visibility', 'transactional consumers read durable records only, so that a cursor never passes durable data');
  }
  const pollIntervalMs = o.pollIntervalMs === undefined ? 50 : requireInt('pollIntervalMs', o.pollIntervalMs, 1, 60_000);
  const retry = resolveRetry(o.retry, logDir, cursorName ?? 'nontx', backend !== null);
  const c = requireObject('commit', o.commit ?? {}) as Record<string, unknown>;
  checkKeys('commit.', c, COMMIT_KEYS);
  const commitEveryMs = c.everyMs === undefined || c.everyMs === null ? null : requireInt('commit.everyMs', c.everyMs, 1, 3_600_000);
  // With everyMs alone a group is bounded by time only: a count of 1 would close every group first.
  const commitEveryRecords = c.everyRecords === undefined ? (commitEveryMs === null ? 1 : 1_000_000_000) : requireInt('commit.everyRecords', c.everyRecords, 1, 1_000_000_000);
  const start: StartPlan = cursorName === null
    ? { kind: 'whence', whence: (style as Extract<ConsumerStyle, { kind: 'nonTx' }>).whence }
    : { kind: 'cursor', cursorName, commitEveryRecords, commitEveryMs };
  const onPositionExpired = o.onPositionExpired ?? 'error';
  if (onPositionExpired !== 'error' && onPositionExpired !== 'oldest') {
    throw LogError.invalidOption('onPositionExpired', `expected 'error' or 'oldest', got ${describe(onPositionExpired)}`);
  }
  return { logDir, backend, start, visibility, pollIntervalMs, retry, onPositionExpired, signal: optionalSignal(o.signal), lagThreshold: resolveLagThreshold(o.lagThreshold) };
}

/** The cursor's file stem (`client.<id>`, `global`), or null for nonTx, whose Whence is checked here. */
function cursorNameOf(style: ConsumerStyle): string | null {
  if (style.kind === 'clientTx') return `client.${validateConsumerId(style.consumerId)}`;
  if (style.kind === 'globalTx') return 'global';
  const w = style.whence as { kind?: unknown; ms?: unknown } | null;
  if (w === null || typeof w !== 'object' || !['oldest', 'latest', 'position', 'timestamp'].includes(w.kind as string)) {
    throw LogError.invalidOption('whence', `expected Whence.oldest(), latest(), position(n) or timestamp(ms), got ${describe(w)}`);
  }
  if (w.kind === 'timestamp' && (typeof w.ms !== 'number' || !Number.isFinite(w.ms))) {
    throw LogError.invalidOption('whence', `Whence.timestamp takes a finite number of ms since the epoch, got ${describe(w.ms)}`);
  }
  return null;
}

function resolveRetry(retry: unknown, logDir: string, cursorName: string, onBackend: boolean): ResolvedRetry {
  const r = requireObject('retry', retry ?? {}) as Record<string, unknown>;
  checkKeys('retry.', r, RETRY_KEYS);
  const maxAttempts = r.maxAttempts === undefined || r.maxAttempts === null ? null : requireInt('retry.maxAttempts', r.maxAttempts, 1, 1_000_000);
  const delayMs = r.delayMs === undefined ? 0 : requireInt('retry.delayMs', r.delayMs, 0, 3_600_000);
  const backoff = r.backoff ?? 'fixed';
  if (backoff !== 'fixed' && backoff !== 'exponential') throw LogError.invalidOption('retry.backoff', `expected 'fixed' or 'exponential', got ${describe(backoff)}`);
  const maxDelayMs = r.maxDelayMs === undefined ? 30_000 : requireInt('retry.maxDelayMs', r.maxDelayMs, 0, 3_600_000);
  if (r.retryOnThrow !== undefined && typeof r.retryOnThrow !== 'boolean') throw LogError.invalidOption('retry.retryOnThrow', `expected a boolean, got ${describe(r.retryOnThrow)}`);
  // On a backend there is no log directory to put the dead letters beside: deadLetterDir is required
  // with maxAttempts (the dead-letter log is a local log).
  if (onBackend && maxAttempts !== null && r.deadLetterDir === undefined) {
    throw LogError.invalidOption('retry.deadLetterDir', 'on a backend, retry.maxAttempts needs retry.deadLetterDir (a local directory for the dead-letter log)');
  }
  // Resolved now, as the default is: a relative path keeps its meaning across a later process.chdir().
  const deadLetterDir = onBackend && r.deadLetterDir === undefined ? '' : r.deadLetterDir === undefined ? `${resolve(logDir)}.dead-letter.${cursorName}` : absolutePath(requireLogDir(r.deadLetterDir, 'retry.deadLetterDir'));
  // A name no directory entry can take would fail every dead letter with ERR_IO, the record never completing.
  if (maxAttempts !== null && !onBackend && r.deadLetterDir === undefined && Buffer.byteLength(basename(deadLetterDir)) > MAX_NAME_BYTES) {
    throw LogError.invalidOption('retry.deadLetterDir', `the default dead-letter directory name ${basename(deadLetterDir)} is longer than ${MAX_NAME_BYTES} bytes: give retry.deadLetterDir`);
  }
  if (r.deadLetterDir !== undefined) requireMakeablePath(deadLetterDir);
  // Dead letters appended to the log being read would be read, retried and dead-lettered again.
  if (!onBackend && r.deadLetterDir !== undefined && within(realPathOf(logDir), realPathOf(deadLetterDir))) {
    throw LogError.invalidOption('retry.deadLetterDir', `${deadLetterDir} lies in the log directory ${logDir}: the dead-letter log must be a directory of its own`);
  }
  return { maxAttempts, delayMs, backoff, maxDelayMs, retryOnThrow: r.retryOnThrow === true, deadLetterDir, deadLetterBesideLog: !onBackend && r.deadLetterDir === undefined };
}

/**
 * ERR_INVALID_OPTION naming retry.deadLetterDir for a path no directory can ever be made at: a name
 * past NAME_MAX, a path past the system's limit, or one through a symlink loop (each would fail
 * every dead letter with ERR_IO, the record never completing). Reads nothing but the path's links.
 */
function requireMakeablePath(dir: string): void {
  const long = dir.split(sep).find((name) => Buffer.byteLength(name) > MAX_NAME_BYTES);
  if (long !== undefined) throw LogError.invalidOption('retry.deadLetterDir', `the name ${describe(long)} in it is longer than ${MAX_NAME_BYTES} bytes, which no directory entry takes`);
  const bytes = Buffer.byteLength(dir);
  if (bytes > MAX_PATH_BYTES) throw LogError.invalidOption('retry.deadLetterDir', `the path ${describe(dir)} is ${bytes} bytes long, past the ${MAX_PATH_BYTES} a path takes`);
  try {
    realpathSync.native(dir);
  } catch (e) {
    const sys = (e as NodeJS.ErrnoException).code;
    if (sys === 'ELOOP') throw LogError.invalidOption('retry.deadLetterDir', `${dir} runs through a symlink loop (ELOOP)`);
    if (sys === 'ENAMETOOLONG') throw LogError.invalidOption('retry.deadLetterDir', `${describe(dir)} is longer than the system takes (ENAMETOOLONG)`);
    // ENOENT: made at the first dead letter; a file or somebody else's directory is refused then.
  }
}
