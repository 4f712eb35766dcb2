/**
 * Reads records in offset order from the segment files of one log directory, with positional reads
 * into fresh buffers (records handed out are views that stay valid). Crosses segment rolls; reports a
 * segment deleted under it as ERR_POSITION_EXPIRED with the exact range; never delivers a record whose
 * frame fails its checks.
 *
 * Two modes of knowing how far it may read:
 * - a `limit` offset (in-process: the published written or durable offset): every frame below it must
 *   be whole and valid, anything else is ERR_LOG_CORRUPT;
 * - no limit (another process tails the files): it reads the frames that are whole and valid and treats
 *   an incomplete or invalid last frame as not yet written, unless bytes or a newer segment follow it,
 *   which makes it damage.
 *
 * The reads themselves, and what this thread's reader caches let it skip (a frame checked before, the
 * index, the directory listing), are in segment-chunks.ts, verified-cache.ts and segment-list.ts.
 */
import { join, sep } from 'node:path';
import { LogError } from '../errors.js';
import { FRAME_HEADER_BYTES, RECORD_LENGTH_BYTES, SEGMENT_HEADER_BYTES, decodeFrameHeader } from '../format/frame.js';
import type { FileIO } from '../storage/file-io.js';
import { findValidFrameAfter } from '../storage/frame-scan.js';
import { lockHeldByLiveProcess, producerLockPath } from '../storage/lock.js';
import type { Message } from '../types.js';
import { SegmentChunks } from './segment-chunks.js';
import { checkSegmentHeader, segmentHeaderValid } from './segment-header.js';
import { segmentBases, segmentBasesHint } from './segment-list.js';
import { readerStats, recordHeader, segmentEntry, wallNowMs, type SegmentEntry } from './verified-cache.js';
import { segmentName } from '../segment/segment-files.js';

export class LogReader extends SegmentChunks {
  constructor(io: FileIO, dir: string) {
    super(io, dir);
    this.dirSlash = dir.endsWith(sep) ? dir : dir + sep;
  }

  private readonly dirSlash: string;
  /** File position and first offset of the frame loaded last. */
  protected frameStart = 0;
  protected frameBase = 0;

  /** The offset of the record read() will return next. */
  get position(): number {
    return Math.max(this.next, this.skipBelow);
  }

  /** Offsets of the first stored record and after the last valid one, read from the files. */
  bounds(): { start: number; end: number } {
    readerStats.boundsWalks++;
    try {
      return this.boundsFromFiles();
    } catch (e) {
      throw LogError.fromSystem(e, 'reading the log bounds', this.dir);
    }
  }

  private boundsFromFiles(): { start: number; end: number } {
    const bases = segmentBases(this.io, this.dir);
    if (bases.length === 0) return { start: 0, end: 0 };
    const last = bases[bases.length - 1]!;
    const probe = new LogReader(this.io, this.dir);
    try {
      try {
        probe.openSegment(last);
      } catch (e) {
        // A newest segment whose header is not whole yet (a roll in progress, or one a failed roll left
        // for recovery to remove) holds no record: the log ends where that segment would begin.
        if (e instanceof RetryLater) return { start: bases[0]!, end: last };
        throw e;
      }
      probe.seekInSegment(Number.MAX_SAFE_INTEGER, true);
      // Walk to the end frame by frame: each frame is checked, its records are not visited.
      while (probe.loadFrame()) {
        probe.next += probe.frameLeft;
        probe.frameLeft = 0;
      }
      return { start: bases[0]!, end: probe.next };
    } finally {
      probe.close();
    }
  }

  /**
   * Moves forward to `offset` without a new seek (no directory listing, index read or reopen): the
   * records before it are passed over as they are read. Returns false when `offset` is behind the
   * reader or nothing is open; then use seek().
   */
  skipTo(offset: number): boolean {
    if (this.fd < 0 || offset < this.position) return false;
    this.skipBelow = offset;
    return true;
  }

  /**
   * Seeks to `offset` and loads the frame holding it, reading as from another process (no limit).
   * True when a whole, valid frame holds record `offset`, which then lies below the log's end; false
   * when none does or anything fails on the way (bounds() and seek() tell why). No record is handed out.
   */
  seekToRecord(offset: number): boolean {
    try {
      this.seekFiles(offset, true);
      this.strict = false;
      const found = this.fd >= 0 && this.next <= offset && (this.frameLeft > 0 || this.loadFrame()) &&
        this.next <= offset && offset < this.next + this.frameLeft;
      // A skipped header counts if a stamp taken since equals the one it was checked under.
      const pending = this.headerPending;
      this.headerPending = null;
      if (found && (pending === null || pending === this.confirmedEntry || segmentHeaderValid(this.io, this.fd, this.segBase))) return true;
    } catch { /* below */ }
    this.closeSegment();
    return false;
  }

