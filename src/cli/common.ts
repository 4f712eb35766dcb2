/**
 * What every command shares: exit codes, argument parsing (node:util parseArgs; anything it refuses
 * is a usage error), usage errors, and how a failure is reported. Data goes to stdout, messages to
 * stderr.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ErrorCode, LogError } from '../errors.js';
import { printable, printableOutput } from '../printable.js';
import { endProgressBars } from './progress-bar.js';

export const EXIT_OK = 0;
/** The command ran and failed (the log refused, a record is missing, I/O failed). */
export const EXIT_FAILURE = 1;
/** Missing, extra or malformed arguments, or a path that is no log directory: nothing was changed. */
export const EXIT_USAGE = 2;
/** Interrupted by Ctrl-C (SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** A command: its name, its usage lines, and its run (given the arguments after its name). */
export interface Command {
  readonly name: string;
  /**
   * The usage text printed by `--help`; its lines that begin with "reactive-log" are the synopses (one
   * per subcommand), printed after a usage error's message.
   */
  readonly usage: string;
  run(args: string[]): Promise<number>;
}

/** Thrown by the helpers below: the command's arguments are wrong. */
export class UsageError extends Error {}

type Options = Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string }>;

/** What `parse` gives: each option's value (a string or true) when given, and the positionals. */
export interface Parsed<O extends Options> {
  readonly values: { readonly [K in keyof O]?: O[K]['type'] extends 'string' ? string : boolean } & { readonly help?: boolean };
  readonly positionals: string[];
}

/**
 * Parses `args` strictly, with `--help`/`-h` added; a parse failure is a UsageError, and so is an
 * option given twice (parseArgs would keep the last: `--to 3 --to latest` must not pick one).
 */
export function parse<O extends Options>(args: string[], options: O): Parsed<O> {
  let parsed: ReturnType<typeof parseArgs> & { tokens?: Array<{ kind: string; name?: string }> };
  try {
    const config: ParseArgsConfig = { args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true, tokens: true };
    parsed = parseArgs(config);
  } catch (e) {
    // Node writes the sentences of an option value that looks like an option on lines of their own
    // (naming options of the command only): one line here, where a newline in a reason is escaped.
    const { code, message } = e as Error & { code?: string };
    throw new UsageError(code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? message.replaceAll('\n', ' ') : message);
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option' || t.name === undefined) continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name} is given more than once`);
    seen.add(t.name);
  }
  return { values: parsed.values, positionals: parsed.positionals } as unknown as Parsed<O>;
}

/** Exactly `names.length` positionals, in order; else a UsageError naming what is missing or extra. */
export function positionals(got: string[], names: readonly string[]): string[] {
  if (got.length < names.length) throw new UsageError(`missing ${names.slice(got.length).map((n) => `<${n}>`).join(' ')}`);
  if (got.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(got[names.length])}`);
  if (got.some((g) => g === '')) throw new UsageError('an argument is empty');
  return got;
}

/**
 * Digits, or digits grouped by one kind of separator, '_' or ',': a first group of 1 to 3 digits,
 * then groups of exactly 3 (`1_000_000`, `1,000`), never `1,5`, `5_`, `1__000` or `1_000,000`.
 */
const WHOLE_NUMBER = /^(?:[0-9]+|[0-9]{1,3}(?:_[0-9]{3})+|[0-9]{1,3}(?:,[0-9]{3})+)$/;

/** A whole number of at least `min` (digits, optionally grouped by threes with '_' or ','). */
export function wholeNumber(option: string, text: string, min = 0): number {
  const n = WHOLE_NUMBER.test(text) ? Number(text.replace(/[_,]/g, '')) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${option} takes a whole number of at least ${min} (digits, which "_" or "," may group by threes: 1_000_000), got ${JSON.stringify(text)}`);
  }
  return n;
}

/** ISO 8601: a date, optionally a time (seconds and a fraction optional), optionally a zone (Z or ±hh:mm). */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * A time: ms since the epoch (digits) or an ISO 8601 date-time (2026-12-03T18:00:00Z). A date alone is
 * midnight UTC, a date-time without a zone local time. Digits past the ms make it the next whole ms
 * (records are stamped in whole ms: the time lies after one stamped in the ms it falls in). A date or
 * time that does not exist (February 31,
 * 24:00, a local time a clock change skips) is a UsageError, not another time; so is a local time a
 * clock change repeats (which of the two is meant is unknown).
 */
export function timeArg(option: string, text: string): number {
  if (/^[0-9]+$/.test(text)) return wholeNumber(option, text);
  const ms = isoTime(option, text);
  if (ms === null) throw new UsageError(`${option} takes ms since the epoch or an ISO 8601 time (2026-12-03, 2026-12-03T18:00, 2026-12-03T18:00:00.5+01:00), got ${JSON.stringify(text)}`);
  return ms;
}

