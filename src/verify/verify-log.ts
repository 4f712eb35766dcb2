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
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCode, LogError } from '../errors.js';
import { CURSOR_DIR, CURSOR_SUFFIX } from '../cursor/tx-cursor.js';
import { validateConsumerId } from '../consumer/consumer-options.js';
import { isLogFile } from '../consumer/log-dir.js';
import { currentSlot, readCursorSlots, type CursorValue } from '../cursor/cursor-file.js';
import { DURABLE_HINT_FILE, START_OFFSET_FILE, readDurableHint, readStartOffset } from '../storage/durable-hint.js';
import { fileIO, readOnlyFileIO, type FileIO } from '../storage/file-io.js';
import { lockOwner } from '../storage/lock.js';
import { verifySegment } from './verify-segment.js';
import type { CursorReport, CursorSlotReport, SegmentReport, VerifyFinding, VerifyReport } from './verify-types.js';
import { INDEX_SUFFIX, SEGMENT_SUFFIX, indexName, listLogDir, parseIndexName, parseNewSegmentName, parseSegmentName, segmentName } from '../segment/segment-files.js';

const PRODUCER_LOCK = 'producer.lock';

/** Collects findings; the per-area checks push into it. */
export class Findings {
  readonly list: VerifyFinding[] = [];
  damage(kind: VerifyFinding['kind'], file: string, message: string, at: { position?: number; offset?: number } = {}): void {
    this.list.push({ severity: 'damage', kind, file, position: at.position ?? null, offset: at.offset ?? null, message });
  }
  warning(kind: VerifyFinding['kind'], file: string, message: string, at: { position?: number; offset?: number } = {}): void {
    this.list.push({ severity: 'warning', kind, file, position: at.position ?? null, offset: at.offset ?? null, message });
  }
}

/**
 * Checks every segment (header, every frame's checksum and structure, the chain of offsets), every
 * index entry, every cursor file (both slots), `durable.offset` and the other files of `dir`. Read-only.
 * Rejects with ERR_INVALID_OPTION when `dir` is not a directory; damage is reported, never thrown.
 */
export async function verifyLog(dir: string): Promise<VerifyReport> {
  if (typeof dir !== 'string' || dir.length === 0 || dir.includes('\0')) {
    throw LogError.invalidOption('dir', `expected a path to a log directory, got ${typeof dir === 'string' ? JSON.stringify(dir) : typeof dir}`);
  }
  const abs = resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR') throw LogError.fromSystem(e, 'reading', abs);
  }
  if (!isDir) throw LogError.invalidOption('dir', `no log directory at ${abs}`);
  return verifyDir(readOnlyFileIO(await fileIO()), abs);
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