  /** Positions the reader so that next() returns `offset`. ERR_POSITION_EXPIRED below the log start. */
  seek(offset: number): void {
    try {
      this.seekFiles(offset);
    } catch (e) {
      throw LogError.fromSystem(e, 'seeking in the log', this.dir);
    }
  }

  /** `fast`: seekToRecord's seek, which takes the segment list and the header from the caches unchecked. */
  private seekFiles(offset: number, fast = false): void {
    // The segment is then picked from the last listing unchecked: a hint, as index entries are.
    const bases = (fast ? segmentBasesHint(this.io, this.dir) : undefined) ?? segmentBases(this.io, this.dir);
    let base = -1;
    for (const b of bases) if (b <= offset) base = b;
    if (base < 0) {
      if (bases.length === 0 && offset === 0) {
        this.closeSegment();
        this.next = 0;
        this.skipBelow = 0;
        return;
      }
      throw LogError.expired(offset, bases[0] ?? 0);
    }
    try {
      this.openSegment(base, fast);
    } catch (e) {
      if (!(e instanceof RetryLater)) throw e;
      // Its header is not whole yet: read() opens it once it is.
      this.next = base;
      this.skipBelow = offset;
      return;
    }
    this.seekInSegment(offset, false);
  }

  /** Set while a header skipped by a fast seek waits for confirmation. */
  private headerPending: SegmentEntry | null = null;