function isoTime(option: string, text: string): number | null {
  const m = ISO_TIME.exec(text);
  if (m === null) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  // The whole ms, and a ms more for digits past them: a record's timestamp is a whole ms, so a time
  // within a ms lies after the record stamped in it (as Whence.timestamp takes that time).
  const digits = (m[7] ?? '').padEnd(9, '0');
  const frac = Number(digits.slice(0, 3));
  const past = /[1-9]/.test(digits.slice(3)) ? 1 : 0;
  const daysInMonth = [31, leapYear(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  if (daysInMonth === undefined || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 59) return null;
  const zone = m[8];
  let zoneMs = 0;
  if (zone !== undefined && zone !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 23 || zm > 59) return null;
    zoneMs = (zone.startsWith('-') ? -1 : 1) * (zh * 60 + zm) * 60_000;
  }
  const wall = new Date(0);
  wall.setUTCFullYear(y, mo - 1, d);
  wall.setUTCHours(h, mi, s, frac);
  if (m[4] !== undefined && zone === undefined) return localTime(option, text, wall.getTime()) + past; // a date-time without a zone
  return wall.getTime() - zoneMs + past;
}

/**
 * The one instant whose local time reads as `wall` (a local date-time, its fields stored as UTC).
 * A local time a clock change skips does not exist, and one it repeats (the hour after the clocks go
 * back) is ambiguous: both are UsageErrors that ask for a zone.
 */
function localTime(option: string, text: string, wall: number): number {
  const DAY = 86_400_000;
  // The offsets in force around that day (one clock change at most): each gives a candidate instant.
  const offsets = new Set([wall - DAY, wall, wall + DAY].map((t) => new Date(t).getTimezoneOffset()));
  const instants = [...new Set([...offsets].map((o) => wall + o * 60_000))].filter((t) => readsAs(t, wall)).sort((a, b) => a - b);
  const zone = (t: number): string => {
    const o = -new Date(t).getTimezoneOffset();
    return `${o < 0 ? '-' : '+'}${String(Math.floor(Math.abs(o) / 60)).padStart(2, '0')}:${String(Math.abs(o) % 60).padStart(2, '0')}`;
  };
  if (instants.length === 0) {
    throw new UsageError(`${option}: ${JSON.stringify(text)} does not exist in local time (a clock change skips it); give a zone (Z or ±hh:mm)`);
  }
  if (instants.length > 1) {
    throw new UsageError(`${option}: ${JSON.stringify(text)} is ambiguous in local time (a clock change repeats it); give a zone: ${instants.map((t) => `${text}${zone(t)}`).join(' or ')}`);
  }
  return instants[0]!;
}

/** Whether instant `t` reads, in local time, as `wall` (a local date-time, its fields stored as UTC). */
function readsAs(t: number, wall: number): boolean {
  const a = new Date(t);
  const b = new Date(wall);
  return a.getFullYear() === b.getUTCFullYear() && a.getMonth() === b.getUTCMonth() && a.getDate() === b.getUTCDate()
    && a.getHours() === b.getUTCHours() && a.getMinutes() === b.getUTCMinutes() && a.getSeconds() === b.getUTCSeconds();
}

function leapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

let stdoutGone = false;
let stdoutFailed = false;
let stdoutAbandoned = false;

/** stdout's reader went away (EPIPE: `reactive-log dump log | head`): commands stop printing and end with exit code 0. */
export function markStdoutClosed(): void {
  stdoutGone = true;
}

/** Writing to stdout failed otherwise (a full disk, EIO): commands stop printing, and the exit code is 1. */
export function markStdoutFailed(): void {
  stdoutGone = true;
  stdoutFailed = true;
}

/**
 * A command stops while a write to stdout is still pending (its reader does not read: `tail -f` on a
 * full pipe, stopped by a signal): nothing more is written, and the process exits once the command
 * returns rather than waiting for that write.
 */
export function abandonStdout(): void {
  stdoutGone = true;
  stdoutAbandoned = true;
}

/** Whether the process must exit without waiting for stdout (abandonStdout). */
export function stdoutWasAbandoned(): boolean {
  return stdoutAbandoned;
}

/** Whether writing to stdout failed otherwise than by a closed pipe. */
export function stdoutHasFailed(): boolean {
  return stdoutFailed;
}

/** The exit code to end with: a command's own, or 1 when its output could not be written. */
export function exitCodeAfterOutput(code: number): number {
  return stdoutFailed && code === 0 ? 1 : code;
}

/** Whether stdout's reader went away. */
export function stdoutClosed(): boolean {
  return stdoutGone;
}

/**
 * Writes `text` to stdout and resolves once it is handed to the system, or at once when stdout's
 * reader went away. Control characters but the tab and the newline are written as `\u` escapes: a
 * name a formatter left raw cannot drive the terminal (printable.ts).
 */
export function out(text: string): Promise<void> {
  if (stdoutGone) return Promise.resolve();
  return new Promise((resolve) => {
    if (process.stdout.write(printableOutput(text))) return resolve();
    const done = (): void => {
      process.stdout.off('drain', done);
      process.stdout.off('error', done);
      process.stdout.off('close', done);
      resolve();
    };
    process.stdout.once('drain', done);
    process.stdout.once('error', done);
    process.stdout.once('close', done);
  });
}

/**
 * Writes a line on stderr, after ending any progress bar drawn there (so the line starts clean);
 * control characters but the tab and the newline (a path or name in an error's message) as `\u` escapes.
 */
export function message(text: string): void {
  endProgressBars();
  process.stderr.write(`${printableOutput(text)}\n`);
}

/**
 * Reports a usage error: the message, then the synopsis of what `args` (the arguments after the
 * command's name) ran: of a subcommand (`cursor reset`) when they name one, else every synopsis line
 * of the command.
 */
export function usageFailure(cmd: Command | null, why: string, args: readonly string[] = []): number {
  // The reason is one line: a path or an option's text in it (a newline, a tab, an escape) is escaped.
  const synopsis = cmd === null ? 'Run "reactive-log --help" for usage.' : `Usage: ${synopses(cmd, args).join('\n       ')}\nRun "reactive-log ${cmd.name} --help" for more.`;
  message(`reactive-log${cmd === null ? '' : ` ${cmd.name}`}: ${printable(why)}\n${synopsis}`);
  return EXIT_USAGE;
}

/** The synopsis lines of `cmd` (its usage lines that begin with "reactive-log"), or the one of the subcommand `args` name. */
function synopses(cmd: Command, args: readonly string[]): string[] {
  const lines = cmd.usage.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('reactive-log '));
  const sub = lines.filter((l) => args[0] !== undefined && l.startsWith(`reactive-log ${cmd.name} ${args[0]} `));
  return sub.length === 1 ? sub : lines;
}

