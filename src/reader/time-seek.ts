/**
 * Seek by time: the offset of the first record stored at or after a time, found without reading the
 * log. A record's timestamp is its frame's, and along a log of format 2 frame timestamps never
 * decrease (the writer clamps its clock to the last frame's), so the search is a binary search twice:
 * over the segments by the timestamp of their first frame, then over the chosen segment's offset
 * index by the timestamp of the frame each entry names, then a walk over frame headers from that
 * entry (at most indexIntervalBytes of frames). A probe of the binary searches reads one frame
 * header (40 bytes); the walk steps over large frames header by header and reads ahead over small
 * ones. Each segment is opened once per search.
 *
 * Frame headers read here are checked for shape (magic, a possible length and record count), not by
 * checksum: the search only picks where reading starts, and the reader checks every frame it reads
 * from there (or knows it checked: verified-cache.ts, writer-frames.ts). The frame just before the
 * answer, which the reader would not read, is checked whole (see walk()): a damaged timestamp there
 * must not pass its records over. An index entry a walk starts from must prove itself as the reader's
 * do (entryFrame), and a walk that meets bytes holding no frame of the offset due there answers that
 * offset, so the reader meets the damage too; a listed segment that cannot be opened is damage. Records
 * of format 1, whose timestamps could step back with the wall clock, give a record at or after the
 * time, not always the first one.
 */
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES, checkFrame, decodeFrameHeader, type FrameHeader } from '../format/frame.js';
import { entryFrame, readIndex, type IndexEntries } from '../segment/offset-index.js';
import { confirmed, frameMatches, onClearReaderCaches, recordFrame, segmentEntry, wallNowMs } from './verified-cache.js';
import { danglingSegment, indexName, segmentName } from '../segment/segment-files.js';
import { readFull, type FileIO } from '../storage/file-io.js';
import { join, sep } from 'node:path';
import { LogError } from '../errors.js';
import { segmentBases } from './segment-list.js';

/** What a header read answers at whole bytes that are no frame header (damage, or a torn tail not yet recovered). */
const DAMAGED = 'damaged';

/** Bytes read at once by a walk over consecutive frame headers (the default index interval). */
const WALK_READ_BYTES = 64 * 1024;
/** A frame at least this long is stepped over with a read of the next header alone. */
const LARGE_FRAME_BYTES = 4 * 1024;

/**
 * A segment open for the search: its frames' headers by position. A probe of the binary searches
 * reads one header; `walkAt` reads ahead, so a walk over small frames costs one read per
 * WALK_READ_BYTES instead of one per frame.
 */
class SegmentFrames {
  private readonly head = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  private ahead: Buffer | null = null;
  private aheadPosition = 0;
  private aheadBytes = 0;
  readonly size: number;

  /** `cacheKey`: the segment's key in the readers' caches (segmentPath). */
  constructor(private readonly io: FileIO, readonly fd: number, private readonly path: string, private readonly cacheKey: string) {
    this.size = io.fsize(fd);
  }

  /** readFull, its failure named after the segment (a directory in a segment's place fails here). */
  private read(buf: Buffer, length: number, position: number): number {
    try {
      return readFull(this.io, this.fd, buf, 0, length, position);
    } catch (e) {
      throw LogError.fromSystem(e, 'reading a frame header to seek by time', this.path);
    }
  }

  /** The header of the frame at `position`; null past the end or at a partial frame, DAMAGED at bytes that are no frame header. */
  frameAt(position: number): FrameHeader | null | typeof DAMAGED {
    if (position + FRAME_HEADER_BYTES > this.size) return null;
    const n = this.read(this.head, FRAME_HEADER_BYTES, position);
    return n < FRAME_HEADER_BYTES ? null : this.checked(decodeFrameHeader(this.head, 0), position);
  }

