/**
 * Every error reactive-log raises is a `LogError` with a stable string `code`. Callers match on
 * `code`, never on message text. The message names the option, file or offset involved.
 */
export const ErrorCode = {
  /** Another live process holds the producer lock of this directory. */
  LOG_LOCKED: 'ERR_LOG_LOCKED',
  /** Another live process holds this transactional cursor. */
  CURSOR_LOCKED: 'ERR_CURSOR_LOCKED',
  /** The handle was closed (or failed) and accepts no more calls. */
  LOG_CLOSED: 'ERR_LOG_CLOSED',
  /** The ring stayed full for longer than `appendTimeoutMs` (backpressure). */
  LOG_FULL: 'ERR_LOG_FULL',
  /** Stored bytes fail their checksum or structure, somewhere other than a torn tail. */
  LOG_CORRUPT: 'ERR_LOG_CORRUPT',
  /** A record is larger than `maxRecordBytes`. */
  RECORD_TOO_LARGE: 'ERR_RECORD_TOO_LARGE',
  /**
   * A segment or cursor file was written in a format newer than this version of reactive-log reads.
   * Nothing was changed; a newer reactive-log opens it.
   */
  UNSUPPORTED_FORMAT: 'ERR_UNSUPPORTED_FORMAT',
  /** A record's key, headers or dedup key is of the wrong type or shape (nothing was appended). */
  INVALID_RECORD: 'ERR_INVALID_RECORD',
  /** An option or argument is missing, of the wrong type or out of range. */
  INVALID_OPTION: 'ERR_INVALID_OPTION',
  /** The requested offset was deleted by retention (or is otherwise below the log start). */
  POSITION_EXPIRED: 'ERR_POSITION_EXPIRED',
  /** A consumer id is empty, too long, path-like or holds control characters. */
  INVALID_CONSUMER_ID: 'ERR_INVALID_CONSUMER_ID',
  /** A write, fsync or read failed (EIO and the like). Terminal for a producer. */
  IO: 'ERR_IO',
  /** The disk is full (ENOSPC, EDQUOT). Terminal for a producer. */
  DISK_FULL: 'ERR_DISK_FULL',
  /**
   * The call's `signal` aborted before the call finished (the signal's reason is the error's `cause`).
   * The handle goes on working.
   */
  ABORTED: 'ERR_ABORTED',
  /** A consumer already serves an iteration or a processing call. */
  CONSUMER_BUSY: 'ERR_CONSUMER_BUSY',
  /** A consumer pool worker kept dying or hanging on the same records. */
  WORKER_FAILED: 'ERR_WORKER_FAILED',
  /** The writer thread died or stopped answering. */
  WRITER_FAILED: 'ERR_WRITER_FAILED',
  /**
   * A thread appending to a shared producer stopped inside an append while holding the append lock (a
   * worker terminated mid-append): the log accepts no more records. What was flushed stays durable.
   */
  PRODUCER_STALLED: 'ERR_PRODUCER_STALLED',
  /**
   * An internal invariant broke: a bug in reactive-log, not bad input, an I/O failure or damaged files.
   * The handle that raised it stops; the message names the invariant.
   */
  INTERNAL: 'ERR_INTERNAL',
} as const;

/** One of the `ErrorCode` strings. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What a LogError is about, as data: each field is there when it applies. */
export interface LogErrorDetails {
  /** The file involved, if any. */
  readonly file?: string;
  /** The byte position in `file`, if any. */
  readonly position?: number;
  /** The record offset involved, if any. */
  readonly offset?: number;
  /** The option involved, for ERR_INVALID_OPTION. */
  readonly option?: string;
  /** For ERR_POSITION_EXPIRED: the first offset still stored. */
  readonly logStartOffset?: number;
  /** The underlying system error code (ENOSPC, EIO, ...), if any. */
  readonly syscallCode?: string;
}

/**
 * The brand every LogError carries on its prototype. `Symbol.for` gives every copy of this module in
 * a process (an ESM and a CommonJS copy, two installed versions) the same symbol, so `isLogError`
 * recognises the errors of all of them, where `instanceof` sees one class only.
 */
const LOG_ERROR_BRAND = Symbol.for('reactive-log.LogError');

/**
 * The one error class of reactive-log: a stable `code` to match on, a message, and `details`. Where
 * the error may come from another copy of the module, test it with {@link isLogError} rather than
 * `instanceof`.
 *
 * @example
 * ```ts
 * try {
 *   producer.append(record);
 * } catch (e) {
 *   if (isLogError(e) && e.code === ErrorCode.LOG_FULL) await producer.writable({ bytes: record.byteLength });
 *   else throw e;
 * }
 * ```
 */
export class LogError extends Error {
  static {
    // On the prototype, inside the class: no statement of this module's own runs apart from the class.
    Object.defineProperty(this.prototype, LOG_ERROR_BRAND, { value: true });
  }


  /** The stable code; match on it, never on the message. */
  readonly code: ErrorCode;
  /** The file, byte position, offset or option involved. */
  readonly details: LogErrorDetails;