  protected openSegment(base: number, fast = false): void {
    this.closeSegment();
    const name = segmentName(base);
    try {
      this.segPath = this.dirSlash + name; // join() normalizes: a cost a seek notices
      this.fd = this.io.open(this.segPath, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw LogError.expired(base, this.firstBase());
      throw LogError.fromSystem(e, 'opening segment', name);
    }
    this.confirmedEntry = null;
    // A seek by position skips a header this thread checked under the stamp the file still has:
    // seekToRecord confirms that stamp, or reads the header after all, before it answers.
    this.headerPending = fast && this.io.stamp !== undefined ? segmentEntry(this.segPath) ?? null : null;
    if (this.headerPending?.headerChecked !== true) {
      this.headerPending = null;
      const wallMs = wallNowMs();
      const stamp = fast ? this.io.stamp?.(this.fd) ?? null : null; // before the read: see settled()
      let whole: boolean;
      try {
        whole = checkSegmentHeader(this.io, this.fd, base, () => this.newerThan(base));
      } catch (e) {
        this.closeSegment();
        throw LogError.fromSystem(e, 'reading segment', name);
      }
      if (!whole) {
        this.closeSegment();
        throw new RetryLater();
      }
      if (stamp !== null) recordHeader(this.segPath, stamp, wallMs);
    }
    this.segBase = base;
    this.pos = SEGMENT_HEADER_BYTES;
    this.next = base;
    this.frameLeft = 0;
    this.sizeSeen = -1;
    this.forgetChunk();
  }

  /**
   * The next record below `limit`, or null if there is none yet. Throws ERR_LOG_CORRUPT for damage and
   * ERR_POSITION_EXPIRED when retention deleted the segment the reader needs next. `strict`: the limit
   * was published by the writer of this process, so every record below it must be in the files.
   */
  read(limit: number, strict: boolean): Message | null {
    try {
      return this.readFiles(limit, strict);
    } catch (e) {
      // Every failure leaves as a LogError (a system error in any of the small reads is ERR_IO).
      throw LogError.fromSystem(e, 'reading the log', this.dir);
    }
  }

  private readFiles(limit: number, strict: boolean): Message | null {
    this.strict = strict;
    for (;;) {
      if (this.next >= limit) return null;
      if (this.fd < 0) {
        if (!this.tryOpenNext()) return null;
        continue;
      }
      const m = this.nextInSegment(limit);
      if (m !== null) {
        if (m.offset < this.skipBelow) continue;
        return m;
      }
      if (this.frameLeft > 0) return null;
      if (this.lookAgain) {
        // Damage suspected in a sealed segment: read its end again now, then judge.
        this.lookAgain = false;
        continue;
      }
      // End of this segment's valid frames. A newer segment means this one is sealed.
      if (!this.tryOpenNext()) {
        if (strict && this.next < limit) {
          throw LogError.corrupt(segmentName(this.segBase), this.pos, `records ${this.next} to ${limit - 1} were published but are not in the files`);
        }
        return null;
      }
    }
  }

  private tryOpenNext(): boolean {
    if (this.fd >= 0 && this.next === this.segBase) {
      // The open segment is empty: nothing follows it yet. The writer never rolls away from an empty
      // segment, so an empty one with a newer segment after it was cut short (corruption properties).
      if (this.sealed()) {
        // Found empty, then sealed: the writer may have filled and rolled it in between. Read it
        // again (true: look again) before calling it damage.
        if (this.io.fsize(this.fd) > this.pos) return true;
        throw LogError.corrupt(segmentName(this.segBase), this.pos, 'a sealed segment holds no frame');
      }
      return false;
    }
    const name = segmentName(this.next);
    if (!this.io.exists(join(this.dir, name))) {
      // Either nothing follows yet, or retention deleted what follows while this reader lagged, or
      // (a newer segment exists, yet none starts here) records are missing.
      const bases = segmentBases(this.io, this.dir);
      if (bases.length > 0 && bases[0]! > this.next) throw LogError.expired(this.next, bases[0]!);
      if (this.fd >= 0) {
        const later = bases.find((b) => b > this.segBase);
        if (later !== undefined && later !== this.next && this.io.fsize(this.fd) === this.pos) {
          throw LogError.corrupt(segmentName(this.segBase), this.pos, `the segment ends at offset ${this.next}, but the next one starts at ${later}`);
        }
      }
      return false;
    }
    const unread = this.fd >= 0 ? this.io.fsize(this.fd) - this.pos : 0;
    if (unread > 0) {
      // A newer segment exists, so this one is sealed: bytes left after its valid frames are damage,
      // unless they were written after this reader last looked (then read on: return true, loop again).
      if (!this.sealedOnSecondLook()) {
        this.forgetChunk();
        return true;
      }
      throw LogError.corrupt(segmentName(this.segBase), this.pos, `${unread} bytes after the last valid frame of a sealed segment`);
    }
    try {
      const keepSkip = this.skipBelow;
      this.openSegment(this.next);
      this.skipBelow = keepSkip;
    } catch (e) {
      if (e instanceof RetryLater) return false;
      throw e;
    }
    return true;
  }

  /**
   * Next record of the open segment below `limit`, or null at its (current) end, or when the next
   * record is at `limit` (frameLeft > 0 then).
   */
  private nextInSegment(limit: number): Message | null {
    if (this.frameLeft === 0 && !this.loadFrame()) return null;
    // A seek target inside this frame: pass over the records before it by their lengths alone.
    while (this.next < this.skipBelow && this.frameLeft > 0) {
      if (this.window !== null && !this.windowHolds(RECORD_LENGTH_BYTES)) return this.nextInSegment(limit);
      this.recAt += RECORD_LENGTH_BYTES + this.chunk.readUInt32LE(this.recAt);
      this.frameLeft--;
      this.next++;
    }
    if (this.frameLeft === 0) return this.nextInSegment(limit);
    // Checked again after passing over: a seek target at or past the limit is not handed out (it was,
    // when the frame holding it started below the limit: a durable-visibility consumer opened at the
    // durable end got one record that was not durable yet).
    if (this.next >= limit) return null;
    if (this.window !== null) {
      if (!this.windowHolds(RECORD_LENGTH_BYTES)) return this.nextInSegment(limit);
      if (!this.windowHolds(RECORD_LENGTH_BYTES + this.chunk.readUInt32LE(this.recAt))) return this.nextInSegment(limit);
    }
    const len = this.chunk.readUInt32LE(this.recAt);
    const start = this.recAt + RECORD_LENGTH_BYTES;
    const data = this.chunk.subarray(start, start + len);
    this.recAt = start + len;
    this.frameLeft--;
    return { offset: this.next++, data, timestamp: this.frameTs };
  }

  /** Reads and checks the frame at `pos`. Returns false when there is none (yet). */
  private loadFrame(): boolean {
    this.window = null;
    for (;;) {
      let at = this.pos - this.chunkPos;
      if (at < 0 || at + FRAME_HEADER_BYTES > this.chunk.byteLength) {
        if (!this.readVerifiedHeader() && !this.refill(FRAME_HEADER_BYTES)) return this.notWhole('frame header is short');
        at = 0;
      }
      const h = decodeFrameHeader(this.chunk, at);
      if (typeof h === 'string') return this.invalid(h);
      if (h.baseOffset !== this.next) return this.invalid(`frame holds offset ${h.baseOffset}, expected ${this.next}`);
      this.frameStart = this.pos;
      this.frameBase = h.baseOffset;
      // Frames wholly before a seek target are passed over without checking each record.
      const passOver = h.baseOffset + h.recordCount <= this.skipBelow;
      if (at + h.frameBytes > this.chunk.byteLength) {
        // ...and without reading them, when the file is known to hold them whole.
        const end = this.pos + h.frameBytes;
        if (passOver && (end <= this.sizeSeen || end <= (this.sizeSeen = this.io.fsize(this.fd)))) {
          this.pos = end;
          this.next += h.recordCount;
          continue;
        }
        if (!passOver && this.skipBelow > h.baseOffset && this.loadWindow(h)) return true;
        if (!this.refill(h.frameBytes)) return this.notWhole('frame runs past the end of the file');
        at = 0;
      }
      if (passOver) {
        this.pos += h.frameBytes;
        this.next += h.recordCount;
        continue;
      }
      const why = this.checkFrameInChunk(h, at);
      if (why !== null) return this.invalid(why);
      this.pos += h.frameBytes;
      this.frameLeft = h.recordCount;
      this.recAt = at + FRAME_HEADER_BYTES;
      this.frameTs = h.timestampMs;
      this.frameLoaded();
      return true;
    }
  }

  /**
   * The frame at `pos` is not whole in the file. Below a published limit that is damage. Tailing
   * another process, it is a frame still being written (or a torn tail the next producer's recovery
   * will cut), unless the segment is sealed (tryOpenNext reports that).
   */
  private notWhole(why: string): false {
    // At the exact end of the file the next record may be in the next segment: read() decides. Part
    // of a frame in a sealed segment (a newer one exists, so the writer finished this one) is damage.
    // Part of a frame in the newest segment is damage, as an invalid frame is, when a valid frame after
    // it proves it was once whole (without that proof, a length field damaged to run past the end
    // passes for a frame still being written; the corruption properties check this).
    // Judged against the size the short read saw: a tailing reader that finds the file grown since
    // has met a frame being written, and looks again; the proof scan stops at that size, so frames
    // the writer added meanwhile cannot pass for proof of damage.
    const size = this.io.fsize(this.fd);
    if (size > this.pos && (this.strict || size === this.refillSize)) return this.invalid(why, this.refillSize);
    this.forgetChunk(); // the bytes may change (a frame being written, a torn tail being cut): read afresh
    return false;
  }

  /**
   * Whether the open segment is sealed and the bytes at `pos` were read after it was. Without a limit,
   * the bytes may have been read while the writer was still writing them, and the newer segment noticed
   * only afterwards: the first time, read again; a segment sealed before the read holds its final bytes.
   */
  private sealedOnSecondLook(): boolean {
    if (!this.sealed()) return false;
    if (this.suspectAt === this.pos && this.suspectSeg === this.segBase) return true;
    this.suspectAt = this.pos;
    this.suspectSeg = this.segBase;
    this.lookAgain = true;
    return false;
  }

  private lookAgain = false;
  private suspectAt = -1;
  private suspectSeg = -1;

  /**
   * The bytes at `pos` are not a valid frame. Below a published limit, or in a sealed segment, that is
   * damage. Tailing another process's last segment it may be a torn tail left by a crash: it is damage
   * only if a valid frame follows that was written after them (live producer) or after an fsync that
   * covered them (see findValidFrameAfter).
   */
  private invalid(why: string, seenSize?: number): false {
    const name = segmentName(this.segBase);
    if (this.strict || this.sealedOnSecondLook()) throw LogError.corrupt(name, this.pos, why);
    const size = seenSize ?? this.io.fsize(this.fd);
    if (this.checkedInvalidAt !== this.pos || this.checkedInvalidSize !== size) {
      this.checkedInvalidAt = this.pos;
      this.checkedInvalidSize = size;
      const live = lockHeldByLiveProcess(this.io, producerLockPath(this.dir));
      const proof = findValidFrameAfter(this.io, this.fd, size, this.pos, !live);
      if (proof !== null) throw LogError.corrupt(name, this.pos, `${why}; a valid frame follows at byte ${proof}`);
    }
    this.forgetChunk();
    return false;
  }

  private strict = false;

  /** Whether a newer segment exists: then the writer finished the open one, and nothing more comes. */
  private sealed(): boolean {
    return this.newerThan(this.segBase);
  }

  private newerThan(base: number): boolean {
    return segmentBases(this.io, this.dir).some((b) => b > base);
  }
  private checkedInvalidAt = -1;
  private checkedInvalidSize = -1;

  private firstBase(): number {
    return segmentBases(this.io, this.dir)[0] ?? 0;
  }

  private closeSegment(): void {
    if (this.fd >= 0) {
      try { this.io.close(this.fd); } catch { /* nothing to do */ }
    }
    this.fd = -1;
    this.frameLeft = 0;
    this.window = null;
  }

  close(): void {
    this.closeSegment();
  }
}

class RetryLater extends Error {}

