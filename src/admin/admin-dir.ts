/** The log directory an admin call names: checked before anything is read, and never created. */
import { realLogDir } from '../consumer/consumer-start.js';
import { requireLogDirectory } from '../consumer/log-dir.js';
import type { FileIO } from '../storage/file-io.js';
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
