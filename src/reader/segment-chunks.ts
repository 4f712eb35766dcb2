/**
 * The bytes of the segment file a LogReader has open: positional reads into fresh buffers (records
 * handed out are views of them that stay valid), sized for catching up or for a seek, and what this
 * thread's verified-frame cache (verified-cache.ts) lets the reader trust without checking a frame
 * again. LogReader (log-reader.ts) extends it with the order of records, segment rolls and the judgment
 * of damage; the state below is theirs together.
 *
 * The trust rule, in one place: a cached frame is trusted only for bytes read before a stamp of the file
 * that equals the stamp the frame was verified under (`confirmed`); a frame checked here is noted under
 * the stamp taken before its bytes were read (`chunkStamp`), if that stamp is settled.
 */
import { join } from 'node:path';
import { LogError } from '../errors.js';
import { FRAME_HEADER_BYTES, FRAME_TRAILER_BYTES, checkFrame, decodeFrameHeader, type FrameHeader } from '../format/frame.js';
import { readFull, type FileIO, type FileStamp } from '../storage/file-io.js';
import { floorEntry, readIndex, type IndexEntries } from '../segment/offset-index.js';
import {
  confirmed, dropSegment, frameMatches, markAtOrBefore, readerStats, recordFrame, recordIndex, sameStamp, segmentEntry,
  unsettledUntilMs, wallNowMs, type SegmentEntry,
} from './verified-cache.js';
import { indexName, segmentName } from '../segment/segment-files.js';

/** Bytes read at once when catching up. */
const CHUNK_BYTES = 1024 * 1024;
/**
 * The first read of a seek, at the index entry, and of a verified frame near the target. Under half
 * of Buffer.poolSize, so the buffer comes from Node's pool (a fresh allocation costs more than the read).
 */
export const SEEK_READ_BYTES = 4000;
const EMPTY = Buffer.alloc(0);

export abstract class SegmentChunks {
  protected fd = -1;
  protected segBase = -1;
  protected segPath = '';
  protected pos = 0; // file position of the next frame
  protected next = 0; // offset of the next record to hand out
  protected skipBelow = 0; // records below this offset are passed over (after a seek into a frame)
  // The current chunk and the frame being handed out.
  protected chunk: Buffer = EMPTY;
  protected chunkPos = 0; // file position of chunk[0]
  protected frameLeft = 0; // records left in the current frame
  protected recAt = 0; // index in chunk of the next record's length field
  protected frameTs = 0;
  /** The file size the last refill saw. */
  protected refillSize = 0;
  /** The file size last seen; a frame below it is whole in the file. */
  protected sizeSeen = -1;
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
  protected window: { readonly frameStart: number; readonly frameBase: number; readonly end: number; readonly entry: SegmentEntry } | null = null;

  /** The last cache entry a stamp taken after a read confirmed since the segment was opened. */
  protected confirmedEntry: SegmentEntry | null = null;

  constructor(protected readonly io: FileIO, protected readonly dir: string) {}

  /** Whether a stamp of the open file taken now equals `entry`'s (else the entry is dropped). */
  private confirm(entry: SegmentEntry): boolean {
    if (!confirmed(this.segPath, entry, this.io.stamp!(this.fd))) return false;
    this.confirmedEntry = entry;
    return true;
  }

  /** A seek starts: reads stay small until its frame is loaded (frameLoaded). */
  protected startSeek(): void {
    this.seekReadBytes = SEEK_READ_BYTES;
    this.seeking = true;
  }

  protected frameLoaded(): void {
    this.seeking = false;
  }

