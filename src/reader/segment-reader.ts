/**
 * The segment file a LogReader has open, and where it stands in it: positional reads into fresh
 * buffers (records handed out are views of them that stay valid), sized for catching up or for a seek,
 * the frames they hold (each checked, or trusted from this thread's verified-frame cache,
 * verified-cache.ts), and the records of the frame being handed out. LogReader (log-reader.ts) holds
 * one and decides the order of segments, how far to read, and what a frame that is not whole or not
 * valid means (its FrameJudge).
 *
 * The trust rule, in one place: a cached frame is trusted only for bytes read before a stamp of the file
 * that equals the stamp the frame was verified under (`confirmed`); a frame checked here is noted under
 * the stamp taken before its bytes were read (`chunkStamp`), if that stamp is settled.
 *
 * Units: `...Offset` is a record offset, `...Position` a byte position in the segment file (or, for
 * `recordPosition`, in the chunk).
 */
import { join, sep } from 'node:path';
import { LogError } from '../errors.js';
import {
  FRAME_HEADER_BYTES, FRAME_TRAILER_BYTES, RECORD_LENGTH_BYTES, RECORD_LENGTH_MASK, SEGMENT_HEADER_BYTES, checkFrame, decodeFrameHeader,
  type FrameHeader,
} from '../format/frame.js';
import { readFull, type FileIO, type FileStamp } from '../storage/file-io.js';
import type { Message } from '../types.js';
import { decodeAttributes } from '../format/record.js';
import { floorEntry, readIndex, type IndexEntries } from '../segment/offset-index.js';
import {
  confirmed, dropSegment, frameMatches, markAtOrBefore, readerStats, recordFrame, recordIndex, sameStamp, segmentEntry,
  unsettledUntilMs, wallNowMs, type SegmentEntry,
} from './verified-cache.js';
import { indexName, segmentName } from '../segment/segment-files.js';
import { segmentBases } from './segment-list.js';
import type { FrameJudge, ReaderHint } from './reader-contracts.js';

/** Bytes read at once when catching up. */
const CHUNK_BYTES = 1024 * 1024;
/**
 * The first read of a seek, at the index entry, and of a verified frame near the target. Under half
 * of Buffer.poolSize, so the buffer comes from Node's pool (a fresh allocation costs more than the read).
 */
export const SEEK_READ_BYTES = 4000;
const EMPTY = Buffer.alloc(0);
const hintHeader = Buffer.alloc(FRAME_HEADER_BYTES);

/** The frame read near a seek target, from a record start on (see loadWindow). */
interface Window {
  readonly framePosition: number;
  readonly frameOffset: number;
  /** The position after the frame's last record. */
  readonly endPosition: number;
  readonly entry: SegmentEntry;
}

export class SegmentReader {
  fd = -1;
  baseOffset = -1;
  path = '';
  /** File position of the next frame. */
  framePosition = 0;
  /** Offset of the next record to hand out. */
  nextOffset = 0;
  /** Records below this offset are passed over (after a seek into a frame). */
  skipBelowOffset = 0;
  /** Records left in the current frame. */
  frameLeft = 0;
  /** File position and first offset of the frame loaded last. */
  loadedFramePosition = 0;
  loadedFrameOffset = 0;
  /** The file size the last refill saw. */
  refillSize = 0;
  /** The file size last seen; a frame below it is whole in the file. */
  sizeSeen = -1;
  /** The last cache entry a stamp taken after a read confirmed since the segment was opened. */
  confirmedEntry: SegmentEntry | null = null;
  // The current chunk and the frame being handed out.
  private chunk: Buffer = EMPTY;
  private chunkPosition = 0; // file position of chunk[0]
  private recordPosition = 0; // position in chunk of the next record's length field
  private frameTimestampMs = 0;
  /** The stamp taken before the chunk was read, and the clock before that (null: nothing is noted from it). */
  private chunkStamp: FileStamp | null = null;
  private chunkWallMs = 0;
  /** The cache entry confirmed by a stamp taken after the chunk was read: its frames need no new check. */
  private chunkTrust: SegmentEntry | null = null;
  /** The segment (and fd) last stamped, and the wall time until which its stamps cannot be settled. */
  private liveBase = -1;
  private liveFd = -1;
  private liveUntilMs = 0;
  /** Until a seek has found its frame, the size of the next read (it grows: a seek reads little, in few calls). */
  private seekReadBytes = SEEK_READ_BYTES;
  private seeking = false;
  /** The current frame is a verified one read only from a record near the seek target (see loadWindow). */
  private window: Window | null = null;

