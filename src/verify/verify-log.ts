/**
 * `verifyLog(dir)`: reads every byte of a log directory and reports what it finds, without changing
 * anything. It runs on a read-only view of the file layer (every write, sync, rename or unlink throws),
 * takes no lock, and decodes with the same code as recovery and the readers (frame-scan, offset-index,
 * cursor-file, durable-hint), so it cannot disagree with them about what a valid byte is.
 *
 * Works beside a live producer: the durable hint and the cursors are read before the segments are
 * listed, so that everything they promise was already in the files when the segments are scanned; a
 * segment deleted meanwhile by retention (oldest first) is told from a missing one (scanSegments).
 */
import { lstatSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCode, LogError } from '../errors.js';
import { CURSOR_DIR } from '../cursor/tx-cursor.js';
import { requireLogDirectory } from '../storage/log-dir.js';
import { DURABLE_HINT_FILE, START_OFFSET_FILE, durableHintEmpty, readDurableHint, readStartOffset } from '../storage/durable-hint.js';
import { fileIO, readOnlyFileIO, type FileIO } from '../storage/file-io.js';
import { describe, knownOptions, unwalkablePath } from '../validate.js';
import { PRODUCER_LOCK_FILE, lockOwner } from '../storage/lock.js';
import { checkCursorRange, readCursors, type CursorRead } from './verify-cursors.js';
import { classifyOther } from './verify-other.js';
import { FORMAT_VERSION, OLDEST_FORMAT_VERSION } from '../format/frame.js';
import { Findings } from './verify-findings.js';
import { verifySegment } from './verify-segment.js';
import type { SegmentReport, VerifyReport } from './verify-types.js';
import { indexName, listLogDir, parseIndexName, parseNewSegmentName, parseSegmentName, segmentName } from '../segment/segment-files.js';


/**
 * Checks every segment (header, every frame's checksum and structure, the chain of offsets), every
 * index entry, every cursor file (both slots), `durable.offset` and the other files of `dir`. Read-only:
 * it takes no lock and writes nothing, and it works beside a live producer. Damage is reported, never
 * thrown; so is a segment or a cursor file of a newer format (a finding that makes the report not ok).
 *
 * An empty directory is a log no producer has written yet: its report is ok, with a warning.
 *
 * @throws {@link LogError} `ERR_INVALID_OPTION` when `dir` is not a directory, or is a directory that
 *   is not empty and holds none of a log's files (somebody else's directory), or `options` are not
 *   `{ onProgress? }` with a function (an unknown key included); `ERR_IO` when listing it fails.
 *
 * @example
 * ```ts
 * const report = await verifyLog('./data/orders');
 * if (!report.ok) console.error(formatVerifyReport(report));
 * ```
 */
export async function verifyLog(dir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  if (typeof dir !== 'string' || dir.length === 0 || dir.includes('\0')) {
    throw LogError.invalidOption('dir', `expected a path to a log directory, got ${typeof dir === 'string' ? JSON.stringify(dir) : typeof dir}`);
  }
  const abs = resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch (e) {
    const sys = (e as NodeJS.ErrnoException).code;
    const why = unwalkablePath(sys);
    if (why !== null) throw LogError.invalidOption('dir', `${describe(dir)} ${why}`);
    if (sys !== 'ENOENT' && sys !== 'ENOTDIR') throw LogError.fromSystem(e, 'reading', abs);
  }
  if (!isDir) throw LogError.invalidOption('dir', `no log directory at ${abs}`);
  const onProgress = knownOptions(options, ['onProgress']).onProgress as VerifyOptions['onProgress'] | undefined;
  if (onProgress !== undefined && typeof onProgress !== 'function') throw LogError.invalidOption('onProgress', 'expected a function');
  const io = readOnlyFileIO(await fileIO());
  requireLogDirectory(io, abs, abs, 'dir');
  return verifyDir(io, abs, onProgress);
}

/** What `verifyLog` takes beside the directory. */
export interface VerifyOptions {
  /** Called after each segment is read: segments done, and how many the first listing named (a long verify shows progress with it). */
  readonly onProgress?: (segmentsDone: number, segmentsListed: number) => void;
}

/** How often verify lists the directory again when the newest segment it listed was deleted meanwhile. */
const MAX_RELISTS = 20;

/** One listing of the log directory: every name, and the segments and index files among them. */
interface Listing {
  readonly names: string[];
  /** Segment base offsets, ascending. */
  readonly bases: number[];
  /** Base offsets that have an index file. */
  readonly indexes: Set<number>;
}

