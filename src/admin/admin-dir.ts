/** The log directory an admin call names: checked before anything is read, and never created. */
import { realLogDir } from '../consumer/consumer-start.js';
import { requireLogDirectory } from '../storage/log-dir.js';
import type { FileIO } from '../storage/file-io.js';
import { LogError } from '../errors.js';
import { requireLogDir } from '../validate.js';

/**
 * The real path of the log directory `dir`; ERR_INVALID_OPTION (option logDir) when `dir` is not a
 * string, names nothing, or names a directory holding none of a log's files.
 */
export function adminLogDir(io: FileIO, dir: unknown): string {
  const logDir = requireLogDir(dir);
  const real = realLogDir(logDir);
  requireLogDirectory(io, real, logDir);
  return real;
}

/**
 * Runs an admin call's file work: a system error that escapes it (EIO on a read, EISDIR where a
 * segment should be) becomes a coded LogError (ERR_IO, or ERR_DISK_FULL) naming the file.
 */
export function coded<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof LogError) throw e;
    throw LogError.fromSystem(e, what, (e as NodeJS.ErrnoException | undefined)?.path);
  }
}
