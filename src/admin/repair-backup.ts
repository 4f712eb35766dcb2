/**
 * repairLog's backup: the directory checked before anything is taken or changed, and the copies of
 * what repair removes, each fsynced, then the directory. Every failure is a coded LogError.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { LogError } from '../errors.js';
import { readFull, type FileIO } from '../storage/file-io.js';
import { realPathOf, within } from '../storage/real-path.js';
import { describe, unwalkablePath } from '../validate.js';

/**
 * A backup directory that is there must be a directory, the path to one that is not must not run
 * through a file, and neither may lie in the log directory `realLogDir` (a copy there would change
 * the log repair is cutting, or sit beside its cursor files).
 */
export function checkBackupDir(backupDir: unknown, realLogDir: string): void {
  if (typeof backupDir !== 'string' || backupDir.length === 0) throw LogError.invalidOption('backupDir', `expected a path, got ${describe(backupDir)}`);
  if (backupDir.includes('\0')) throw LogError.invalidOption('backupDir', 'contains a NUL character');
  try {
    if (!statSync(backupDir).isDirectory()) throw LogError.invalidOption('backupDir', `${backupDir} is a file, not a directory`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw LogError.invalidOption('backupDir', `the path ${backupDir} runs through a file`);
    const why = unwalkablePath(code);
    if (why !== null) throw LogError.invalidOption('backupDir', `${describe(backupDir)} ${why}`);
    if (code !== 'ENOENT') throw LogError.fromSystem(e, 'looking at the backup directory', backupDir);
  }
  if (within(realLogDir, realPathOf(backupDir))) {
    throw LogError.invalidOption('backupDir', `${backupDir} lies in the log directory ${realLogDir}: the backup must go elsewhere`);
  }
}

/**
 * Copies `path` from byte `from` to its end into the new file `to`, fsynced; `copied` hears of each
 * chunk. A file already at `to` that holds the start of those bytes (or all of them) is what a repair
 * stopped before its first change left: it is written again. One holding other bytes is kept (ERR_IO, EEXIST).
 */
export function copyRange(io: FileIO, path: string, from: number, to: string, copied?: (bytes: number) => void): void {
  const src = io.open(path, 'r');
  let out: number;
  try {
    out = openCopy(io, src, from, to);
  } catch (e) {
    io.close(src);
    throw LogError.fromSystem(e, `copying ${basename(path)} to the backup`, to);
  }
  try {
    const size = io.fsize(src);
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (let at = from; at < size;) {
      const n = readFull(io, src, buf, 0, Math.min(buf.length, size - at), at);
      if (n === 0) break;
      for (let w = 0; w < n;) w += writeSync(out, buf, w, n - w);
      at += n;
      copied?.(n);
    }
    fsyncSync(out);
  } catch (e) {
    throw LogError.fromSystem(e, `copying ${basename(path)} to the backup`, to);
  } finally {
    closeSync(out);
    io.close(src);
  }
}

/** `to` made anew, or the earlier copy there when it holds the start of `src` from byte `from` on (opened to be written over). */
function openCopy(io: FileIO, src: number, from: number, to: string): number {
  try {
    return openSync(to, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !holdsStartOf(io, src, from, to)) throw e;
  }
  return openSync(to, 'r+');
}

/** True when the regular file `to` holds the first bytes of `src` from byte `from` on, and nothing else. */
function holdsStartOf(io: FileIO, src: number, from: number, to: string): boolean {
  const fd = openSync(to, 'r');
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > io.fsize(src) - from) return false;
    const a = Buffer.allocUnsafe(64 * 1024);
    const b = Buffer.allocUnsafe(a.length);
    for (let at = 0; at < st.size;) {
      const n = readSync(fd, a, 0, Math.min(a.length, st.size - at), at);
      if (n === 0 || readFull(io, src, b, 0, n, from + at) !== n || !a.subarray(0, n).equals(b.subarray(0, n))) return false;
      at += n;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

export function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw LogError.fromSystem(e, 'syncing the backup directory', dir);
  }
}