function verifyDir(io: FileIO, dir: string): VerifyReport {
  const f = new Findings();
  const before = listDir(io, dir);

  // Read before the segments are listed: whatever these promise was in the files before the listing,
  // so a live producer never makes them point past the end the scan finds.
  const hasHint = before.names.includes(DURABLE_HINT_FILE);
  let hint: number | null = null;
  try {
    hint = hasHint ? readDurableHint(io, dir) : null;
  } catch (e) {
    // Something other than a regular file there is damage to report; an I/O error stops the scan.
    if ((e as LogError).code !== ErrorCode.LOG_CORRUPT) throw e;
    f.damage('durable-hint', DURABLE_HINT_FILE, `cannot be read: ${(e as Error).message}`);
  }
  const hasStart = before.names.includes(START_OFFSET_FILE);
  const recordedStart = hasStart ? readStartOffset(io, dir) : null;
  const cursorFiles = before.names.includes(CURSOR_DIR) ? readCursors(io, dir, f) : [];
  const lockOwnerInfo = before.names.includes(PRODUCER_LOCK) ? lockOwner(io, join(dir, PRODUCER_LOCK)) : null;

  const listing = listDir(io, dir);
  for (const name of listing.names) {
    if (parseSegmentName(name) === null && parseIndexName(name) === null) classifyOther(dir, name, f);
  }
  for (const i of listing.indexes) {
    if (!listing.bases.includes(i)) f.warning('leftover', indexName(i), 'index file without its segment (left when retention deleted the segment, or by an interrupted one: recovery removes it); the log ignores it');
  }
  if (hasStart && recordedStart === null) {
    f.warning('start-offset', START_OFFSET_FILE, 'unreadable (short, or its checksum does not match): recovery ignores it');
  }
  // Segments below a recorded start that names a listed segment: retention was deleting them (the live
  // producer's, or one a crash or a failed unlink interrupted, which the next recovery completes).
  // Readers still read them while they are there, so they are verified as part of the log.
  const bases = listing.bases;
  if (recordedStart !== null && bases.includes(recordedStart)) {
    for (const b of bases) {
      if (b < recordedStart) f.warning('leftover', segmentName(b), `below the log start recorded in ${START_OFFSET_FILE} (${recordedStart}): retention was deleting it, and the next producer to open the log deletes it`);
    }
  } else if (recordedStart !== null && bases.length > 0 && recordedStart > bases[0]!) {
    f.warning('start-offset', START_OFFSET_FILE, `names log start ${recordedStart}, which is no segment's base offset: recovery ignores it`);
  }

  const { segments, endKnown } = scanSegments(io, dir, listing, f);
  if (bases.length === 0) f.warning('no-segments', '.', 'no segment files: this is not a log yet (a producer creates segment 0 when it opens the directory)');
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1]!;
    const cur = segments[i]!;
    if (prev.endOffset < cur.baseOffset) {
      f.damage('gap', cur.file, `offsets ${prev.endOffset} to ${cur.baseOffset - 1} are missing: ${prev.file} ends at offset ${prev.endOffset}, ${cur.file} starts at ${cur.baseOffset}`, { offset: prev.endOffset });
    } else if (prev.endOffset > cur.baseOffset) {
      f.damage('overlap', cur.file, `offsets ${cur.baseOffset} to ${prev.endOffset - 1} are in two segments: ${prev.file} ends at offset ${prev.endOffset}, ${cur.file} starts at ${cur.baseOffset}`, { offset: cur.baseOffset });
    }
  }

  const logStartOffset = segments.length > 0 ? segments[0]!.baseOffset : null;
  const logEndOffset = segments.length > 0 ? segments[segments.length - 1]!.endOffset : null;
  if (hasHint && hint === null) {
    f.warning('durable-hint', DURABLE_HINT_FILE, 'unreadable (short, or its checksum does not match): readers and recovery treat the durable offset as unknown');
  }
  if (endKnown && hint !== null && hint > (logEndOffset ?? 0)) {
    f.damage('durable-hint', DURABLE_HINT_FILE,
      `records ${logEndOffset ?? 0} to ${hint - 1} were reported durable but are not in the log (it ends at offset ${logEndOffset ?? 0}); recovery will refuse to open it`, { offset: logEndOffset ?? 0 });
  }
  for (const c of cursorFiles) checkCursorRange(c, logStartOffset, endKnown ? logEndOffset ?? 0 : undefined, f);

  const damageCount = f.list.filter((x) => x.severity === 'damage').length;
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
    producerLock: lockOwnerInfo === null ? null : { ownerPid: lockOwnerInfo.pid, live: lockOwnerInfo.live },
    cursors: cursorFiles.map((c) => c.report),
    findings: f.list,
  };
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
function scanSegments(io: FileIO, dir: string, listing: Listing, f: Findings): { segments: SegmentReport[]; endKnown: boolean } {
  const read: SegmentReport[] = [];
  let goneUpTo = -1;
  let batch = listing.bases;
  let indexes = listing.indexes;
  for (let relists = 0; ; relists++) {
    let newestGone = false;
    for (let i = 0; i < batch.length; i++) {
      const base = batch[i]!;
      const newest = i === batch.length - 1;
      const r = verifySegment(io, dir, base, newest, indexes.has(base), f);
      if (r === null) continue;
      if (!('gone' in r)) { read.push(r); continue; }
      if (listDir(io, dir).bases.some((b) => b <= base)) {
        f.damage('unreadable', segmentName(base), `cannot be opened: ${r.gone.message} (listed, then missing while an older segment is still there: not retention, which deletes oldest first)`);
        continue;
      }
      f.warning('unreadable', segmentName(base), 'deleted while being verified: retention deletes whole segments oldest first, and none at or below it is left');
      goneUpTo = base;
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
      return { segments: dropGone(read, goneUpTo, f), endKnown: false };
    }
  }
  const segments = dropGone(read, goneUpTo, f);
  return { segments, endKnown: segments.length > 0 || goneUpTo < 0 };
}

