/**
 * repairLog's transactional cursors: those past the cut, found (and their locks taken) while planning,
 * and reset to the cut.
 */
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ErrorCode, LogError } from '../errors.js';
import { CursorFile, DAMAGED, readCursorOrDamage } from '../cursor/cursor-file.js';
import { cursorFolderNames } from '../cursor/cursor-folder.js';
import { CURSOR_DIR, cursorDir } from '../cursor/tx-cursor.js';
import { copyRange, syncDirectory } from './repair-backup.js';
import { type FileIO } from '../storage/file-io.js';
import { acquireLock, lockOwner, type HeldLock } from '../storage/lock.js';
import { cursorIdOfFile, cursorNames } from './cursor-ids.js';
import { heldNow } from './lock-admin.js';

/**
 * Under the locks taken while planning: no consumer opened these cursors since. The cut is the log's
 * new end, whatever durable.offset said (it may be missing or behind: it is never fsynced).
 */
export function resetCursors(io: FileIO, dir: string, ids: readonly string[], to: number): void {
  for (const id of ids) {
    const names = cursorNames(dir, id);
    const file = CursorFile.open(io, cursorDir(dir), basename(names.filePath), to);
    try {
      file.reset(to, undefined);
    } finally {
      file.closeSynced(); // a failed close must not leave the next cursors past the cut unreset
    }
  }
}

/**
 * Copies the cursor files repair is about to reset to `<backupDir>/cursors/` under their own names,
 * fsynced (the folder too; the caller syncs `backupDir`): copying them back restores the cursors,
 * both slots, as they were before the repair.
 */
export function backupCursors(io: FileIO, dir: string, ids: readonly string[], backupDir: string): void {
  if (ids.length === 0) return;
  const to = join(backupDir, CURSOR_DIR);
  try {
    mkdirSync(to, { recursive: true });
  } catch (e) {
    throw LogError.fromSystem(e, 'making the backup directory', to);
  }
  for (const id of ids) {
    const from = cursorNames(dir, id).filePath;
    copyRange(io, from, 0, join(to, basename(from)));
  }
  syncDirectory(to);
}

/**
 * The transactional cursors past `end`, read from their files (inspectLog would read the segments
 * repair cuts). `locks`: an array takes every cursor's lock and keeps it there (no consumer opens
 * one, no reset writes one meanwhile: a reset resolves its target under that lock); null (a dry run)
 * looks at every lock; undefined (finding the cut) at those past `end`. A held one: ERR_CURSOR_LOCKED.
 */
export function cursorsPast(io: FileIO, dir: string, end: number, locks?: HeldLock[] | null): Array<{ id: string; offset: number }> {
  const names = cursorFolderNames(io, cursorDir(dir)); // a failure would hide cursors that may point past the cut
  const out: Array<{ id: string; offset: number }> = [];
  for (const name of names) {
    const id = cursorIdOfFile(name);
    if (id === null) continue;
    // A cursor file with no valid slot is not repair's to mend (cursor reset or delete is).
    const value = readCursorOrDamage(io, join(cursorDir(dir), name), name);
    const offset = value === null || value === DAMAGED ? -1 : value.offset;
    if (offset <= end && locks === undefined) continue;
    const lockPath = cursorNames(dir, id).lockPath;
    const held = (pid: number | null): LogError => new LogError(ErrorCode.CURSOR_LOCKED, `cursor ${id} is held${pid !== null ? ` (pid ${pid})` : ''}: repair needs every transactional consumer of the log closed`, { file: lockPath });
    if (locks) {
      const taken = acquireLock(io, lockPath, { keepFound: true }); // claimed by repairIn before its first change
      if (!taken.ok) throw held(taken.ownerPid);
      locks.push(taken.lock);
    } else if (heldNow(io, lockPath)) {
      throw held(lockOwner(io, lockPath)?.pid ?? null);
    }
    if (offset > end) out.push({ id, offset });
  }
  return out;
}
