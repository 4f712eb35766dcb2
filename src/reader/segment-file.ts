/**
 * The segment file a SegmentReader has open: its descriptor, positional reads into fresh buffers (a
 * record handed out is a view of one and stays valid), sized for catching up or for a seek, the file
 * sizes last seen, the stamps that decide what this thread's verified-frame cache (verified-cache.ts)
 * may trust, and the sparse index. It holds no reading position: the SegmentReader says where to read.
 *
 * Stamps: `read` takes one before its read (the size it reads up to, and what a frame checked in those
 * bytes is noted under, if that stamp is settled) and, when this thread verified frames of the file
 * before, another after it (whether those frames are still good: `confirm`).
 */
import { join, sep } from 'node:path';
import { ErrorCode, LogError } from '../errors.js';
import { readFull, type FileIO, type FileStamp } from '../storage/file-io.js';
import { readIndex, type IndexEntries } from '../segment/offset-index.js';
import { indexName, segmentName } from '../segment/segment-files.js';
import {
  confirmed, dropSegment, frameMatches, readerStats, recordFrame, recordIndex, sameStamp, segmentEntry, unsettledUntilMs, wallNowMs,
  type SegmentEntry,
} from './verified-cache.js';
import { checkFrame, type FrameHeader } from '../format/frame.js';
import { segmentBases } from './segment-list.js';
import { checkDirIdentity, type DirIdentity } from './dir-identity.js';
import type { WriterFrames } from './reader-contracts.js';

/** Bytes read at once when catching up. */
export const CHUNK_BYTES = 1024 * 1024;
/**
 * The first read of a seek, at the index entry, and of a verified frame near the target. Under half
 * of Buffer.poolSize, so the buffer comes from Node's pool (a fresh allocation costs more than the read).
 */
export const SEEK_READ_BYTES = 4000;
/**
 * A reader at the end of a segment being written reads this much without asking the file's size (an
 * fstat, a few µs on a virtual machine, on every wake-up of a consumer that keeps up): a read that
 * comes back short met the end of the file. From Node's pool, as SEEK_READ_BYTES.
 */
const TAIL_READ_BYTES = 4000;

/** Bytes read from the file at `position`, with what they may be trusted for. */
export interface Chunk {
  readonly buf: Buffer;
  readonly position: number;
  /** The stamp taken before the read, and the clock before that (null: nothing is noted from these bytes). */
  readonly stamp: FileStamp | null;
  readonly wallMs: number;
  /** The cache entry a stamp taken after the read confirmed: its frames need no new check. */
  readonly trust: SegmentEntry | null;
  /**
   * `buf`'s ArrayBuffer and where `buf` starts in it, read once per chunk: the reader needs both for
   * every record it hands out, and `buf.buffer` is a call into the runtime that V8 does not inline.
   */
  readonly arrayBuffer: ArrayBuffer;
  readonly start: number;
  /**
   * This process's writer before the read (WriterFrames): a frame from `freshFrom` on that ends at or
   * below `writtenEnd` is its own, and was whole in the file before the read began.
   */
  readonly freshFrom: number;
  readonly writtenEnd: number;
}

function makeChunk(buf: Buffer, position: number, stamp: FileStamp | null, wallMs: number, trust: SegmentEntry | null, freshFrom = Infinity, writtenEnd = -1): Chunk {
  return { buf, position, stamp, wallMs, trust, arrayBuffer: buf.buffer as ArrayBuffer, start: buf.byteOffset, freshFrom, writtenEnd };
}

/** Bytes read without stamps: nothing in them is trusted or noted as verified. */
export function plainChunk(buf: Buffer, position: number): Chunk {
  return makeChunk(buf, position, null, 0, null);
}

export const EMPTY_CHUNK = plainChunk(Buffer.alloc(0), 0);