/** The segments read that are still part of the log: those after the newest one found deleted. */
function dropGone(read: SegmentReport[], goneUpTo: number, f: Findings): SegmentReport[] {
  for (const r of read) {
    if (r.baseOffset < goneUpTo) f.warning('unreadable', r.file, 'deleted by retention while being verified, after it was read (a newer segment was found deleted)');
  }
  return read.filter((r) => r.baseOffset > goneUpTo);
}

/** Files of the log directory that are neither segments nor indexes. */
function classifyOther(dir: string, name: string, f: Findings): void {
  if (isLogFile(name)) return;
  if (/^producer\.lock\.(\d+\.[0-9a-z]+\.tmp|stale\.\d+\.\d+)$/.test(name)) {
    f.warning('leftover', name, 'left by an interrupted producer lock take-over; the log ignores it');
    return;
  }
  if (parseNewSegmentName(name) !== null) {
    f.warning('leftover', name, 'a segment being created by a roll (renamed into place once its header is written), or left by an interrupted one: recovery removes it; the log ignores it');
    return;
  }
  if (name.endsWith(SEGMENT_SUFFIX) || name.endsWith(INDEX_SUFFIX)) {
    f.warning('foreign-file', name, 'named like a segment or index but not <20 digits>.seg/.idx: the log ignores it');
    return;
  }
  let what = 'file';
  try {
    if (statSync(join(dir, name)).isDirectory()) what = 'folder';
  } catch { /* gone meanwhile */ }
  f.warning('foreign-file', name, `a ${what} the log does not use (it ignores it)`);
}

interface CursorRead {
  readonly report: CursorReport;
  /** The value of the current slot, or null when unreadable. */
  readonly value: CursorValue | null;
}

function slotReport(v: CursorValue | null, unused: boolean): CursorSlotReport {
  if (v !== null) return { state: 'valid', sequence: v.sequence, offset: v.offset, stateBytes: v.state?.byteLength ?? null };
  return { state: unused ? 'unused' : 'invalid', sequence: null, offset: null, stateBytes: null };
}

/** Reads every cursor file in `cursors/` and checks its two slots against each other. */
function readCursors(io: FileIO, dir: string, f: Findings): CursorRead[] {
  const cdir = join(dir, CURSOR_DIR);
  let names: string[];
  try {
    names = io.readdir(cdir).sort();
  } catch (e) {
    f.warning('foreign-file', CURSOR_DIR, `not a readable folder (${(e as NodeJS.ErrnoException).code ?? String(e)}): transactional consumers cannot use it`);
    return [];
  }
  const out: CursorRead[] = [];
  for (const name of names) {
    const file = `${CURSOR_DIR}/${name}`;
    const stem = name.endsWith(CURSOR_SUFFIX) ? name.slice(0, -CURSOR_SUFFIX.length) : null;
    if (stem === null || !isCursorName(stem)) {
      if (/\.cursor\.new$|\.lock\.(\d+\.[0-9a-z]+\.tmp|stale\.\d+\.\d+)$/.test(name)) {
        f.warning('leftover', file, 'left by an interrupted cursor creation or lock take-over; consumers ignore it');
      } else if (!(name.endsWith('.lock') && isCursorName(name.slice(0, -'.lock'.length)))) {
        f.warning('foreign-file', file, 'not a cursor or cursor lock file (retention reads every *.cursor file here)');
      }
      continue;
    }
    let slots;
    try {
      slots = readCursorSlots(io, join(cdir, name), name);
    } catch (e) {
      f.damage('unreadable', file, (e as Error).message);
      continue;
    }
    if (slots === null) continue; // deleted meanwhile
    const current = currentSlot(slots);
    const value = current === 'A' ? slots.a : current === 'B' ? slots.b : null;
    checkSlots(file, slots.a, slots.b, slots.aUnused, slots.bUnused, slots.bytes, f);
    out.push({
      value,
      report: {
        file, name: stem,
        slotA: slotReport(slots.a, slots.aUnused),
        slotB: slotReport(slots.b, slots.bUnused),
        current,
        offset: value?.offset ?? null,
        locked: lockOwner(io, join(cdir, `${stem}.lock`))?.live === true,
      },
    });
  }
  return out;
}

