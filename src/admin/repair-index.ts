/**
 * repairLog's index rebuild (repair.ts runs it): a sealed segment's index (`<base>.idx`) was fsynced
 * when its segment was sealed, so an entry that does not name a valid frame holding its offset, a
 * partial entry or more entries than the segment has room for is damage to verifyLog, and a missing
 * index a warning. Readers pass over such entries (each proves itself before it is used), but nothing
 * else would ever mend the file. The index is derived data: repair rebuilds it from the segment's
 * frames, written to `<base>.idx.new`, fsynced, renamed over the index, then the directory fsynced (a
 * crash leaves the old index or the new one). The active segment's index is not looked at: the next
 * `Producer.open` rewrites it (recover-active.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SEGMENT_HEADER_BYTES } from '../format/frame.js';
import { LogError } from '../errors.js';
import { fsyncDir, writeAll, type FileIO } from '../storage/file-io.js';
import { scanFrames } from '../storage/frame-scan.js';
import { encodeIndexEntries, entryOrders, readRawIndex } from '../segment/offset-index.js';
import { DEFAULT_INDEX_INTERVAL_BYTES } from '../producer/options.js';
import { indexName, readSegmentHeader, segmentName } from '../segment/segment-files.js';
import { copyRange, syncDirectory } from './repair-backup.js';

/** The entry spacing of a rebuilt index: the producer's default `indexIntervalBytes`. */
const REBUILT_INDEX_INTERVAL_BYTES = DEFAULT_INDEX_INTERVAL_BYTES;

/** A sealed segment's index repair rebuilds. */
export interface IndexRebuild {
  readonly base: number;
  /** Whether an index file is there (copied to the backup before it is replaced). */
  readonly present: boolean;
  /** Why it is rebuilt. */
  readonly reason: string;
  /** The rebuilt entries. */
  readonly offsets: number[];
  readonly positions: number[];
}

/**
 * The indexes of the sealed segments `sealed` (the log's segments that stay, the newest left out)
 * that are damaged or missing, with their entries rebuilt from the frames. A segment whose header is
 * invalid or that cannot be opened is left out (the cut deals with it), and so is an index that is
 * no regular file (never replaced).
 */
export function indexesToRebuild(io: FileIO, dir: string, sealed: readonly number[]): IndexRebuild[] {
  const out: IndexRebuild[] = [];
  for (const base of sealed) {
    let fd: number;
    try {
      fd = io.open(join(dir, segmentName(base)), 'r');
    } catch {
      continue;
    }
    try {
      const r = rebuildOf(io, dir, fd, base);
      if (r !== null) out.push(r);
    } finally {
      io.close(fd);
    }
  }
  return out;
}

function rebuildOf(io: FileIO, dir: string, fd: number, base: number): IndexRebuild | null {
  const size = io.fsize(fd);
  const h = readSegmentHeader(io, fd, segmentName(base));
  if (typeof h === 'string' || h.baseOffset !== base) return null;
  let raw: ReturnType<typeof readRawIndex>;
  try {
    raw = readRawIndex(io, join(dir, indexName(base)), size);
  } catch {
    return null; // something other than a regular file at the index: never replaced
  }
  // The verifier's rules (verify-segment.ts): in order, each entry at a valid frame holding its offset.
  let problem: string | null = raw === null ? 'missing' : raw.partialBytes > 0 ? 'ends in a partial entry'
    : raw.excessEntries > 0 ? `holds ${raw.excessEntries} entries more than the segment has room for` : null;
  // Entry position -> offset; the first bad one (out of order, past the end: entryOrders, as verify
  // judges them) is the problem.
  const claimed = new Map<number, number>();
  const judged = raw === null ? [] : entryOrders(base, raw.offsets, raw.positions, size);
  judged.forEach((j, i) => {
    const offset = raw!.offsets[i]!;
    const position = raw!.positions[i]!;
    if (j.order === 'in-order') claimed.set(position, offset);
    else problem ??= `entry ${i} (offset ${offset}, byte ${position}) is out of order or past the end of the segment`;
  });
  // The rebuilt index keeps the old entries that name a frame holding their offset (the spacing the
  // producer chose), and adds one wherever the gap grows past REBUILT_INDEX_INTERVAL_BYTES.
  const offsets: number[] = [];
  const positions: number[] = [];
  let lastIndexed = SEGMENT_HEADER_BYTES;
  let matched = 0;
  const end = scanFrames(io, fd, size, SEGMENT_HEADER_BYTES, base, (position, fh) => {
    const kept = position > SEGMENT_HEADER_BYTES && claimed.get(position) === fh.baseOffset;
    if (kept) matched++;
    if (kept || position - lastIndexed >= REBUILT_INDEX_INTERVAL_BYTES) {
      offsets.push(fh.baseOffset);
      positions.push(lastIndexed = position);
    }
  });
  // Entries pointing into damaged bytes are the frames' damage, not the index's.
  const inWhole = [...claimed.keys()].filter((p) => p < end.position).length;
  if (problem === null && matched < inWhole) problem = `${inWhole - matched} of its entries point where no valid frame holding their offset starts`;
  if (problem === null) return null;
  return { base, present: raw !== null, reason: problem, offsets, positions };
}

/**
 * Rebuilds the indexes: the old ones first copied to `backupDir` (when not null) and fsynced, then
 * the locks claimed (`claimLocks`, when no cut claimed them), then each new one written to `<base>.idx.new`, fsynced and renamed over the old, then the directory fsynced.
 */
export function rebuildIndexes(io: FileIO, dir: string, rebuilds: readonly IndexRebuild[], backupDir: string | null, claimLocks: (() => void) | null): void {
  if (rebuilds.length === 0) return;
  if (backupDir !== null) {
    try {
      mkdirSync(backupDir, { recursive: true });
    } catch (e) {
      throw LogError.fromSystem(e, 'making the backup directory', backupDir);
    }
    for (const r of rebuilds) if (r.present) copyRange(io, join(dir, indexName(r.base)), 0, join(backupDir, indexName(r.base)));
    syncDirectory(backupDir);
  }
  claimLocks?.();
  for (const r of rebuilds) {
    const tmp = join(dir, `${indexName(r.base)}.new`);
    // Created anew (exclusively): whatever is at the name goes first (a crashed rebuild's file, or a
    // symbolic link, which 'w' would follow to a file outside the log and then rename into place).
    removeLeftover(io, tmp);
    const fd = io.open(tmp, 'wx');
    try {
      if (r.offsets.length > 0) writeAll(io, fd, [encodeIndexEntries(r.offsets, r.positions)], 0);
      io.fsync(fd);
    } finally {
      io.close(fd);
    }
    io.rename(tmp, join(dir, indexName(r.base)));
  }
  fsyncDir(io, dir);
}

/** Removes what is at `path` (a file or a link; ENOENT: nothing there). A folder there fails the rebuild (ERR_LOG_CORRUPT by its open). */
function removeLeftover(io: FileIO, path: string): void {
  try {
    io.unlink(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EISDIR' && code !== 'EPERM') throw e;
  }
}
