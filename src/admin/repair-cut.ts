/**
 * Where repairLog (repair.ts) cuts a log: the first place, in offset order, where the log's segments
 * stop being a chain of valid frames, or its end when durable.offset or a cursor names records past it.
 */
import { join } from 'node:path';
import { SEGMENT_HEADER_BYTES } from '../format/frame.js';
import { START_OFFSET_FILE, readDurableHint, readStartOffset } from '../storage/durable-hint.js';
import type { FileIO } from '../storage/file-io.js';
import { scanFrames } from '../storage/frame-scan.js';
import { retentionStart } from '../storage/recovery.js';
import { lowestCursorOffset } from '../cursor/tx-cursor.js';
import { listLogDir, readSegmentHeader, segmentName } from '../segment/segment-files.js';
import { cursorsPast } from './repair-cursors.js';

/** Where the log stops being a chain of valid frames. */
export interface RepairCut {
  /** The segment file, e.g. `00000000000000001000.seg`. */
  readonly file: string;
  /** The byte position the segment is cut at (0: the whole file goes). */
  readonly position: number;
  /** The log's next offset after the cut. */
  readonly offset: number;
  /** Why the log stops there. */
  readonly reason: string;
}

/**
 * A whole chain of valid frames that ends before what durable.offset or a cursor says was there (a
 * segment cut at a frame boundary): nothing is removed, and the hint and the cursors are set to the
 * end. Recovery refuses such a log, and a cursor past the end would pass over the next records.
 */
export function endPastPromises(io: FileIO, dir: string): RepairCut | null {
  const bases = logBases(io, dir);
  if (bases.length === 0) return noSegmentLeft(io, dir);
  const last = bases[bases.length - 1]!;
  const file = segmentName(last);
  const fd = io.open(join(dir, file), 'r');
  let size: number;
  let end: number;
  try {
    size = io.fsize(fd);
    end = scanFrames(io, fd, size, SEGMENT_HEADER_BYTES, last).nextOffset;
  } finally {
    io.close(fd);
  }
  const hint = readDurableHint(io, dir);
  if (hint !== null && hint > end) return { file, position: size, offset: end, reason: `the log ends at offset ${end}, but durable.offset says records up to ${hint - 1} were durable` };
  if (cursorsPast(io, dir, end).length > 0) return { file, position: size, offset: end, reason: `the log ends at offset ${end}, and a cursor points past it` };
  // Segments a cursor below the recorded start keeps (logBases), those from that start on gone.
  const start = readStartOffset(io, dir);
  if (start !== null && start > last) return { file, position: size, offset: end, reason: `the log ends at offset ${end}, but ${START_OFFSET_FILE} names log start ${start}: the segments from it on are missing` };
  return null;
}

/**
 * No segment of the log at all (a repair stopped after removing them, segments lost, or only segments
 * below a recorded start past them all, which go too): the log goes on from a new empty segment at
 * the highest offset durable.offset, start.offset or a cursor names. Null for a log never written.
 */
function noSegmentLeft(io: FileIO, dir: string): RepairCut | null {
  const start = readStartOffset(io, dir) ?? 0;
  // A committed cursor shows records up to its offset were written: the log goes on there, so no
  // offset is handed out twice and no cursor moves back.
  const cursors = cursorsPast(io, dir, 0);
  const at = Math.max(readDurableHint(io, dir) ?? 0, start, ...cursors.map((c) => c.offset));
  if (at === 0) return null;
  const why = listLogDir(io, dir).bases.length > 0 ? `every segment lies below the log start ${start} recorded in ${START_OFFSET_FILE}` : 'no segment is left';
  return { file: segmentName(at), position: 0, offset: at, reason: `${why}, and the log's files name offset ${at} as its end` };
}

/**
 * The log's segments: below a recorded log start that names a segment here, what an interrupted
 * retention left is no longer part of the log (recovery deletes it; recovery.ts), and repair leaves it.
 */
export function logBases(io: FileIO, dir: string): number[] {
  const bases = listLogDir(io, dir).bases;
  const start = readStartOffset(io, dir);
  if (start === null) return bases;
  // A recorded start past every segment (recovery refuses it): the segments from it on are gone. Those
  // below it are the log while a transactional cursor points below the start (the writer keeps them:
  // retentionStart); else they are what retention was deleting, and the log goes on at the start (noSegmentLeft).
  if (bases.every((b) => b < start)) {
    const lowest = lowestCursorOffset(io, dir);
    return lowest !== null && lowest < start ? bases : [];
  }
  const kept = retentionStart(io, dir, bases, start); // null while a cursor points below it: recovery keeps them
  return kept !== null ? bases.filter((b) => b >= kept) : bases;
}

/** The first place, in offset order, where the log stops being a chain of valid frames; null if nowhere. */
export function findCut(io: FileIO, dir: string): RepairCut | null {
  const bases = logBases(io, dir);
  let expected: number | null = null;
  for (const base of bases) {
    const file = segmentName(base);
    const ends = expected ?? base; // the log's end if this whole segment goes
    if (expected !== null && base !== expected) {
      return { file, position: 0, offset: ends, reason: base > expected ? `offsets ${expected} to ${base - 1} are missing before it` : `it starts at offset ${base}, inside the segment before it (which ends at ${expected})` };
    }
    const fd = openListed(io, join(dir, file));
    // Listed, yet nothing to open: a symbolic link to nothing. It holds no record: the log ends before it (the link goes).
    if (fd === null) return { file, position: 0, offset: ends, reason: 'a symbolic link to nothing: the segment is missing' };
    try {
      const size = io.fsize(fd);
      const h = readSegmentHeader(io, fd, file);
      if (typeof h === 'string') return { file, position: 0, offset: ends, reason: `segment header: ${h}` };
      if (h.baseOffset !== base) return { file, position: 0, offset: ends, reason: `segment header names base offset ${h.baseOffset}` };
      const end = scanFrames(io, fd, size, SEGMENT_HEADER_BYTES, base);
      if (end.bad !== null) return { file, position: end.position, offset: end.nextOffset, reason: end.bad };
      expected = end.nextOffset;
    } finally {
      io.close(fd);
    }
  }
  return null;
}

/** `path` opened for reading; null when it is listed but opening it finds nothing (ENOENT: a symbolic link to nothing). */
function openListed(io: FileIO, path: string): number | null {
  try {
    return io.open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}