  private readonly dirSlash: string;

  constructor(private readonly io: FileIO, private readonly dir: string, private readonly judge: FrameJudge) {
    this.dirSlash = dir.endsWith(sep) ? dir : dir + sep;
  }

  /**
   * Opens segment `baseOffset`'s file (closing the one open), header unread, and returns its name.
   * ERR_POSITION_EXPIRED when it is gone.
   */
  openFile(baseOffset: number): string {
    this.close();
    const name = segmentName(baseOffset);
    try {
      this.path = this.dirSlash + name; // join() normalizes: a cost a seek notices
      this.fd = this.io.open(this.path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw LogError.expired(baseOffset, segmentBases(this.io, this.dir)[0] ?? 0);
      throw LogError.fromSystem(e, 'opening segment', name);
    }
    this.confirmedEntry = null;
    return name;
  }

  /** Segment `baseOffset` is open at `fd` (its header checked): stands before its first frame. */
  start(baseOffset: number): void {
    this.baseOffset = baseOffset;
    this.framePosition = SEGMENT_HEADER_BYTES;
    this.nextOffset = baseOffset;
    this.frameLeft = 0;
    this.sizeSeen = -1;
    this.forgetChunk();
  }

  /** Closes the open file, if any. */
  close(): void {
    if (this.fd >= 0) {
      try { this.io.close(this.fd); } catch { /* nothing to do */ }
    }
    this.fd = -1;
    this.frameLeft = 0;
    this.window = null;
  }

  /**
   * Where this reader stands: the frame holding its next record, or the next frame. Exact when it
   * is taken; whoever uses it checks it again (the frame header found there must name `base`).
   */
  hint(): ReaderHint | null {
    if (this.fd < 0) return null;
    return this.frameLeft > 0
      ? { seg: this.baseOffset, pos: this.loadedFramePosition, base: this.loadedFrameOffset }
      : { seg: this.baseOffset, pos: this.framePosition, base: this.nextOffset };
  }

  /**
   * In the open segment `h.seg`: moves to `offset` from hint `h` at or below it, once the frame header
   * at the hint's position names the hint's offset. False: not usable (the reader stays where it was).
   */
  jumpTo(h: ReaderHint, offset: number): boolean {
    if (readFull(this.io, this.fd, hintHeader, 0, FRAME_HEADER_BYTES, h.pos) < FRAME_HEADER_BYTES) return false;
    const fh = decodeFrameHeader(hintHeader, 0);
    if (typeof fh === 'string' || fh.baseOffset !== h.base) return false;
    // The frame is checked as usual when it is loaded.
    this.framePosition = h.pos;
    this.nextOffset = h.base;
    this.frameLeft = 0;
    this.window = null;
    this.skipBelowOffset = offset;
    return true;
  }

  /** Passes over the rest of the loaded frame without handing its records out (a walk to the end). */
  skipFrame(): void {
    this.nextOffset += this.frameLeft;
    this.frameLeft = 0;
  }

  /**
   * Next record of the open segment below `limit`, or null at its (current) end, or when the next
   * record is at `limit` (frameLeft > 0 then).
   */
  nextRecord(limit: number): Message | null {
    if (this.frameLeft === 0 && !this.loadFrame()) return null;
    // A seek target inside this frame: pass over the records before it by their lengths alone.
    while (this.nextOffset < this.skipBelowOffset && this.frameLeft > 0) {
      if (this.window !== null && !this.windowHolds(RECORD_LENGTH_BYTES)) return this.nextRecord(limit);
      this.recordPosition += RECORD_LENGTH_BYTES + (this.chunk.readUInt32LE(this.recordPosition) & RECORD_LENGTH_MASK);
      this.frameLeft--;
      this.nextOffset++;
    }
    if (this.frameLeft === 0) return this.nextRecord(limit);
    // Checked again after passing over: a seek target at or past the limit is not handed out (it was,
    // when the frame holding it started below the limit: a durable-visibility consumer opened at the
    // durable end got one record that was not durable yet).
    if (this.nextOffset >= limit) return null;
    if (this.window !== null) {
      if (!this.windowHolds(RECORD_LENGTH_BYTES)) return this.nextRecord(limit);
      if (!this.windowHolds(RECORD_LENGTH_BYTES + (this.chunk.readUInt32LE(this.recordPosition) & RECORD_LENGTH_MASK))) return this.nextRecord(limit);
    }
    const word = this.chunk.readUInt32LE(this.recordPosition);
    const dataPosition = this.recordPosition + RECORD_LENGTH_BYTES;
    if (word > RECORD_LENGTH_MASK) return this.recordWithAttributes(word & RECORD_LENGTH_MASK, dataPosition);
    const data = this.chunk.subarray(dataPosition, dataPosition + word);
    this.recordPosition = dataPosition + word;
    this.frameLeft--;
    return { offset: this.nextOffset++, data, timestamp: this.frameTimestampMs, key: null, headers: null };
  }

  /** The next record when it carries an attribute block (format 2): key, headers, dedup key, then data. */
  private recordWithAttributes(payloadBytes: number, payloadPosition: number): Message {
    const end = payloadPosition + payloadBytes;
    const a = decodeAttributes(this.chunk, payloadPosition, end);
    // The frame's checksum held: a block that does not decode was written so, never torn.
    if (typeof a === 'string') throw LogError.corrupt(segmentName(this.baseOffset), this.chunkPosition + payloadPosition, `record ${this.nextOffset}: ${a}`);
    this.recordPosition = end;
    this.frameLeft--;
    return { offset: this.nextOffset++, data: this.chunk.subarray(a.dataStart, end), timestamp: this.frameTimestampMs, key: a.key, headers: a.headers };
  }

  /** Reads and checks the frame at `framePosition`. Returns false when there is none (yet). */
  loadFrame(): boolean {
    this.window = null;
    for (;;) {
      let at = this.framePosition - this.chunkPosition;
      if (at < 0 || at + FRAME_HEADER_BYTES > this.chunk.byteLength) {
        if (!this.readVerifiedHeader() && !this.refill(FRAME_HEADER_BYTES)) return this.judge.notWhole('frame header is short');
        at = 0;
      }
      const h = decodeFrameHeader(this.chunk, at);
      if (typeof h === 'string') return this.judge.invalid(h);
      if (h.baseOffset !== this.nextOffset) return this.judge.invalid(`frame holds offset ${h.baseOffset}, expected ${this.nextOffset}`);
      this.loadedFramePosition = this.framePosition;
      this.loadedFrameOffset = h.baseOffset;
      // Frames wholly before a seek target are passed over without checking each record.
      const passOver = h.baseOffset + h.recordCount <= this.skipBelowOffset;
      if (at + h.frameBytes > this.chunk.byteLength) {
        // ...and without reading them, when the file is known to hold them whole.
        const frameEndPosition = this.framePosition + h.frameBytes;
        if (passOver && (frameEndPosition <= this.sizeSeen || frameEndPosition <= (this.sizeSeen = this.io.fsize(this.fd)))) {
          this.framePosition = frameEndPosition;
          this.nextOffset += h.recordCount;
          continue;
        }
        if (!passOver && this.skipBelowOffset > h.baseOffset && this.loadWindow(h)) return true;
        if (!this.refill(h.frameBytes)) return this.judge.notWhole('frame runs past the end of the file');
        at = 0;
      }
      if (passOver) {
        this.framePosition += h.frameBytes;
        this.nextOffset += h.recordCount;
        continue;
      }
      const why = this.checkFrameInChunk(h, at);
      if (why !== null) return this.judge.invalid(why);
      this.framePosition += h.frameBytes;
      this.frameLeft = h.recordCount;
      this.recordPosition = at + FRAME_HEADER_BYTES;
      this.frameTimestampMs = h.timestampMs;
      this.frameLoaded();
      return true;
    }
  }

  /** Whether a stamp of the open file taken now equals `entry`'s (else the entry is dropped). */
  private confirm(entry: SegmentEntry): boolean {
    if (!confirmed(this.path, entry, this.io.stamp!(this.fd))) return false;
    this.confirmedEntry = entry;
    return true;
  }

  /** A seek starts: reads stay small until its frame is loaded (frameLoaded). */
  private startSeek(): void {
    this.seekReadBytes = SEEK_READ_BYTES;
    this.seeking = true;
  }

  private frameLoaded(): void {
    this.seeking = false;
  }

  /** Uses the sparse index to start near `offset` (or at the end, with `toEnd`). */
  seekInSegment(offset: number, toEnd: boolean): void {
    this.skipBelowOffset = toEnd ? 0 : offset;
    this.startSeek();
    const idx = this.segmentIndex();
    const i = floorEntry(idx, offset);
    if (i < 0) return;
    // Trust the entry only if a frame holding that offset starts there. The bytes read stay as the
    // chunk (from a plain read: nothing in them is trusted or noted as verified). Only the header is
    // needed when that frame was verified before (loadWindow reads near the target).
    const at = idx.positions[i]!;
    const head = this.readAt(at, segmentEntry(this.path)?.frames.has(at) === true ? FRAME_HEADER_BYTES : SEEK_READ_BYTES);
    const h = decodeFrameHeader(head, 0);
    if (typeof h !== 'string' && h.baseOffset === idx.offsets[i]) {
      this.framePosition = at;
      this.nextOffset = idx.offsets[i]!;
      this.plainChunk(head, at);
    }
  }

  /** The open segment's sparse index: from the cache (a hint, checked against the frame header), else read. */
  private segmentIndex(): IndexEntries {
    const cached = this.io.stamp === undefined ? undefined : segmentEntry(this.path);
    if (cached !== undefined && cached.index !== null) return cached.index;
    const wallMs = wallNowMs();
    const stamp = this.io.stamp?.(this.fd) ?? null;
    this.sizeSeen = stamp !== null ? Number(stamp.size) : this.io.fsize(this.fd);
    const idx = readIndex(this.io, join(this.dir, indexName(this.baseOffset)), this.baseOffset, this.sizeSeen);
    if (stamp !== null) recordIndex(this.path, stamp, wallMs, idx);
    return idx;
  }

  /** Makes `buf`, read at `position` without stamps, the chunk: nothing in it is trusted or noted. */
  private plainChunk(buf: Buffer, position: number): void {
    this.chunk = buf;
    this.chunkPosition = position;
    this.chunkStamp = null;
    this.chunkTrust = null;
  }

  forgetChunk(): void {
    this.plainChunk(EMPTY, 0);
  }

  /**
   * Whether the frame at `framePosition`, whole in the chunk at `at`, is good: verified before and the chunk read
   * since under the same stamp, or checked now (and then noted). Returns null when good, else the reason.
   */
  private checkFrameInChunk(h: FrameHeader, at: number): string | null {
    const f = this.chunkTrust?.frames.get(this.framePosition);
    if (f !== undefined && frameMatches(f, h)) {
      readerStats.framesTrusted++;
      return null;
    }
    readerStats.framesChecked++;
    const why = checkFrame(this.chunk, at, h);
    if (why === null && this.chunkStamp !== null) recordFrame(this.path, this.chunkStamp, this.chunkWallMs, this.framePosition, h, this.chunk, at);
    return why;
  }

  /**
   * Seeking, at a frame this thread verified before: reads its header alone, as the chunk (a plain read:
   * the header decides between passing the frame over and loadWindow, which confirms the stamp).
   */
  private readVerifiedHeader(): boolean {
    if (this.skipBelowOffset <= this.nextOffset || segmentEntry(this.path)?.frames.has(this.framePosition) !== true) return false;
    const head = this.readAt(this.framePosition, FRAME_HEADER_BYTES);
    if (head.byteLength < FRAME_HEADER_BYTES) return false;
    this.plainChunk(head, this.framePosition);
    return true;
  }

  /**
   * The frame at `framePosition` (header `h`) holds the seek target and this thread verified it before: reads
   * it only from a record start near the target (more as it is needed: windowHolds), and trusts those
   * bytes if the file's stamp, taken after the read, is still the one the frame was verified under.
   * False: read and check the frame as usual (a changed stamp has dropped the cache entry).
   */
  private loadWindow(h: FrameHeader): boolean {
    if (this.io.stamp === undefined) return false;
    const entry = segmentEntry(this.path);
    const f = entry?.frames.get(this.framePosition);
    if (entry === undefined || f === undefined || !frameMatches(f, h)) return false;
    const [k, rel] = markAtOrBefore(f, this.skipBelowOffset - h.baseOffset);
    const endPosition = this.framePosition + h.frameBytes - FRAME_TRAILER_BYTES; // after the last record
    const start = this.framePosition + rel;
    const n = Math.min(SEEK_READ_BYTES, endPosition - start);
    const buf = this.readAt(start, n);
    if (buf.byteLength < n || !this.confirm(entry)) return false;
    readerStats.framesTrusted++;
    this.window = { framePosition: this.framePosition, frameOffset: h.baseOffset, endPosition, entry };
    this.plainChunk(buf, start);
    this.framePosition += h.frameBytes;
    this.nextOffset = h.baseOffset + k;
    this.frameLeft = h.recordCount - k;
    this.recordPosition = 0;
    this.frameTimestampMs = h.timestampMs;
    this.frameLoaded();
    return true;
  }

  /**
   * In a window frame: whether the chunk holds `bytes` from `recordPosition`, reading more of the frame if not
   * (trusted again only under the same stamp). False when the file changed: the reader then goes back
   * to the frame's start to read and check it whole, passing over what it already handed out.
   */
  private windowHolds(bytes: number): boolean {
    if (this.recordPosition + bytes <= this.chunk.byteLength) return true;
    const w = this.window!;
    const from = this.chunkPosition + this.recordPosition;
    const buf = this.readAt(from, Math.min(w.endPosition - from, Math.max(bytes, CHUNK_BYTES)));
    if (buf.byteLength >= bytes && this.confirm(w.entry)) {
      this.plainChunk(buf, from);
      this.recordPosition = 0;
      return true;
    }
    dropSegment(this.path, w.entry);
    this.skipBelowOffset = Math.max(this.skipBelowOffset, this.nextOffset);
    this.framePosition = w.framePosition;
    this.nextOffset = w.frameOffset;
    this.frameLeft = 0;
    this.window = null;
    this.forgetChunk();
    return false;
  }

  /**
   * Reads from `framePosition` into a fresh chunk holding at least `need` bytes if the file has them. The file
   * is stamped before the read (its size, and what a frame checked in these bytes is noted under) and,
   * if this thread verified frames of it before, again after (whether those frames are still good).
   */
  private refill(need: number): boolean {
    const wallMs = wallNowMs(); // before the stamp: see settled()
    // A file seen being written moments ago cannot be settled yet, so a stamp would note nothing:
    // skip it (a bigint fstat per refill is most of what a consumer at a live log's end allocates).
    const live = this.baseOffset === this.liveBase && this.fd === this.liveFd && wallMs < this.liveUntilMs;
    const stamp = live ? null : this.io.stamp?.(this.fd) ?? null;
    const size = stamp !== null ? Number(stamp.size) : this.io.fsize(this.fd);
    this.refillSize = size;
    this.sizeSeen = size;
    const avail = size - this.framePosition;
    if (avail < need) return false;
    let want = CHUNK_BYTES;
    if (this.seeking) {
      want = this.seekReadBytes;
      this.seekReadBytes = Math.min(CHUNK_BYTES, 2 * want);
    }
    this.plainChunk(this.readAt(this.framePosition, Math.min(Math.max(want, need), avail)), this.framePosition);
    if (stamp !== null) {
      this.liveBase = this.baseOffset;
      this.liveFd = this.fd;
      this.liveUntilMs = unsettledUntilMs(stamp);
      this.chunkStamp = stamp;
      this.chunkWallMs = wallMs;
      const entry = segmentEntry(this.path);
      if (entry !== undefined) {
        if (!sameStamp(entry.stamp, stamp)) dropSegment(this.path, entry);
        else if (this.confirm(entry)) this.chunkTrust = entry;
      }
    }
    return this.chunk.byteLength >= need;
  }

  /** Reads up to `n` bytes at `position` into a fresh buffer (shorter at the end of the file). */
  private readAt(position: number, n: number): Buffer {
    const buf = Buffer.allocUnsafe(n);
    try {
      const got = readFull(this.io, this.fd, buf, 0, n, position);
      return got === n ? buf : buf.subarray(0, got);
    } catch (e) {
      throw LogError.fromSystem(e, 'reading segment', segmentName(this.baseOffset));
    }
  }
}