  /**
   * Whether the frame at `position`, whose header read `h`, passes every check (checksum included).
   * A frame this thread's readers verified under the stamp the file still has is not read again
   * (verified-cache.ts); a large one checked here is noted there.
   */
  valid(position: number, h: FrameHeader): boolean {
    const entry = this.io.stamp === undefined ? undefined : segmentEntry(this.cacheKey);
    const known = entry?.frames.get(position);
    if (entry !== undefined && known !== undefined && frameMatches(known, h) && confirmed(this.cacheKey, entry, this.io.stamp!(this.fd))) return true;
    const wallMs = wallNowMs();
    const stamp = this.io.stamp?.(this.fd); // before the read: see settled()
    const buf = Buffer.allocUnsafe(h.frameBytes);
    if (this.read(buf, h.frameBytes, position) < h.frameBytes) return false;
    const now = decodeFrameHeader(buf, 0);
    if (typeof now === 'string' || now.frameBytes !== h.frameBytes || checkFrame(buf, 0, now) !== null) return false;
    if (stamp !== undefined) recordFrame(this.cacheKey, stamp, wallMs, position, now, buf, 0);
    return true;
  }

  /** Up to `bytes` bytes at `position`, in a fresh buffer (for entryFrame). */
  bytesAt(position: number, bytes: number): Buffer {
    const buf = Buffer.allocUnsafe(bytes);
    return buf.subarray(0, this.read(buf, bytes, position));
  }

  /** As frameAt, from a read-ahead buffer: for walks from one frame to the next. */
  walkAt(position: number): FrameHeader | null | typeof DAMAGED {
    if (position + FRAME_HEADER_BYTES > this.size) return null;
    if (position < this.aheadPosition || position + FRAME_HEADER_BYTES > this.aheadPosition + this.aheadBytes) {
      this.ahead ??= Buffer.allocUnsafe(WALK_READ_BYTES);
      this.aheadPosition = position;
      this.aheadBytes = this.read(this.ahead, Math.min(WALK_READ_BYTES, this.size - position), position);
      if (this.aheadBytes < FRAME_HEADER_BYTES) return null;
    }
    return this.checked(decodeFrameHeader(this.ahead!, position - this.aheadPosition), position);
  }

  /** Null at a frame not whole yet; DAMAGED at whole header bytes that are no frame header. */
  private checked(h: FrameHeader | string, position: number): FrameHeader | null | typeof DAMAGED {
    if (typeof h === 'string') return DAMAGED;
    return position + h.frameBytes > this.size ? null : h;
  }
}

/**
 * The segments one search opens, each opened once and all closed by `close()`. A segment deleted by
 * retention meanwhile (no longer listed) is null.
 */
class OpenSegments {
  private readonly open = new Map<number, SegmentFrames | null>();

  constructor(private readonly io: FileIO, private readonly dir: string) {}