export class SegmentFile {
  #fd = -1;
  #path = '';
  /** The base offset of the segment opened last (names it in errors). */
  private openBase = -1;
  /** The file size the last `read` saw. */
  #refillSize = 0;
  /** The file size last seen; a frame below it is whole in the file. */
  private sizeSeen = -1;
  /** The last cache entry a stamp taken after a read confirmed since the segment was opened. */
  #confirmedEntry: SegmentEntry | null = null;
  /** The segment (and fd) last stamped, and the wall time until which its stamps cannot be settled. */
  private liveBase = -1;
  private liveFd = -1;
  private liveUntilMs = 0;
  /** Until a seek has found its frame, the size of the next read (it grows: a seek reads little, in few calls). */
  private seekReadBytes = SEEK_READ_BYTES;
  private seeking = false;
  /** The last read found at most TAIL_READ_BYTES left in the file: the next may read without its size. */
  private atTail = false;
  private readonly dirSlash: string;
  /** The directory's identity at the consumer's open (dir-identity.ts), checked at each open of a segment; null: not checked. */
  dirIdentity: DirIdentity = null;
  /** This process's writer while it runs (frames it wrote lately are not checked again: checkFrame), else null. */
  writer: WriterFrames | null = null;

  constructor(private readonly io: FileIO, private readonly dir: string) {
    this.dirSlash = dir.endsWith(sep) ? dir : dir + sep;
  }

  /** The open descriptor, or -1. */
  get fd(): number {
    return this.#fd;
  }

  get path(): string {
    return this.#path;
  }

  /** The file size the last `read` saw. */
  get refillSize(): number {
    return this.#refillSize;
  }

  /** The last cache entry a stamp taken after a read confirmed since the segment was opened. */
  get confirmedEntry(): SegmentEntry | null {
    return this.#confirmedEntry;
  }

  /** Whether the file layer takes stamps (without them, the cache is not used). */
  get stamps(): boolean {
    return this.io.stamp !== undefined;
  }

  /**
   * Opens segment `baseOffset`'s file (closing the one open), header unread, and returns its name.
   * ERR_POSITION_EXPIRED when it is gone.
   */
  open(baseOffset: number): string {
    this.close();
    const name = segmentName(baseOffset);
    try {
      this.#path = this.dirSlash + name; // join() normalizes: a cost a seek notices
      this.#fd = this.io.open(this.#path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw LogError.expired(baseOffset, segmentBases(this.io, this.dir)[0] ?? 0);
      throw LogError.fromSystem(e, 'opening segment', name);
    }
    // Opened by name: after the open, the path still names the directory of the consumer's open, so
    // the file is that log's (a replaced directory would hand out another log's records from here).
    if (this.dirIdentity !== null) {
      try {
        checkDirIdentity(this.io, this.dir, this.dirIdentity);
      } catch (e) {
        this.close();
        throw e;
      }
    }
    this.openBase = baseOffset;
    this.#confirmedEntry = null;
    return name;
  }

