/**
 * Telling a log directory from somebody else's before a consumer opens it. A log keeps segments,
 * their indexes, `durable.offset`, `start.offset`, `producer.lock` and `cursors/` (and what an interrupted
 * roll leaves: `<base>.seg.new`).
 * A directory holding at least one of them is a log; an empty one is a log nobody has written yet
 * (a consumer may wait there for its producer). Anything else is refused before anything is written
 * in it: a transactional consumer would otherwise create `cursors/` among the user's own files.
 */
import { CURSOR_DIR } from '../cursor/tx-cursor.js';
import { LogError } from '../errors.js';
import { DURABLE_HINT_FILE, START_OFFSET_FILE } from '../storage/durable-hint.js';
import type { FileIO } from '../storage/file-io.js';
import { PRODUCER_LOCK_FILE } from '../storage/lock.js';
import { FUNNEL_SOCKET_FILE } from '../funnel/wire.js';
import { parseIndexName, parseNewSegmentName, parseSegmentName } from '../segment/segment-files.js';

/** Whether `name` is one of the log's own files besides segments and indexes: the hints, the lock, the funnel's socket, `cursors/`. */
export function isLogFile(name: string): boolean {
  return name === DURABLE_HINT_FILE || name === START_OFFSET_FILE || name === PRODUCER_LOCK_FILE || name === CURSOR_DIR || name === FUNNEL_SOCKET_FILE;
}

/** Whether `name` is an entry a log keeps in its directory (a lock take-over's leftovers included). */
export function isLogEntry(name: string): boolean {
  if (isLogFile(name) || name.startsWith(PRODUCER_LOCK_FILE)) return true;
  return parseSegmentName(name) !== null || parseIndexName(name) !== null || parseNewSegmentName(name) !== null;
}

/**
 * ERR_INVALID_OPTION (option logDir) unless `realDir` is a directory that is empty or holds a log's
 * entries. Reads the listing only; I/O errors other than "not there" are ERR_IO.
 */
export function requireLogDirectory(io: FileIO, realDir: string, logDir: string): void {
  let names: string[];
  try {
    names = io.readdir(realDir);
  } catch (e) {
    const sys = (e as NodeJS.ErrnoException).code;
    if (sys === 'ENOENT' || sys === 'ENOTDIR') throw LogError.invalidOption('logDir', `no log directory at ${logDir}`);
    throw LogError.fromSystem(e, 'listing the log directory', realDir);
  }
  if (names.length === 0 || names.some(isLogEntry)) return;
  throw LogError.invalidOption('logDir',
    `${logDir} is not a log directory: it is not empty and holds none of a log's files (segments, indexes, ${DURABLE_HINT_FILE}, ${PRODUCER_LOCK_FILE}, ${CURSOR_DIR}/); open a log, or an empty directory to start one`);
}
