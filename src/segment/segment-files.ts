/**
 * Segment files in a log directory: their names (`<20-digit base offset>.seg`, the index beside it as
 * `.idx`, and `.seg.new` while a segment is being created), listing them, creating one whole, and
 * reading a segment's header. The bytes inside a segment are laid out in src/format/frame.ts.
 */
import { join } from 'node:path';
import { LogError } from '../errors.js';
import { SEGMENT_HEADER_BYTES, decodeSegmentHeader, encodeSegmentHeader, type SegmentHeader } from '../format/frame.js';
import { fsyncDir, readFull, writeAll, type FileIO } from '../storage/file-io.js';

export const SEGMENT_SUFFIX = '.seg';
export const INDEX_SUFFIX = '.idx';
/** Appended to a segment's name while it is being created (`<20 digits>.seg.new`): see createSegment. */
export const NEW_SEGMENT_SUFFIX = '.new';
const NAME_DIGITS = 20;

export function segmentName(baseOffset: number): string {
  return String(baseOffset).padStart(NAME_DIGITS, '0') + SEGMENT_SUFFIX;
}

export function indexName(baseOffset: number): string {
  return String(baseOffset).padStart(NAME_DIGITS, '0') + INDEX_SUFFIX;
}

/** The temporary name segment `baseOffset` is created under before it is renamed into place. */
export function newSegmentName(baseOffset: number): string {
  return segmentName(baseOffset) + NEW_SEGMENT_SUFFIX;
}

/** The base offset of a segment being created (`<20 digits>.seg.new`), or null for any other name. */
export function parseNewSegmentName(name: string): number | null {
  return name.endsWith(SEGMENT_SUFFIX + NEW_SEGMENT_SUFFIX) ? parseSegmentName(name.slice(0, -NEW_SEGMENT_SUFFIX.length)) : null;
}

/** The base offset an index file name stands for (`<20 digits>.idx`), or null for any other name. */
export function parseIndexName(name: string): number | null {
  return name.endsWith(INDEX_SUFFIX) ? parseSegmentName(name.slice(0, -INDEX_SUFFIX.length) + SEGMENT_SUFFIX) : null;
}

/** The base offset a segment file name stands for, or null for a name that is not a segment. */
export function parseSegmentName(name: string): number | null {
  if (name.length !== NAME_DIGITS + SEGMENT_SUFFIX.length || !name.endsWith(SEGMENT_SUFFIX)) return null;
  const digits = name.slice(0, NAME_DIGITS);
  if (!/^[0-9]+$/.test(digits)) return null;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : null;
}

export interface SegmentInfo {
  readonly baseOffset: number;
  /** Offset after its last record. */
  endOffset: number;
  bytes: number;
  /** Timestamp of its newest record (its creation time while it has none). */
  lastTimestampMs: number;
}

/** One listing of a log directory: every name, and the segment files among them. */
export interface LogDirListing {
  /** Every name in the directory, sorted. */
  readonly names: string[];
  /** Segment base offsets (`<base>.seg`), ascending. */
  readonly bases: number[];
  /** Base offsets that have an index file (`<base>.idx`), whether or not their segment is there. */
  readonly indexes: Set<number>;
  /** Names of segments being created, or whose creation was interrupted (`<base>.seg.new`). */
  readonly newSegments: string[];
}

/**
 * Lists `dir` once and sorts what a log keeps there: the one listing recovery, the readers and the
 * verifier start from. Other names are left alone (they are in `names` only). I/O errors are thrown
 * as they are.
 */
export function listLogDir(io: FileIO, dir: string): LogDirListing {
  const names = io.readdir(dir).sort();
  const bases: number[] = [];
  const indexes = new Set<number>();
  const newSegments: string[] = [];
  for (const name of names) {
    const base = parseSegmentName(name);
    if (base !== null) {
      bases.push(base);
      continue;
    }
    const indexBase = parseIndexName(name);
    if (indexBase !== null) indexes.add(indexBase);
    else if (parseNewSegmentName(name) !== null) newSegments.push(name);
  }
  bases.sort((a, b) => a - b);
  return { names, bases, indexes, newSegments };
}

/**
 * Creates an empty segment whole: its header is written and fdatasynced under the temporary name
 * `<base>.seg.new`, which is then renamed to `<base>.seg`, so a segment file never exists without a
 * whole, durable header (a reader in another process may open it the moment the name appears). Then
 * its empty index is created and the directory fsynced. A crash leaves no segment or a whole empty one,
 * and at most the temporary file, which recovery removes. `replace`: the file at `<base>.seg` (recovery's
 * torn only segment) is replaced by the rename, so a crash or a failure leaves it or the new one, never
 * no segment.
 */
export function createSegment(io: FileIO, dir: string, baseOffset: number, nowMs: number, replace = false): void {
  const path = join(dir, segmentName(baseOffset));
  // The rename would replace an existing segment: one with this base is never expected here.
  if (!replace && io.exists(path)) throw Object.assign(new Error(`segment ${segmentName(baseOffset)} exists already`), { code: 'EEXIST' });
  const tmp = join(dir, newSegmentName(baseOffset));
  const fd = io.open(tmp, 'wx');
  try {
    writeAll(io, fd, [encodeSegmentHeader(baseOffset, nowMs)], 0);
    io.fdatasync(fd);
  } finally {
    io.close(fd);
  }
  io.rename(tmp, path);
  const ifd = io.open(join(dir, indexName(baseOffset)), 'w');
  io.close(ifd);
  fsyncDir(io, dir);
}

/**
 * Reads the header of the segment open at `fd` and decodes it: the header, or why the bytes there are
 * not one (short, bad magic, version or checksum). Whether that is damage is the caller's judgement.
 */
export function readSegmentHeader(io: FileIO, fd: number, file = 'a segment'): SegmentHeader | string {
  const head = Buffer.allocUnsafe(SEGMENT_HEADER_BYTES);
  return decodeSegmentHeader(head.subarray(0, readFull(io, fd, head, 0, SEGMENT_HEADER_BYTES, 0)), file);
}

/**
 * Throws ERR_UNSUPPORTED_FORMAT when a segment's header names a newer format than this code reads
 * (readSegmentHeader throws it). Recovery calls it before it changes anything, so that it never
 * removes, cuts or rewrites files of a log it cannot read. Other header problems are judged later, in their place.
 */
export function refuseNewerFormat(io: FileIO, dir: string): void {
  for (const base of listLogDir(io, dir).bases) {
    let fd: number;
    try {
      fd = io.open(join(dir, segmentName(base)), 'r');
    } catch {
      continue; // judged where the segment is used
    }
    try {
      readSegmentHeader(io, fd, segmentName(base));
    } finally {
      io.close(fd);
    }
  }
}

/**
 * Opens segment `base` of `dir`, listed by the caller under the producer lock (recovery): a name that
 * opens no file (a link to a missing file) is ERR_LOG_CORRUPT naming it, which repairLog removes,
 * as a reader reports it; other failures are the caller's to wrap.
 */
export function openListedSegment(io: FileIO, dir: string, base: number, flags: 'r' | 'r+'): number {
  try {
    return io.open(join(dir, segmentName(base)), flags);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw danglingSegment(base);
  }
}

/** ERR_LOG_CORRUPT for segment `base`, which its directory lists but whose open finds no file (a link to a missing file). */
export function danglingSegment(base: number): LogError {
  return LogError.corrupt(segmentName(base), 0, 'the directory lists this segment, but opening it finds no file (a link to a missing file)');
}