function listDir(io: FileIO, dir: string): Listing {
  try {
    return listLogDir(io, dir);
  } catch (e) {
    throw LogError.fromSystem(e, 'listing', dir);
  }
}

function verifyDir(io: FileIO, dir: string, onProgress?: VerifyOptions['onProgress']): VerifyReport {
  const f = new Findings();
  const promises = readPromises(io, dir, listDir(io, dir).names, f);
  const listing = listDir(io, dir);
  checkListing(dir, listing, promises, f);
  const { segments, endKnown } = scanSegments(io, dir, listing, f, onProgress);
  if (listing.bases.length === 0) f.warning('no-segments', '.', 'no segment files: this is not a log yet (a producer creates segment 0 when it opens the directory)');
  checkChain(segments, f);

  const logStartOffset = segments.length > 0 ? segments[0]!.baseOffset : null;
  const logEndOffset = segments.length > 0 ? segments[segments.length - 1]!.endOffset : null;
  const { hasHint, hint } = promises;
  if (hasHint && hint === null) {
    f.warning('durable-hint', DURABLE_HINT_FILE, 'unreadable (short, or its checksum does not match): readers and recovery treat the durable offset as unknown');
  }
  if (endKnown && hint !== null && hint > (logEndOffset ?? 0)) {
    f.damage('durable-hint', DURABLE_HINT_FILE,
      `records ${logEndOffset ?? 0} to ${hint - 1} were reported durable but are not in the log (it ends at offset ${logEndOffset ?? 0}); recovery will refuse to open it`, { offset: logEndOffset ?? 0 });
  }
  for (const c of promises.cursors) checkCursorRange(c, logStartOffset, endKnown ? logEndOffset ?? 0 : undefined, f);

  const damageCount = f.list.filter((x) => x.severity === 'damage').length;
  const owner = promises.producerLockOwner;
  return {
    dir,
    ok: damageCount === 0,
    damageCount,
    warningCount: f.list.length - damageCount,
    logStartOffset,
    logEndOffset,
    records: segments.reduce((n, s) => n + s.records, 0),
    segments,
    durableHint: { state: !hasHint ? 'missing' : hint === null ? 'invalid' : 'valid', offset: hint },
    producerLock: owner === null ? null : { ownerPid: owner.pid, live: owner.live },
    cursors: promises.cursors.map((c) => c.report),
    findings: f.list,
  };
}

/** What the files beside the segments promise about them, read before the segments are listed. */
interface Promises {
  readonly hasHint: boolean;
  /** The durable offset durable.offset holds, or null (missing, unreadable, damaged). */
  readonly hint: number | null;
  readonly hasStart: boolean;
  /** The log start start.offset holds, or null. */
  readonly recordedStartOffset: number | null;
  readonly cursors: CursorRead[];
  readonly producerLockOwner: ReturnType<typeof lockOwner>;
}

/**
 * Read before the segments are listed: whatever these promise was in the files before the listing,
 * so a live producer never makes them point past the end the scan finds.
 */
function readPromises(io: FileIO, dir: string, names: string[], f: Findings): Promises {
  const hasHint = names.includes(DURABLE_HINT_FILE) && !durableHintEmpty(io, dir); // an empty one: the readers lock's, no hint
  const hint = hasHint ? readOrDamage(() => readDurableHint(io, dir), (why) => f.damage('durable-hint', DURABLE_HINT_FILE, `cannot be read: ${why}`)) : null;
  // A start.offset reported as damage here is not reported again as an unreadable value.
  const start = names.includes(START_OFFSET_FILE)
    ? readOrDamage(() => readStartOffset(io, dir), (why) => f.damage('start-offset', START_OFFSET_FILE, `cannot be read: ${why}; recovery will refuse to open the log`), false)
    : false;
  const hasStart = start !== false;
  const recordedStartOffset = hasStart ? start : null;
  return {
    hasHint,
    hint,
    hasStart,
    recordedStartOffset,
    cursors: names.includes(CURSOR_DIR) ? readCursors(io, dir, f) : [],
    producerLockOwner: names.includes(PRODUCER_LOCK_FILE) ? lockOwner(io, join(dir, PRODUCER_LOCK_FILE)) : null,
  };
}

/**
 * `read()`, or `failed` with `report` called when what is there is not a file that can be read (a
 * folder, a FIFO: ERR_LOG_CORRUPT, damage to report); an I/O error stops the scan.
 */