  /** Closes the open file, if any. */
  close(): void {
    if (this.#fd >= 0) {
      try { this.io.close(this.#fd); } catch { /* nothing to do */ }
    }
    this.#fd = -1;
  }

  /** The reader stands before the first frame: no size is known yet. */
  forgetSize(): void {
    this.sizeSeen = -1;
  }

  /** Whether the file holds every byte below `endPosition` (asks the file only when the size last seen does not). */
  holds(endPosition: number): boolean {
    return endPosition <= this.sizeSeen || endPosition <= (this.sizeSeen = this.io.fsize(this.#fd));
  }

  /** The cache entry of this file, if this thread keeps one. */
  cacheEntry(): SegmentEntry | undefined {
    return segmentEntry(this.#path);
  }

  /** Whether a stamp of the open file taken now equals `entry`'s (else the entry is dropped). */
  confirm(entry: SegmentEntry): boolean {
    if (!confirmed(this.#path, entry, this.io.stamp!(this.#fd))) return false;
    this.#confirmedEntry = entry;
    return true;
  }

  /** Drops `entry` from the cache: the file changed under it. */
  drop(entry: SegmentEntry): void {
    dropSegment(this.#path, entry);
  }

  /** A seek starts: reads stay small until its frame is found (`seekDone`). */
  startSeek(): void {
    this.seekReadBytes = SEEK_READ_BYTES;
    this.seeking = true;
  }

  seekDone(): void {
    this.seeking = false;
  }

  /** Whether a seek is under way: its frame is not found yet. */
  get isSeeking(): boolean {
    return this.seeking;
  }

  /** The open segment's sparse index: from the cache (a hint, checked against the frame header), else read. */
  index(): IndexEntries {
    const cached = this.io.stamp === undefined ? undefined : segmentEntry(this.#path);
    if (cached !== undefined && cached.index !== null) return cached.index;
    const wallMs = wallNowMs();
    const stamp = this.io.stamp?.(this.#fd) ?? null;
    this.sizeSeen = stamp !== null ? Number(stamp.size) : this.io.fsize(this.#fd);
    const idx = readIndex(this.io, join(this.dir, indexName(this.openBase)), this.openBase, this.sizeSeen);
    if (stamp !== null) recordIndex(this.#path, stamp, wallMs, idx);
    return idx;
  }

  /**
   * Reads from `position` into a fresh buffer holding at least `need` bytes if the file has them (fewer
   * only if the file shrank meanwhile), a chunk's worth or, while seeking, a growing seek read. Null when
   * the file holds fewer than `need` bytes from `position`.
   */
  read(position: number, need: number): Chunk | null {
    const wallMs = wallNowMs(); // before the stamp: see settled()
    // Before the read: a frame the writer had published by now is whole in what the read returns.
    const freshFrom = this.writer?.freshFrom() ?? Infinity;
    const writtenEnd = this.writer?.writtenEnd() ?? -1;
    // A file seen being written moments ago cannot be settled yet, so a stamp would note nothing:
    // skip it (a bigint fstat per refill is most of what a consumer at a live log's end allocates).
    const live = this.openBase === this.liveBase && this.#fd === this.liveFd && wallMs < this.liveUntilMs;
    if (live && this.atTail && !this.seeking) {
      const tail = this.readAtTail(position, need, wallMs, freshFrom, writtenEnd);
      if (tail !== undefined) return tail;
    }
    const stamp = live ? null : this.io.stamp?.(this.#fd) ?? null;
    const size = stamp !== null ? Number(stamp.size) : this.io.fsize(this.#fd);
    this.#refillSize = size;
    this.sizeSeen = size;
    const avail = size - position;
    if (avail < need) return null;
    let want = CHUNK_BYTES;
    if (this.seeking) {
      want = this.seekReadBytes;
      this.seekReadBytes = Math.min(CHUNK_BYTES, 2 * want);
    }
    const buf = this.readAt(position, Math.min(Math.max(want, need), avail));
    this.atTail = avail <= TAIL_READ_BYTES;
    if (stamp === null) return makeChunk(buf, position, stamp, wallMs, null, this.freshAfterRead(freshFrom), writtenEnd);
    this.liveBase = this.openBase;
    this.liveFd = this.#fd;
    this.liveUntilMs = unsettledUntilMs(stamp);
    const entry = segmentEntry(this.#path);
    let trust: SegmentEntry | null = null;
    if (entry !== undefined) {
      if (!sameStamp(entry.stamp, stamp)) dropSegment(this.#path, entry);
      else if (this.confirm(entry)) trust = entry;
    }
    return makeChunk(buf, position, stamp, wallMs, trust, this.freshAfterRead(freshFrom), writtenEnd);
  }

  /** After a read: the fresh start loaded before it, unless the writer stopped meanwhile (it vouches for nothing then). */
  private freshAfterRead(freshFrom: number): number {
    return freshFrom === Infinity || this.writer === null || this.writer.freshFrom() !== Infinity ? freshFrom : Infinity;
  }

  /**
   * Whether the frame at file position `framePosition` (header `h`), whole in chunk `c` at `at`, is good:
   * verified before and the chunk read since under the same stamp, or checked now (and then noted).
   * Returns null when good, else the reason.
   */
  checkFrame(c: Chunk, at: number, h: FrameHeader, framePosition: number): string | null {
    if (h.baseOffset >= c.freshFrom && h.baseOffset + h.recordCount <= c.writtenEnd) {
      // The writer's own, whole before the read and checked before it was written. Not noted in the
      // cache: the writer's word counts while it runs, and a reader after that checks the frame.
      readerStats.framesFresh++;
      return null;
    }
    const f = c.trust?.frames.get(framePosition);
    if (f !== undefined && frameMatches(f, h)) {
      readerStats.framesTrusted++;
      return null;
    }
    readerStats.framesChecked++;
    const why = checkFrame(c.buf, at, h);
    if (why === null && c.stamp !== null) recordFrame(this.#path, c.stamp, c.wallMs, framePosition, h, c.buf, at);
    return why;
  }

  /**
   * read() at the end of a file being written (no stamp to take): one pread of up to TAIL_READ_BYTES,
   * without asking the file's size first. Nothing read: the file ends at `position` (a pread reads 0
   * bytes only there). `need` bytes or more, short of the full read: they are the chunk (more may have
   * come meanwhile; the next read sees them). Anything else (a full read, which may have stopped before
   * the end; fewer than `need`, which read() must judge against the file's size; a `need` above
   * TAIL_READ_BYTES, a large frame or a damaged length) is given up (undefined): read() reads as usual.
   */
  private readAtTail(position: number, need: number, wallMs: number, freshFrom: number, writtenEnd: number): Chunk | null | undefined {
    if (need > TAIL_READ_BYTES) return undefined;
    const buf = Buffer.allocUnsafe(TAIL_READ_BYTES);
    let got: number;
    try {
      got = this.io.read(this.#fd, buf, 0, TAIL_READ_BYTES, position);
    } catch (e) {
      throw LogError.fromSystem(e, 'reading segment', segmentName(this.openBase));
    }
    if (got === 0) {
      this.#refillSize = position;
      this.sizeSeen = position;
      return null;
    }
    if (got === TAIL_READ_BYTES) this.atTail = false;
    if (got === TAIL_READ_BYTES || got < need) return undefined;
    this.#refillSize = position + got; // at least the size: used only after a refill that found too little, which sets it again
    this.sizeSeen = position + got;
    return makeChunk(buf.subarray(0, got), position, null, wallMs, null, this.freshAfterRead(freshFrom), writtenEnd);
  }

  /** Reads up to `n` bytes at `position` into a fresh buffer (shorter at the end of the file). */
  readAt(position: number, n: number): Buffer {
    const buf = Buffer.allocUnsafe(n);
    try {
      const got = readFull(this.io, this.#fd, buf, 0, n, position);
      return got === n ? buf : buf.subarray(0, got);
    } catch (e) {
      throw LogError.fromSystem(e, 'reading segment', segmentName(this.openBase));
    }
  }

  /** Reads `n` bytes at `position` into `buf` as they are (no error naming); returns how many were read. */
  readInto(buf: Buffer, n: number, position: number): number {
    return readFull(this.io, this.#fd, buf, 0, n, position);
  }
}

/** Listings a seek or a walk to the log's end takes while the segments it picks are deleted under it. */
export const MAX_LISTINGS = 100;

/** Whether `e` is open()'s ERR_POSITION_EXPIRED: the segment was listed, then deleted before it opened. */
export function vanished(e: unknown): boolean {
  return e instanceof LogError && e.code === ErrorCode.POSITION_EXPIRED;
}