  get(base: number): SegmentFrames | null {
    let s = this.open.get(base);
    if (s !== undefined) return s;
    const path = join(this.dir, segmentName(base));
    let fd: number;
    try {
      fd = this.io.open(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      // Still listed (a dangling link): damage, not a segment retention deleted (log-reader.ts's goneSinceListing).
      if (segmentBases(this.io, this.dir).includes(base)) throw danglingSegment(base);
      this.open.set(base, null);
      return null;
    }
    try {
      s = new SegmentFrames(this.io, fd, path, segmentPath(this.dir, base));
    } catch (e) {
      this.io.close(fd);
      throw e;
    }
    this.open.set(base, s);
    return s;
  }

  close(): void {
    for (const s of this.open.values()) if (s !== null) this.io.close(s.fd);
    this.open.clear();
  }
}

/**
 * Timestamps of frames this thread's searches read, by segment path and frame position: hints. A
 * search takes them for its binary searches, then reads the frames its answer rests on (the first
 * frame of the segment it picked, the frame its walk starts from) and searches again without hints
 * when one of them disagrees; a wrong hint costs reads, never a wrong answer. Bounded by the segments
 * kept (oldest dropped first) and, per segment, by the frames a search probes (index entries).
 */
const hints = new Map<string, Map<number, number>>();
const MAX_HINTED_SEGMENTS = 512;
onClearReaderCaches(() => hints.clear());

function hintsOf(path: string): Map<number, number> {
  let h = hints.get(path);
  if (h !== undefined) return h;
  hints.set(path, (h = new Map()));
  if (hints.size > MAX_HINTED_SEGMENTS) hints.delete(hints.keys().next().value!);
  return h;
}

/** The key the readers' caches use for a segment file. */
function segmentPath(dir: string, base: number): string {
  return (dir.endsWith(sep) ? dir : dir + sep) + segmentName(base);
}

/** The timestamp of a segment's first frame (a hint when `useHints`); +Infinity when it holds none (yet), -Infinity when gone (retention: older than all kept). */
function firstTimestamp(segments: OpenSegments, dir: string, base: number, useHints: boolean): number {
  const known = hintsOf(segmentPath(dir, base));
  const hinted = useHints ? known.get(SEGMENT_HEADER_BYTES) : undefined;
  if (hinted !== undefined) return hinted;
  const s = segments.get(base);
  if (s === null) return -Infinity;
  // A first frame that is damaged counts as not older: an answer at or before it sends the reader there.
  const h = s.frameAt(SEGMENT_HEADER_BYTES);
  const ts = h === null || h === DAMAGED ? Infinity : h.timestampMs;
  if (ts !== Infinity) known.set(SEGMENT_HEADER_BYTES, ts);
  return ts;
}

/** Where a walk starts: a frame's position and the offset it must start with. */
interface WalkStart { readonly position: number; readonly offset: number }

/**
 * The frame named by the last index entry whose frame is older than `ms` (by hints when `useHints`),
 * or the segment's first frame when none is; null when an entry read does not hold a frame starting
 * at its offset, or the entry picked does not prove itself (entryFrame): a stale or damaged index.
 */
function walkStart(s: SegmentFrames, known: Map<number, number>, base: number, index: IndexEntries, ms: number, useHints: boolean): WalkStart | null {
  let lo = 0;
  let hi = index.positions.length - 1;
  let from: WalkStart = { position: SEGMENT_HEADER_BYTES, offset: base };
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const position = index.positions[mid]!;
    let ts = useHints ? known.get(position) : undefined;
    if (ts === undefined) {
      const h = s.frameAt(position);
      if (h === null || h === DAMAGED || h.baseOffset !== index.offsets[mid]) return null;
      ts = h.timestampMs;
      known.set(position, ts);
    }
    if (ts < ms) {
      from = { position, offset: index.offsets[mid]! };
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (from.position === SEGMENT_HEADER_BYTES) return from;
  if (entryFrame((p, n) => s.bytesAt(p, n), base, from.offset, from.position, FRAME_HEADER_BYTES) !== null) return from;
  known.delete(from.position);
  return null;
}

/** What a walk found: the offset of the first frame at or after the time, null (none), or STALE (a hint was wrong). */
const STALE = -1;

/**
 * Walks the frames from `start`. At bytes that hold no frame of the offset due there (damage, or a
 * torn tail not recovered yet) it answers that offset: whether a record at or after the time follows
 * is not known, and a reader started there meets the damage and says so, where an answer past it
 * would pass over the records behind it without a word.
 */
function walk(s: SegmentFrames, start: WalkStart, ms: number, seen: Scanned): number | null {
  let offset = start.offset;
  // The frame before `at` (its position and header): the one whose records end where the answer begins.
  let previous = -1;
  let previousHeader: FrameHeader | null = null;
  // Frames are passed over by an unchecked header timestamp older than `ms`. The frame just before the
  // answer is the one whose records may lie at or after `ms` if that field is damaged (those before it
  // are not newer than it, as timestamps never decrease): it is checked whole, and when it fails, the
  // answer is its base, so the reader meets the damage instead of starting past it.
  const answer = (found: number | null): number | null => (previousHeader !== null && !s.valid(previous, previousHeader) ? previousHeader.baseOffset : found);
  for (let at = start.position, previousBytes = Infinity; ;) {
    // After a large frame (and at the start) the next header is read alone: a read-ahead would copy
    // bytes of that frame only. After small frames it saves a read per frame.
    const h = previousBytes >= LARGE_FRAME_BYTES ? s.frameAt(at) : s.walkAt(at);
    const wrong = h === DAMAGED || (h !== null && h.baseOffset !== offset);
    if (at === start.position && at !== SEGMENT_HEADER_BYTES && (h === null || wrong || h.timestampMs >= ms)) return STALE;
    if (h === null) {
      seen.end = offset;
      return answer(null);
    }
    if (wrong) return offset;
    if (h.timestampMs >= ms) return answer(h.baseOffset);
    previous = at;
    previousHeader = h;
    previousBytes = h.frameBytes;
    offset = h.baseOffset + h.recordCount;
    at += h.frameBytes;
  }
}

/**
 * In one segment whose first frame is older than `ms`: the base offset of its first frame stored at
 * or after `ms`, or null when every frame it holds is older.
 */
function firstAtOrAfterIn(io: FileIO, dir: string, s: SegmentFrames | null, base: number, ms: number, seen: Scanned): number | null {
  if (s === null) return null; // deleted by retention meanwhile
  const path = segmentPath(dir, base);
  const known = hintsOf(path);
  const cached = io.stamp === undefined ? undefined : segmentEntry(path)?.index ?? undefined;
  for (const useHints of [true, false]) {
    // A cached index is a hint: an entry whose frame does not hold its offset sends us to the file's.
    const start = (cached === undefined ? null : walkStart(s, known, base, cached, ms, useHints))
      ?? walkStart(s, known, base, readIndex(io, join(dir, indexName(base)), base, s.size), ms, useHints)
      ?? { position: SEGMENT_HEADER_BYTES, offset: base };
    const found = walk(s, start, ms, seen);
    if (found !== STALE) return found;
    known.clear();
  }
  return walk(s, { position: SEGMENT_HEADER_BYTES, offset: base }, ms, seen);
}

/** Where a walk that found every frame older than the time stopped: the offset after its last whole frame (-1: none did). */
interface Scanned { end: number }

/**
 * The offset of the first record stored at or after `ms` among the segments `bases` (ascending, the
 * log's segments from its start); `endOffset` (the next offset appended) when none is. With
 * `scannedEnd`, a time past every record of the newest segment gives the offset after the last whole
 * frame the search read there instead: records framed since `endOffset` was read (a producer's
 * writer still at work) are stored at or after a time that precedes them, and are not passed over.
 * The caller clamps the answer to the log's start. With `staleListing` (`bases` a listing that may be
 * older than the files: segment-list.ts), -1 when the files show it is stale.
 */
export function offsetAtTime(io: FileIO, dir: string, bases: readonly number[], ms: number, endOffset: number, scannedEnd = false, staleListing = false): number {
  const segments = new OpenSegments(io, dir);
  try {
    const search = (useHints: boolean): number | null => searchSegments(io, dir, segments, bases, ms, endOffset, useHints, scannedEnd, staleListing);
    return search(true) ?? search(false)!;
  } catch (e) {
    throw LogError.fromSystem(e, 'seeking by time', dir); // a segment that is no file: ERR_LOG_CORRUPT; else ERR_IO
  } finally {
    segments.close();
  }
}

/** The answer, or null when `useHints` and a hint it rests on was wrong (the frames read disagree). */
function searchSegments(io: FileIO, dir: string, segments: OpenSegments, bases: readonly number[], ms: number, endOffset: number, useHints: boolean, scannedEnd: boolean, staleListing: boolean): number | null {
  // The last segment whose first frame is older than ms.
  let lo = 0;
  let hi = bases.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (firstTimestamp(segments, dir, bases[mid]!, useHints) < ms) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  // The answer rests on first frames that hints may have given: the picked segment's must be older
  // than ms, and the next one's, when the answer is its base, not older. They are read here.
  const older = (i: number): boolean => firstTimestamp(segments, dir, bases[i]!, false) < ms;
  const wrongHint = (): null => {
    // Only the first frames' hints go: the walk checks the others it uses (see walk()).
    for (const b of bases) hints.get(segmentPath(dir, b))?.delete(SEGMENT_HEADER_BYTES);
    return null;
  };
  if (found < 0) {
    if (useHints && bases.length > 0 && older(0)) return wrongHint();
    return bases.length > 0 ? bases[0]! : endOffset;
  }
  if (useHints && !older(found)) return wrongHint();
  const seen: Scanned = { end: -1 };
  const within = firstAtOrAfterIn(io, dir, segments.get(bases[found]!), bases[found]!, ms, seen);
  if (within !== null) return within;
  if (found + 1 >= bases.length) return scannedEnd && seen.end >= 0 ? seen.end : endOffset;
  if (useHints && older(found + 1)) return wrongHint();
  // Frames that end before the next listed segment begins: a segment cut short, or a listing from
  // before a repair cut the log (later segments then begin at other offsets). The records between are
  // not known older: answer where the frames end (the reader meets what lies there); a listing that
  // may be stale (`staleListing`) has no answer.
  if (seen.end >= 0 && seen.end !== bases[found + 1]) return staleListing ? -1 : seen.end;
  return bases[found + 1]!;
}