function readOrDamage<T, F = null>(read: () => T, report: (why: string) => void, failed: F = null as F): T | F {
  try {
    return read();
  } catch (e) {
    if ((e as LogError).code !== ErrorCode.LOG_CORRUPT) throw e;
    report((e as Error).message);
    return failed;
  }
}

/** The files of the listing that are not segments, and the segments against the recorded log start. */
function checkListing(dir: string, listing: Listing, promises: Promises, f: Findings): void {
  for (const name of listing.names) {
    const orphanIndex = parseIndexName(name) !== null && !listing.bases.includes(parseIndexName(name)!);
    // The lock is never taken through a symbolic link (lock.ts): one at producer.lock stops an open too.
    const lockLink = name === PRODUCER_LOCK_FILE && isSymbolicLink(join(dir, name));
    if (lockLink || ((name === PRODUCER_LOCK_FILE || parseNewSegmentName(name) !== null || orphanIndex) && !isRegularFile(join(dir, name)))) {
      // Recovery opens or removes these: anything but a file there stops it (ERR_LOG_CORRUPT).
      f.damage('unreadable', name, 'not a regular file (a folder, a FIFO, a symbolic link at producer.lock, …) where the log keeps or removes a file: Producer.open refuses the log');
    } else if (parseSegmentName(name) === null && parseIndexName(name) === null) classifyOther(dir, name, f);
  }
  for (const i of listing.indexes) {
    if (!listing.bases.includes(i) && isRegularFile(join(dir, indexName(i)))) f.warning('leftover', indexName(i), 'index file without its segment (left when retention deleted the segment, or by an interrupted one: recovery removes it); the log ignores it');
  }
  const { hasStart, recordedStartOffset } = promises;
  if (hasStart && recordedStartOffset === null) {
    f.warning('start-offset', START_OFFSET_FILE, 'unreadable (short, or its checksum does not match): recovery ignores it');
  }
  // Segments below a recorded start that names a listed segment: retention was deleting them (the live
  // producer's, or one a crash or a failed unlink interrupted, which the next recovery completes).
  // Readers still read them while they are there, so they are verified as part of the log.
  const bases = listing.bases;
  const newest = bases[bases.length - 1];
  if (recordedStartOffset !== null && recordedStartOffset > (newest ?? 0)) {
    // Retention records only a segment's base, and never past the active one: the segments from it on are gone.
    f.damage('start-offset', START_OFFSET_FILE, `names log start ${recordedStartOffset}, but ${newest === undefined ? 'no segment is here' : `the newest segment starts at ${newest}`}: the segments from ${recordedStartOffset} on are missing; recovery will refuse to open the log`, { offset: recordedStartOffset });
  } else if (recordedStartOffset !== null && bases.includes(recordedStartOffset)) {
    for (const b of bases) {
      if (b < recordedStartOffset) f.warning('leftover', segmentName(b), `below the log start recorded in ${START_OFFSET_FILE} (${recordedStartOffset}): retention was deleting it, and the next producer to open the log deletes it (keeps it while a transactional cursor points below that start)`);
    }
  } else if (recordedStartOffset !== null && bases.length > 0 && recordedStartOffset > bases[0]!) {
    f.warning('start-offset', START_OFFSET_FILE, `names log start ${recordedStartOffset}, which is no segment's base offset: recovery ignores it`);
  }
}

/** Each segment starts at the offset where the one before it ends. */
function checkChain(segments: SegmentReport[], f: Findings): void {
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1]!;
    const cur = segments[i]!;
    if (prev.endOffset < cur.baseOffset) {
      f.damage('gap', cur.file, `offsets ${prev.endOffset} to ${cur.baseOffset - 1} are missing: ${prev.file} ends at offset ${prev.endOffset}, ${cur.file} starts at ${cur.baseOffset}`, { offset: prev.endOffset });
    } else if (prev.endOffset > cur.baseOffset) {
      f.damage('overlap', cur.file, `offsets ${cur.baseOffset} to ${prev.endOffset - 1} are in two segments: ${prev.file} ends at offset ${prev.endOffset}, ${cur.file} starts at ${cur.baseOffset}`, { offset: cur.baseOffset });
    }
  }
}