/**
 * The exit-1 line of a command whose report (on stdout) found damage: on stderr, ending with
 * ERR_LOG_CORRUPT as every exit-1 message ends with its code. Returns the exit code, 1.
 */
export function damageLine(cmd: Command, report: { readonly dir: string; readonly damageCount: number; readonly findings: ReadonlyArray<{ readonly severity: string; readonly file: string; readonly message: string }> }): number {
  const first = report.findings.find((f) => f.severity === 'damage');
  const n = report.damageCount;
  message(`reactive-log ${cmd.name}: ${printable(report.dir)}: ${n} damage finding${n === 1 ? '' : 's'}${first === undefined ? '' : `, the first in ${printable(first.file)}: ${printable(first.message)}`} (${ErrorCode.LOG_CORRUPT})`);
  return EXIT_FAILURE;
}

/**
 * The API options that a command's arguments give as they are: a path the library refuses there
 * (no log directory; a `repair --backup` that is empty, a file, runs through one or lies in the log)
 * is the argument's fault, refused before anything changed.
 */
const ARGUMENT_OPTIONS = new Set(['logDir', 'dir', 'backupDir']);

/** Whether a LogError is about the arguments (a path that is no log or no backup place, an id no cursor can have): exit 2. */
export function isUsageLogError(e: unknown): e is LogError {
  if (!(e instanceof LogError)) return false;
  return e.code === ErrorCode.INVALID_CONSUMER_ID || (e.code === ErrorCode.INVALID_OPTION && ARGUMENT_OPTIONS.has(e.details.option as string));
}

/** Runs a command and turns what it throws into an exit code and a message on stderr. */
export async function runCommand(cmd: Command, args: string[]): Promise<number> {
  try {
    return await cmd.run(args);
  } catch (e) {
    if (e instanceof UsageError) return usageFailure(cmd, e.message, args);
    if (isUsageLogError(e)) return usageFailure(cmd, `${e.message} (${e.code})`, args);
    // One line each: a path in the message (given on the command line) may hold a newline or a tab.
    if (e instanceof LogError) {
      message(`reactive-log ${cmd.name}: ${printable(e.message)} (${e.code})`);
      return EXIT_FAILURE;
    }
    // Not a failure the library names: one line, no stack trace (REACTIVE_LOG_DEBUG=1 prints it).
    if (process.env.REACTIVE_LOG_DEBUG === '1') throw e;
    message(`reactive-log ${cmd.name}: ${printable(e instanceof Error ? e.message : String(e))}`);
    return EXIT_FAILURE;
  }
}

/** Prints the command's help if asked (through `out`: a failed write fails the command); true when it did. */
export async function helped(cmd: Command, values: { help?: boolean | undefined }): Promise<boolean> {
  if (values.help !== true) return false;
  await out(`Usage: ${cmd.usage}\n`);
  return true;
}