function isCursorName(stem: string): boolean {
  if (stem === 'global') return true;
  if (!stem.startsWith('client.')) return false;
  try {
    validateConsumerId(stem.slice('client.'.length));
    return true;
  } catch {
    return false;
  }
}

function checkSlots(file: string, a: CursorValue | null, b: CursorValue | null, aUnused: boolean, bUnused: boolean, bytes: number, f: Findings): void {
  if (a === null && b === null) {
    f.damage('cursor', file, `no valid slot in ${bytes} bytes: the cursor is lost (Consumer.open fails with ERR_LOG_CORRUPT)`, { position: 0 });
    return;
  }
  // Sequence n is written to slot n % 2: A holds even sequences, B odd ones.
  if (a !== null && a.sequence % 2 !== 0) f.damage('cursor', file, `slot A holds sequence ${a.sequence}, but odd sequences are written to slot B`, { position: 0 });
  if (b !== null && b.sequence % 2 !== 1) f.damage('cursor', file, `slot B holds sequence ${b.sequence}, but even sequences are written to slot A`, { position: 65_568 });
  if (a !== null && b !== null) {
    const [older, newer] = a.sequence < b.sequence ? [a, b] : [b, a];
    if (newer.sequence - older.sequence !== 1) {
      f.damage('cursor', file, `the slots hold sequences ${a.sequence} (A) and ${b.sequence} (B); commits alternate, so they differ by exactly 1`);
    } else if (newer.offset < older.offset) {
      f.damage('cursor', file, `the newer slot (sequence ${newer.sequence}) holds offset ${newer.offset}, below the older one's ${older.offset}: a cursor never moves backwards`);
    }
    return;
  }
  const valid = (a ?? b)!;
  const [otherName, otherUnused] = a === null ? ['A', aUnused] : ['B', bUnused];
  if (!otherUnused) {
    f.warning('cursor', file, `slot ${otherName} is damaged or was torn by an interrupted commit; the other slot holds the cursor (sequence ${valid.sequence}, offset ${valid.offset})`);
  } else if (valid.sequence !== 1) {
    f.warning('cursor', file, `slot ${otherName} is all zeros although the cursor has committed (sequence ${valid.sequence}); it should hold the previous commit`);
  }
}

/** `end`: the log's end, 0 for a log without segments, or undefined when it is not known. */
function checkCursorRange(c: CursorRead, start: number | null, end: number | undefined, f: Findings): void {
  const v = c.value;
  if (v === null) return;
  if (end !== undefined && v.offset > end) {
    f.damage('cursor', c.report.file, `points at offset ${v.offset}, past the end of the log (${end}): it committed records that are gone (Consumer.open fails with ERR_LOG_CORRUPT)`, { offset: v.offset });
  } else if (start !== null && v.offset < start && v.sequence > 1) {
    f.warning('cursor', c.report.file, `points at offset ${v.offset}, below the log start (${start}): retention deleted records it had not committed (Consumer.open fails with ERR_POSITION_EXPIRED)`, { offset: v.offset });
  }
}