/**
 * Verifies the listed segments, oldest first. A live producer's retention may delete some meanwhile:
 * it deletes whole segments oldest first, so a listed segment that no longer exists when it is opened
 * is a deletion (a warning) when no segment at or below it is left in a fresh listing, and then every
 * segment before it is gone too (read already, but no longer part of the log: dropped from the
 * chain). Anything else missing is a hole: damage. When the newest listed segment is gone, the log
 * moved on: the directory is listed again and the newer segments are verified too (at most
 * MAX_RELISTS times; past that the log's end is not known, and the checks against it are skipped).
 */
function scanSegments(io: FileIO, dir: string, listing: Listing, f: Findings, onProgress?: VerifyOptions['onProgress']): { segments: SegmentReport[]; endKnown: boolean } {
  const read: SegmentReport[] = [];
  const newer: Array<[number, number]> = [];
  let done = 0;
  let goneUpToOffset = -1;
  let batch = listing.bases;
  let indexes = listing.indexes;
  /** The newest frame time of the segments read so far, along the log (the 'time' check). */
  let newestTime: number | null = null;
  for (let relists = 0; ; relists++) {
    let newestGone = false;
    for (let i = 0; i < batch.length; i++) {
      const baseOffset = batch[i]!;
      const newest = i === batch.length - 1;
      const r = verifySegment(io, dir, baseOffset, newest, indexes.has(baseOffset), f, newestTime);
      onProgress?.(++done, Math.max(listing.bases.length, done));
      if (r === null) continue;
      if ('newer' in r) { newer.push([baseOffset, r.newer]); continue; }
      if (!('gone' in r)) {
        read.push(r);
        newestTime = r.newestTimestampMs ?? newestTime;
        continue;
      }
      if (listDir(io, dir).bases.some((b) => b <= baseOffset)) {
        f.damage('unreadable', segmentName(baseOffset), `cannot be opened: ${r.gone.message} (listed, then missing while an older segment is still there: not retention, which deletes oldest first)`);
        continue;
      }
      f.warning('unreadable', segmentName(baseOffset), 'deleted while being verified: retention deletes whole segments oldest first, and none at or below it is left');
      goneUpToOffset = baseOffset;
      newestGone = newest;
    }
    if (!newestGone) break;
    const last = batch[batch.length - 1]!;
    const now = listDir(io, dir);
    batch = now.bases.filter((b) => b > last);
    indexes = now.indexes;
    if (batch.length === 0) break;
    if (relists >= MAX_RELISTS) {
      f.warning('unreadable', segmentName(batch[0]!), `the live producer deleted the newest segment verify had listed ${MAX_RELISTS + 1} times while it read: the log's end was not checked`);
      return { segments: dropGone(read, goneUpToOffset, f), endKnown: false };
    }
  }
  judgeNewer(newer, read, f);
  const segments = dropGone(read, goneUpToOffset, f);
  return { segments, endKnown: segments.length > 0 || goneUpToOffset < 0 };
}

/**
 * Segments whose valid header names a newer format than this code reads. Format versions never go
 * down along a log (a writer writes its own version into each segment it creates): one followed by a
 * segment of a version this code reads is damage. Otherwise the log was written on by a newer
 * reactive-log, whose segments this one cannot check: also not ok, with the remedy named.
 */
function judgeNewer(newer: Array<[number, number]>, read: SegmentReport[], f: Findings): void {
  for (const [base, version] of newer) {
    const why = `format version ${version}, newer than this reactive-log reads (${OLDEST_FORMAT_VERSION} to ${FORMAT_VERSION})`;
    const older = read.find((r) => r.baseOffset > base && r.headerProblem === null);
    if (older !== undefined) {
      f.damage('segment-header', segmentName(base), `${why}, yet ${older.file} after it is of a format this one reads: versions never go down along a log, so this header is damage`, { position: 4 });
    } else {
      f.damage('segment-header', segmentName(base), `${why}: written by a newer reactive-log, which this one cannot check: verify it with a newer reactive-log`, { position: 4 });
    }
  }
}

/** The segments read that are still part of the log: those after the newest one found deleted. */
function dropGone(read: SegmentReport[], goneUpToOffset: number, f: Findings): SegmentReport[] {
  for (const r of read) {
    if (r.baseOffset < goneUpToOffset) f.warning('unreadable', r.file, 'deleted by retention while being verified, after it was read (a newer segment was found deleted)');
  }
  return read.filter((r) => r.baseOffset > goneUpToOffset);
}

/** Whether `path` is a symbolic link (false when gone meanwhile). */
function isSymbolicLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Whether `path` is a regular file (or a link to one), or gone meanwhile. */
function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
