/**
 * The identity (device and inode) of the log directory a consumer opened, and the check that the
 * path still names it. A consumer checks it at each wait on the files (consumer/local-source.ts) and
 * its readers whenever they open a segment file by name or fail (log-reader.ts): a directory removed
 * and created again, or another log renamed into its path, holds another log, whose records would
 * read on from the old log's offsets as if nothing had happened. One stat per segment opened, none
 * per record.
 */
import { ErrorCode, LogError } from '../errors.js';
import type { FileIO } from '../storage/file-io.js';

/** The device and inode of a log directory, or null when the file layer has no stat. */
export type DirIdentity = { readonly dev: bigint; readonly ino: bigint } | null;

/**
 * The identity a consumer checks the log directory against, taken at the open before anything is
 * read there. A stamp that fails fails the open with ERR_IO, as every other read of the directory
 * there does: a consumer with no identity would never notice another log at the path, and read on in
 * it from this one's offsets.
 */
export function dirIdentityOf(io: FileIO, dir: string): DirIdentity {
  try {
    const s = io.stampPath?.(dir);
    return s === undefined ? null : { dev: s.dev, ino: s.ino };
  } catch (e) {
    throw LogError.fromSystem(e, 'opening the consumer', dir);
  }
}

/** Whether two identities name the same directory: true, false, or null when either is unknown. */
export function sameDir(a: DirIdentity, b: DirIdentity): boolean | null {
  return a === null || b === null ? null : a.dev === b.dev && a.ino === b.ino;
}

/**
 * Throws ERR_IO naming `dir` when the path no longer names a directory (removed, renamed away) or
 * names another one than `was` (another device or inode). Without a stat in the file layer, only
 * whether something is there.
 */
export function checkDirIdentity(io: FileIO, dir: string, was: DirIdentity): void {
  let now: { readonly dev: bigint; readonly ino: bigint };
  try {
    if (io.stampPath === undefined) {
      if (!io.exists(dir)) throw Object.assign(new Error(`ENOENT: no such file or directory, stat '${dir}'`), { code: 'ENOENT' });
      return;
    }
    now = io.stampPath(dir);
  } catch (e) {
    throw LogError.fromSystem(e, 'reading the log', dir);
  }
  if (sameDir(was, now) === false) {
    throw new LogError(ErrorCode.IO, `the log directory ${dir} was removed and another directory was created at its path: that is another log; open a consumer on it again`, { file: dir });
  }
}

/**
 * A reader's failure `e` as a LogError, unless the directory was replaced or removed since identity
 * `was`: then that (ERR_IO naming it). A stat that fails otherwise leaves `e` as it was.
 */
export function failureIn(io: FileIO, dir: string, was: DirIdentity, e: unknown, what: string): LogError {
  if (was !== null) {
    try {
      checkDirIdentity(io, dir, was);
    } catch (replaced) {
      const sys = (replaced as LogError).details.syscallCode;
      if (sys === undefined || sys === 'ENOENT' || sys === 'ENOTDIR') return replaced as LogError;
    }
  }
  return LogError.fromSystem(e, what, dir);
}
