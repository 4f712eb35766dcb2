/**
 * The validators every options module shares: whole numbers in a range, optional ones, a log
 * directory path, and `describe`, which names a bad value in an error message without echoing much of it.
 */
import { isAbsolute, sep } from 'node:path';
import { LogError } from './errors.js';

/** A whole number from `min` to `max`, else ERR_INVALID_OPTION naming `option` (with `why`, or the range). */
export function requireInt(option: string, v: unknown, min: number, max: number, why?: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw LogError.invalidOption(option, why ?? `expected a whole number from ${min} to ${max}, got ${describe(v)}`);
  }
  return v;
}

/** As requireInt; undefined gives `dflt`, null stays null (an option that can be turned off). */
export function optionalInt(option: string, v: unknown, min: number, max: number, dflt: number | null): number | null {
  if (v === undefined) return dflt;
  if (v === null) return null;
  return requireInt(option, v, min, max);
}

/**
 * ERR_INVALID_OPTION naming `option` when a factory got more than `takes` arguments: from JavaScript
 * (or past a cast) `ConsumerStyle.clientTx('billing', Whence.latest())` would otherwise drop the whence
 * without a word, as an unknown key of an options bag would be.
 */
export function noExtraArguments(option: string, call: string, got: number, takes: number): void {
  if (got > takes) throw LogError.invalidOption(option, `${call} takes ${takes === 0 ? 'no argument' : takes === 1 ? 'one argument' : `${takes} arguments`}, got ${got}`);
}

/** A non-empty path without NUL characters, else ERR_INVALID_OPTION naming `option`. */
export function requireLogDir(v: unknown, option = 'logDir'): string {
  if (typeof v !== 'string' || v.length === 0) throw LogError.invalidOption(option, `expected a non-empty path string, got ${describe(v)}`);
  if (v.includes('\0')) throw LogError.invalidOption(option, 'contains a NUL character');
  return v;
}

/**
 * `path` made absolute against the working directory now, and not normalised: `link/..` stays for
 * the system to resolve (the parent of the link's target), as it resolves the path given.
 */
export function absolutePath(path: string): string {
  return isAbsolute(path) ? path : `${process.cwd()}${sep}${path}`;
}

/** An options bag: an object (arrays included, as before), else ERR_INVALID_OPTION naming `option`. */
export function requireObject(option: string, v: unknown): object {
  if (v === null || typeof v !== 'object') throw LogError.invalidOption(option, `expected an object, got ${describe(v)}`);
  return v;
}

/**
 * An options bag whose keys are all in `known`, else ERR_INVALID_OPTION naming the first other one (a
 * misspelt `dryRun` must not turn a dry run into the real thing).
 */
export function knownOptions(options: unknown, known: readonly string[]): Record<string, unknown> {
  const o = requireObject('options', options) as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!known.includes(k)) throw LogError.invalidOption(k, `unknown option (expected ${known.join(', ')})`);
  return o;
}

/** true, false or nothing (false), else ERR_INVALID_OPTION naming `option`. */
export function optionalFlag(option: string, v: unknown): boolean {
  if (v !== undefined && typeof v !== 'boolean') throw LogError.invalidOption(option, `expected true or false, got ${describe(v)}`);
  return v === true;
}

/** An AbortSignal or nothing: anything else would fail deep in a wait, or never stop the call. */
export function optionalSignal(v: unknown): AbortSignal | undefined {
  if (v !== undefined && !(v instanceof AbortSignal)) throw LogError.invalidOption('signal', `expected an AbortSignal, got ${describe(v)}`);
  return v;
}

/**
 * `options` of `producer.writable()`, on every engine: an object whose `bytes` (default 0) is a whole
 * number from 0 to `maxRecordBytes`, whose `signal` is an AbortSignal or absent and that holds no other
 * key (ERR_INVALID_OPTION).
 */
export function writableOptions(options: unknown, maxRecordBytes: number): { bytes: number; signal: AbortSignal | undefined } {
  const o = knownOptions(options, ['bytes', 'signal']) as { bytes?: unknown; signal?: unknown };
  return { bytes: o.bytes === undefined ? 0 : requireInt('bytes', o.bytes, 0, maxRecordBytes), signal: optionalSignal(o.signal) };
}

/** `options` of a call that takes only `{ signal }`: a misspelt key would leave the call without its signal. */
export function signalOnly(options: unknown): AbortSignal | undefined {
  const o = requireObject('options', options) as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'signal') throw LogError.invalidOption(k, 'unknown option (this call takes { signal })');
  return optionalSignal(o.signal);
}

/**
 * Why a path the system refused with `sys` is bad input rather than an I/O failure: one it can never
 * walk, whatever the disk holds (a symlink loop, a name or a path too long); null for another code.
 */
export function unwalkablePath(sys: string | undefined): string | null {
  if (sys === 'ELOOP') return 'runs through a symlink loop (ELOOP)';
  if (sys === 'ENAMETOOLONG') return 'is too long, or holds a name too long (ENAMETOOLONG)';
  return null;
}

/** Names a bad value in an error message: a short quoted string, a number, or the value's type. */
export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}