  /** Uses the sparse index to start near `offset` (or at the end, with `toEnd`). */
  protected seekInSegment(offset: number, toEnd: boolean): void {
    this.skipBelow = toEnd ? 0 : offset;
    this.startSeek();
    const idx = this.segmentIndex();
    const i = floorEntry(idx, offset);
    if (i < 0) return;
    // Trust the entry only if a frame holding that offset starts there. The bytes read stay as the
    // chunk (from a plain read: nothing in them is trusted or noted as verified). Only the header is
    // needed when that frame was verified before (loadWindow reads near the target).
    const at = idx.positions[i]!;
    const head = this.readAt(at, segmentEntry(this.segPath)?.frames.has(at) === true ? FRAME_HEADER_BYTES : SEEK_READ_BYTES);
    const h = decodeFrameHeader(head, 0);
    if (typeof h !== 'string' && h.baseOffset === idx.offsets[i]) {
      this.pos = at;
      this.next = idx.offsets[i]!;
      this.plainChunk(head, at);
    }
  }

  /** The open segment's sparse index: from the cache (a hint, checked against the frame header), else read. */
  protected segmentIndex(): IndexEntries {
    const cached = this.io.stamp === undefined ? undefined : segmentEntry(this.segPath);
    if (cached !== undefined && cached.index !== null) return cached.index;
    const wallMs = wallNowMs();
    const stamp = this.io.stamp?.(this.fd) ?? null;
    this.sizeSeen = stamp !== null ? Number(stamp.size) : this.io.fsize(this.fd);
    const idx = readIndex(this.io, join(this.dir, indexName(this.segBase)), this.segBase, this.sizeSeen);
    if (stamp !== null) recordIndex(this.segPath, stamp, wallMs, idx);
    return idx;
  }

  /** Makes `buf`, read at `position` without stamps, the chunk: nothing in it is trusted or noted. */
  protected plainChunk(buf: Buffer, position: number): void {
    this.chunk = buf;
    this.chunkPos = position;
    this.chunkStamp = null;
    this.chunkTrust = null;
  }

  protected forgetChunk(): void {
    this.plainChunk(EMPTY, 0);
  }

  /**
   * Whether the frame at `pos`, whole in the chunk at `at`, is good: verified before and the chunk read
   * since under the same stamp, or checked now (and then noted). Returns null when good, else the reason.
   */
  protected checkFrameInChunk(h: FrameHeader, at: number): string | null {
    const f = this.chunkTrust?.frames.get(this.pos);
    if (f !== undefined && frameMatches(f, h)) {
      readerStats.framesTrusted++;
      return null;
    }
    readerStats.framesChecked++;
    const why = checkFrame(this.chunk, at, h);
    if (why === null && this.chunkStamp !== null) recordFrame(this.segPath, this.chunkStamp, this.chunkWallMs, this.pos, h, this.chunk, at);
    return why;
  }

  /**
   * Seeking, at a frame this thread verified before: reads its header alone, as the chunk (a plain read:
   * the header decides between passing the frame over and loadWindow, which confirms the stamp).
   */
  protected readVerifiedHeader(): boolean {
    if (this.skipBelow <= this.next || segmentEntry(this.segPath)?.frames.has(this.pos) !== true) return false;
    const head = this.readAt(this.pos, FRAME_HEADER_BYTES);
    if (head.byteLength < FRAME_HEADER_BYTES) return false;
    this.plainChunk(head, this.pos);
    return true;
  }

  /**
   * The frame at `pos` (header `h`) holds the seek target and this thread verified it before: reads
   * it only from a record start near the target (more as it is needed: windowHolds), and trusts those
   * bytes if the file's stamp, taken after the read, is still the one the frame was verified under.
   * False: read and check the frame as usual (a changed stamp has dropped the cache entry).
   */
  protected loadWindow(h: FrameHeader): boolean {
    if (this.io.stamp === undefined) return false;
    const entry = segmentEntry(this.segPath);
    const f = entry?.frames.get(this.pos);
    if (entry === undefined || f === undefined || !frameMatches(f, h)) return false;
    const [k, rel] = markAtOrBefore(f, this.skipBelow - h.baseOffset);
    const end = this.pos + h.frameBytes - FRAME_TRAILER_BYTES; // after the last record
    const start = this.pos + rel;
    const n = Math.min(SEEK_READ_BYTES, end - start);
    const buf = this.readAt(start, n);
    if (buf.byteLength < n || !this.confirm(entry)) return false;
    readerStats.framesTrusted++;
    this.window = { frameStart: this.pos, frameBase: h.baseOffset, end, entry };
    this.plainChunk(buf, start);
    this.pos += h.frameBytes;
    this.next = h.baseOffset + k;
    this.frameLeft = h.recordCount - k;
    this.recAt = 0;
    this.frameTs = h.timestampMs;
    this.frameLoaded();
    return true;
  }

