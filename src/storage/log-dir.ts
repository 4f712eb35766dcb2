/**
 * Telling a log directory from somebody else's before a producer, a consumer or an admin call opens
 * it. A log keeps segments, their indexes, `durable.offset`, `start.offset`, `producer.lock`,
 * `producer.sock` and `cursors/` (and what an interrupted roll leaves: `<base>.seg.new`; a consumer
 * that died creating durable.offset: `durable.offset.<pid>-<thread>-<n>.adopt`).
 * A directory holding at least one of them is a log; an empty one is a log nobody has written yet
 * (a producer starts it there; a consumer may wait there for its producer). Anything else is refused
 * before anything is written in it: a producer would otherwise write its segments among the user's
 * own files, a transactional consumer its `cursors/`.
 */
import { dirname, join } from 'node:path';
import { CURSOR_DIR } from '../cursor/tx-cursor.js';
import { LogError } from '../errors.js';
import { FUNNEL_SOCKET_FILE } from '../funnel/wire.js';
import { parseIndexName, parseNewSegmentName, parseSegmentName } from '../segment/segment-files.js';
import { ADOPT_SUFFIX, DURABLE_HINT_FILE, START_OFFSET_FILE } from './durable-hint.js';
import type { FileIO } from './file-io.js';
import { PRODUCER_LOCK_FILE } from './lock.js';
import { realPathOf } from './real-path.js';

/** The log's own files besides segments and indexes: the hints, the lock, the funnel's socket, `cursors/`. */
const LOG_FILES: readonly string[] = [DURABLE_HINT_FILE, START_OFFSET_FILE, PRODUCER_LOCK_FILE, FUNNEL_SOCKET_FILE, CURSOR_DIR];

/** Whether `name` is one of the log's own files besides segments and indexes: the hints, the lock, the funnel's socket, `cursors/`. */
export function isLogFile(name: string): boolean {
  return LOG_FILES.includes(name);
}

/** Whether `name` is an entry a log keeps in its directory (a lock take-over's leftovers included). */
export function isLogEntry(name: string): boolean {
  if (isLogFile(name) || name.startsWith(PRODUCER_LOCK_FILE)) return true;
  // A durable.offset a consumer was making when it died (readers-lock.ts createAdopted).
  if (name.startsWith(`${DURABLE_HINT_FILE}.`) && name.endsWith(ADOPT_SUFFIX)) return true;
  return parseSegmentName(name) !== null || parseIndexName(name) !== null || parseNewSegmentName(name) !== null;
}

/**
 * ERR_INVALID_OPTION (option `option`: logDir, or verifyLog's dir) unless `realDir` is a directory
 * that is empty or holds a log's entries. Reads the listing only; I/O errors other than "not there"
 * are ERR_IO.
 */
export function requireLogDirectory(io: FileIO, realDir: string, logDir: string, option = 'logDir'): void {
  let names: string[];
  try {
    names = io.readdir(realDir);
  } catch (e) {
    const sys = (e as NodeJS.ErrnoException).code;
    if (sys === 'ENOENT' || sys === 'ENOTDIR') throw LogError.invalidOption(option, `no log directory at ${logDir}`);
    throw LogError.fromSystem(e, 'listing the log directory', realDir);
  }
  if (names.length === 0 || names.some(isLogEntry)) return;
  const files = LOG_FILES.map((f) => (f === CURSOR_DIR ? `${f}/` : f)).join(', ');
  throw LogError.invalidOption(option,
    `${logDir} is not a log directory: it is not empty and holds none of a log's files (segments, indexes, ${files}); open a log, or an empty directory to start one`);
}

/**
 * Producer option bags whose logDir is the library's own place beside a log (a consumer's default
 * dead-letter log, `<log>.dead-letter.<cursor>`): made there even when that log lies inside another
 * log's directory (a log moved there, or made before refuseInsideLog), which still opens.
 */
export const besideItsLog = new WeakSet<object>();

/** Files only a log keeps: a directory holding one of them is a log's. */
const LOG_MARKERS: readonly string[] = [DURABLE_HINT_FILE, START_OFFSET_FILE, PRODUCER_LOCK_FILE];

/**
 * ERR_INVALID_OPTION (option logDir) when `dir` holds no log yet (missing, or an empty directory) and
 * lies inside another log's directory: a producer would start a second log there, a folder the outer
 * log does not use appearing in it (as retry.deadLetterDir and repairLog's backupDir may not). A log
 * already there is opened as it is. Reads nothing but the existence of a few names above `dir`.
 */
export function refuseInsideLog(io: FileIO, dir: string, logDir: string): void {
  const real = realPathOf(dir);
  let names: string[] | null = null;
  try {
    names = io.readdir(real);
  } catch {
    // Missing (or not a directory: refused when it is made).
  }
  if (names !== null && names.some(isLogEntry)) return;
  for (let up = dirname(real); ; up = dirname(up)) {
    if (LOG_MARKERS.some((f) => io.exists(join(up, f)))) {
      throw LogError.invalidOption('logDir', `${logDir} lies in the log directory ${up}: a log must be a directory of its own`);
    }
    if (dirname(up) === up) return;
  }
}