  /**
   * @param code - One of the {@link ErrorCode} strings.
   * @param message - What happened, naming the option, file or offset involved.
   * @param details - The same as data.
   * @param options - `cause`: the error this one wraps (a system error, a worker's failure).
   */
  constructor(code: ErrorCode, message: string, details: LogErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LogError';
    this.code = code;
    this.details = details;
  }

  /**
   * ERR_INVALID_OPTION naming `option`, and `why` it is refused.
   * @internal
   */
  static invalidOption(option: string, why: string, options?: { cause?: unknown }): LogError {
    return new LogError(ErrorCode.INVALID_OPTION, `invalid option "${option}": ${why}`, { option }, options);
  }

  /**
   * ERR_LOG_CLOSED: `what` (a producer, a consumer) is closed.
   * @internal
   */
  static closed(what: string): LogError {
    return new LogError(ErrorCode.LOG_CLOSED, `${what} is closed`);
  }

  /**
   * ERR_ABORTED: `call` ended because its signal aborted (the signal's reason as the cause); `more` says what that leaves.
   * @internal
   */
  static aborted(call: string, signal: AbortSignal, more = ''): LogError {
    return new LogError(ErrorCode.ABORTED, `${call} aborted by its signal${more}`, {}, { cause: signal.reason });
  }

  /**
   * Offsets `offset` to `logStartOffset - 1` were deleted by retention; `who` names the asker.
   * @internal
   */
  static expired(offset: number, logStartOffset: number, who = `offset ${offset}`): LogError {
    return new LogError(ErrorCode.POSITION_EXPIRED,
      `${who} is no longer stored: retention deleted offsets ${offset} to ${logStartOffset - 1}; the log now starts at ${logStartOffset}`,
      { offset, logStartOffset });
  }

  /**
   * `file` was written in a newer format than this code reads; `what` says how that shows.
   * @internal
   */
  static unsupportedFormat(file: string, what: string): LogError {
    return new LogError(ErrorCode.UNSUPPORTED_FORMAT,
      `${file} is in a newer format than this reactive-log reads (${what}): open it with a newer reactive-log; nothing was changed`,
      { file });
  }

  /**
   * ERR_LOG_CORRUPT at byte `position` of `file`.
   * @internal
   */
  static corrupt(file: string, position: number, why: string): LogError {
    return new LogError(ErrorCode.LOG_CORRUPT, `log corrupt in ${file} at byte ${position}: ${why}`, { file, position });
  }

  /**
   * Wraps a failed system call; ENOSPC and EDQUOT become ERR_DISK_FULL; EFTYPE (the file layer found a
   * FIFO, socket, device or directory where the log keeps a file) ERR_LOG_CORRUPT; the rest ERR_IO.
   * @internal
   */
  static fromSystem(err: unknown, what: string, file?: string): LogError {
    if (err instanceof LogError) return err;
    const sys = (err as NodeJS.ErrnoException | undefined)?.code;
    const code = sys === 'ENOSPC' || sys === 'EDQUOT' ? ErrorCode.DISK_FULL : sys === 'EFTYPE' ? ErrorCode.LOG_CORRUPT : ErrorCode.IO;
    const msg = `${what}${file ? ` (${file})` : ''} failed: ${(err as Error | undefined)?.message ?? String(err)}`;
    return new LogError(code, msg, { ...(file ? { file } : {}), ...(sys ? { syscallCode: sys } : {}) }, { cause: err });
  }
}

/**
 * Whether `e` is a {@link LogError} raised by any copy of reactive-log loaded in this process. Use it
 * instead of `instanceof LogError` where the error may come from another copy of the module: an app
 * that both imports and requires the package, or two installed versions, load two `LogError`
 * classes, and `instanceof` is true for one of them only.
 *
 * @example
 * ```ts
 * try {
 *   await Producer.open({ logDir });
 * } catch (e) {
 *   if (isLogError(e) && e.code === 'ERR_LOG_LOCKED') console.error('another producer has', logDir);
 *   else throw e;
 * }
 * ```
 */
export function isLogError(e: unknown): e is LogError {
  return typeof e === 'object' && e !== null && (e as { [LOG_ERROR_BRAND]?: unknown })[LOG_ERROR_BRAND] === true;
}

/** Whether `e` is ERR_UNSUPPORTED_FORMAT: a file of a newer format, which no caller may take for damage. */
export function isUnsupportedFormat(e: unknown): boolean {
  return e instanceof LogError && e.code === ErrorCode.UNSUPPORTED_FORMAT;
}

/**
 * Throws ERR_INTERNAL when `cond` is false: for conditions only a bug can break, so that a programmer
 * error is never reported as damage (ERR_LOG_CORRUPT) or an operating error. `what` states the
 * invariant that broke, with the values involved (a function: built only when it broke).
 */
export function assertInvariant(cond: boolean, what: string | (() => string), details: LogErrorDetails = {}): asserts cond {
  if (!cond) throw internalError(typeof what === 'function' ? what() : what, details);
}

/** The ERR_INTERNAL for a broken invariant `what`; for per-record checks, where `if (!ok) throw` allocates nothing. */
export function internalError(what: string, details: LogErrorDetails = {}): LogError {
  return new LogError(ErrorCode.INTERNAL, `internal invariant broken: ${what}`, details);
}