  /**
   * In a window frame: whether the chunk holds `bytes` from `recAt`, reading more of the frame if not
   * (trusted again only under the same stamp). False when the file changed: the reader then goes back
   * to the frame's start to read and check it whole, passing over what it already handed out.
   */
  protected windowHolds(bytes: number): boolean {
    if (this.recAt + bytes <= this.chunk.byteLength) return true;
    const w = this.window!;
    const from = this.chunkPos + this.recAt;
    const buf = this.readAt(from, Math.min(w.end - from, Math.max(bytes, CHUNK_BYTES)));
    if (buf.byteLength >= bytes && this.confirm(w.entry)) {
      this.plainChunk(buf, from);
      this.recAt = 0;
      return true;
    }
    dropSegment(this.segPath, w.entry);
    this.skipBelow = Math.max(this.skipBelow, this.next);
    this.pos = w.frameStart;
    this.next = w.frameBase;
    this.frameLeft = 0;
    this.window = null;
    this.forgetChunk();
    return false;
  }

  /**
   * Reads from `pos` into a fresh chunk holding at least `need` bytes if the file has them. The file
   * is stamped before the read (its size, and what a frame checked in these bytes is noted under) and,
   * if this thread verified frames of it before, again after (whether those frames are still good).
   */
  protected refill(need: number): boolean {
    const wallMs = wallNowMs(); // before the stamp: see settled()
    // A file seen being written moments ago cannot be settled yet, so a stamp would note nothing:
    // skip it (a bigint fstat per refill is most of what a consumer at a live log's end allocates).
    const live = this.segBase === this.liveBase && this.fd === this.liveFd && wallMs < this.liveUntilMs;
    const stamp = live ? null : this.io.stamp?.(this.fd) ?? null;
    const size = stamp !== null ? Number(stamp.size) : this.io.fsize(this.fd);
    this.refillSize = size;
    this.sizeSeen = size;
    const avail = size - this.pos;
    if (avail < need) return false;
    let want = CHUNK_BYTES;
    if (this.seeking) {
      want = this.seekReadBytes;
      this.seekReadBytes = Math.min(CHUNK_BYTES, 2 * want);
    }
    this.plainChunk(this.readAt(this.pos, Math.min(Math.max(want, need), avail)), this.pos);
    if (stamp !== null) {
      this.liveBase = this.segBase;
      this.liveFd = this.fd;
      this.liveUntilMs = unsettledUntilMs(stamp);
      this.chunkStamp = stamp;
      this.chunkWallMs = wallMs;
      const entry = segmentEntry(this.segPath);
      if (entry !== undefined) {
        if (!sameStamp(entry.stamp, stamp)) dropSegment(this.segPath, entry);
        else if (this.confirm(entry)) this.chunkTrust = entry;
      }
    }
    return this.chunk.byteLength >= need;
  }

  /** Reads up to `n` bytes at `position` into a fresh buffer (shorter at the end of the file). */
  protected readAt(position: number, n: number): Buffer {
    const buf = Buffer.allocUnsafe(n);
    try {
      const got = readFull(this.io, this.fd, buf, 0, n, position);
      return got === n ? buf : buf.subarray(0, got);
    } catch (e) {
      throw LogError.fromSystem(e, 'reading segment', segmentName(this.segBase));
    }
  }
}
