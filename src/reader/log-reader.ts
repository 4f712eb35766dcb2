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
 * A nonblocking call also fixes the end of the files at its start (fixEnd): frames past it wait for the next call.
 *
 * It holds a SegmentReader (segment-reader.ts): the open segment file, its reads, frames and records,
 * and what this thread's reader caches let it skip (a frame checked before, the index); the directory
 * listing is segment-list.ts. This class decides which segment comes next, how far to read, and what a
 * frame that is not whole or not valid means (the SegmentReader asks it: FrameJudge).
 */
import { join } from 'node:path';
import { LogError } from '../errors.js';
import type { Message } from '../types.js';
import { fileEndNow } from './file-end.js';
import { FrameJudging } from './frame-judging.js';
import { MAX_LISTINGS, vanished, type SegmentFile } from './segment-file.js';
import { checkSegmentHeader, segmentHeaderValid } from './segment-header.js';
import { hasSegmentAfter, segmentBases, segmentBasesHint } from './segment-list.js';
import { recordHeader, segmentEntry, wallNowMs, type SegmentEntry } from './verified-cache.js';
import { danglingSegment, segmentName } from '../segment/segment-files.js';
import { failureIn, type DirIdentity } from './dir-identity.js';

export class LogReader extends FrameJudging {
  /** Set while a header skipped by a fast seek waits for confirmation. */
  private headerPending: SegmentEntry | null = null;
  /**
   * The offset of a seek that failed (ERR_IO, ERR_POSITION_EXPIRED, ...), else null: the reader stands there
   * (nextOffset) and the next read makes the seek again, never reading on from where the failed seek left the segment reader.
   */
  protected seekAgain: number | null = null;
  /** A start by time (passOverStoredBefore): the first records stored before this are passed over; null otherwise. */
  private storedFromMs: number | null = null;

  /** The offset of the record read() will return next. */
  get nextOffset(): number {
    return this.seekAgain ?? Math.max(this.segment.nextOffset, this.segment.skipBelowOffset);
  }

  /**
   * Moves forward to `offset` without a new seek (no directory listing, index read or reopen): the
   * records before it are passed over as they are read. Returns false when `offset` is behind the
   * reader, nothing is open, or a failed seek is still to be made again (the segment reader stands
   * wherever that seek left it); then use seek().
   */
  skipTo(offset: number): boolean {
    if (this.seekAgain !== null || this.segment.fd < 0 || offset < this.nextOffset) return false;
    this.segment.passOverBelow(offset);
    return true;
  }

  /**
   * Seeks to `offset` and loads the frame holding it, reading as from another process (no limit). True
   * when a whole, valid frame holds record `offset` and durable.offset lies past it, so that it lies below
   * the log's end; false when none does or anything fails on the way (readLogBounds() and seek() tell why). No record is handed out.
   */
  seekToRecord(offset: number): boolean {
    try {
      this.seekFiles(offset, true);
      this.strict = false;
      const s = this.segment;
      // Below durable.offset only: past it, the frame may follow one a power loss tore, which the next
      // producer's recovery cuts with it (the general path reads the log's end first).
      const found = s.fd >= 0 && s.nextOffset <= offset && (s.frameLeft > 0 || s.loadFrame()) &&
        s.nextOffset <= offset && offset < s.nextOffset + s.frameLeft && this.durable.beyond(offset) !== null;
      // A skipped header counts if a stamp taken since equals the one it was checked under.
      const pending = this.headerPending;
      this.headerPending = null;
      if (found && (pending === null || pending === s.confirmedEntry || segmentHeaderValid(this.io, s.fd, s.baseOffset))) return true;
    } catch { /* below */ }
    this.segment.close();
    return false;
  }

  /**
   * A start by time (Whence.timestamp): the records read first that were stored before `ms` are
   * passed over, up to the first one stored at or after it. A search that found every record in the
   * files older answers where they end, and the writer may have stamped the next frame before the
   * time and still be writing it. Undone by seek().
   */
  passOverStoredBefore(ms: number): void {
    this.storedFromMs = ms;
  }

  /** A start by time still passes over the records stored before its time: none at or after it was read yet. */
  get passingOver(): boolean {
    return this.storedFromMs !== null;
  }

  /**
   * A consumer's reader: from now on the path must name the directory of identity `id` (taken at the
   * consumer's open) whenever a segment file is opened by name, and whenever a read or seek fails (the
   * failure may come from another log's files, durable.offset or listing): else ERR_IO names the
   * directory (dir-identity.ts).
   */
  holdDir(id: DirIdentity): void {
    this.segment.file.dirIdentity = this.dirId = id;
  }
  private dirId: DirIdentity = null;

  /** This process's writer while it runs, else null: frames it wrote lately are not checked again (SegmentFile.checkFrame). */
  set writer(w: SegmentFile['writer']) { this.segment.file.writer = w; }

  /** Positions the reader so that next() returns `offset`. ERR_POSITION_EXPIRED below the log start. */
  seek(offset: number): void {
    this.storedFromMs = null;
    this.seekAgain = offset;
    try {
      this.seekFiles(offset);
    } catch (e) {
      throw failureIn(this.io, this.dir, this.dirId, e, 'seeking in the log');
    }
    this.seekAgain = null;
  }

  /** `fast`: seekToRecord's seek, which takes the segment list and the header from the caches unchecked. */
  private seekFiles(offset: number, fast = false): void {
    for (let attempt = 1; ; attempt++) {
      // The segment is then picked from the last listing unchecked: a hint, as index entries are.
      const bases = (fast && attempt === 1 ? segmentBasesHint(this.io, this.dir) : undefined) ?? segmentBases(this.io, this.dir);
      let base = -1;
      for (const b of bases) if (b <= offset) base = b;
      if (base < 0) {
        if (bases.length === 0 && offset === 0) {
          this.segment.standClosed(0, 0);
          return;
        }
        throw LogError.expired(offset, bases[0] ?? 0);
      }
      try {
        this.openSegment(base, fast);
      } catch (e) {
        // Deleted since the listing: list again, which names the range `offset` lies in when it is gone
        // (the open's own error names the segment's base, not `offset`).
        if (this.goneSinceListing(base, e) && attempt < MAX_LISTINGS) continue;
        if (!(e instanceof RetryLater)) throw e;
        // Its header is not whole yet: read() opens it once it is.
        this.segment.standClosed(base, offset);
        return;
      }
      this.segment.seekInSegment(offset, false);
      return;
    }
  }

  /**
   * `e` from opening segment `base`: true when it is SegmentFile.open's "gone" and a listing taken
   * now no longer holds it (retention deleted it). A segment still listed that cannot be opened is
   * damage (a dangling link, say). False for any other error.
   */
  protected goneSinceListing(base: number, e: unknown): boolean {
    if (!vanished(e)) return false;
    if (!segmentBases(this.io, this.dir).includes(base)) return true;
    throw danglingSegment(base);
  }

  protected openSegment(base: number, fast = false): void {
    const name = this.segment.openFile(base);
    // A seek by position skips a header this thread checked under the stamp the file still has:
    // seekToRecord confirms that stamp, or reads the header after all, before it answers.
    this.headerPending = fast && this.io.stamp !== undefined ? segmentEntry(this.segment.path) ?? null : null;
    if (this.headerPending?.headerChecked !== true) {
      this.headerPending = null;
      const wallMs = wallNowMs();
      const stamp = fast ? this.io.stamp?.(this.segment.fd) ?? null : null; // before the read: see settled()
      let whole: boolean;
      try {
        whole = checkSegmentHeader(this.io, this.segment.fd, base, () => hasSegmentAfter(this.io, this.dir, base));
      } catch (e) {
        this.segment.close();
        throw LogError.fromSystem(e, 'reading segment', name);
      }
      if (!whole) {
        this.segment.close();
        // A segment appears under its name with its header whole and fsynced, before the roll records
        // any durable offset past its base: records from it reported durable mean the header was whole
        // once (damage), not a roll a crash left unfinished.
        const hint = this.durable.beyond(base);
        if (hint !== null) throw LogError.corrupt(segmentName(base), 0, `the segment header is not whole, but records ${base} to ${hint - 1} were reported durable (durable.offset)`);
        throw new RetryLater();
      }
      if (stamp !== null) recordHeader(this.segment.path, stamp, wallMs);
    }
    this.segment.start(base);
  }

  /**
   * A nonblocking call starts (`fixed`) or ends: while fixed, read() stops at the end of the files as
   * they are now (file-end.ts), whatever its limit: it hands out no record of a frame that ends past
   * the newest segment's size now, nor of a newer segment. Those come once the end is lifted or fixed again.
   */
  fixEnd(fixed: boolean): void {
    this.fileEnd = null;
    if (!fixed) return;
    try {
      this.fileEnd = fileEndNow(this.io, this.dir, this.segment.baseOffset, this.segment.fd);
    } catch (e) {
      throw LogError.fromSystem(e, 'reading the end of the log', this.dir);
    }
  }

  /**
   * The next record below `limit`, or null if there is none yet. Throws ERR_LOG_CORRUPT for damage and
   * ERR_POSITION_EXPIRED when retention deleted the segment the reader needs next. `strict`: the limit
   * was published by the writer of this process, so every record below it must be in the files.
   */
  read(limit: number, strict: boolean): Message | null {
    try {
      if (this.seekAgain !== null) {
        this.seekFiles(this.seekAgain);
        this.seekAgain = null;
      }
      return this.readFiles(limit, strict);
    } catch (e) {
      // Every failure leaves as a LogError (a system error in any of the small reads is ERR_IO).
      throw failureIn(this.io, this.dir, this.dirId, e, 'reading the log');
    }
  }

  private readFiles(limit: number, strict: boolean): Message | null {
    this.strict = strict;
    this.limit = limit;
    this.stoppedAtEnd = false;
    const s = this.segment;
    for (;;) {
      if (s.nextOffset >= limit) return null;
      if (s.fd < 0) {
        if (this.tryOpenNext()) continue;
        // A segment whose header is not whole yet holds no record this process's writer published.
        if (strict) throw LogError.corrupt(segmentName(s.nextOffset), 0, `records ${s.nextOffset} to ${limit - 1} were published, but the segment holding them has no whole header`);
        return null;
      }
      const m = s.nextRecord(limit);
      if (m !== null) {
        if (m.offset < s.skipBelowOffset) continue;
        if (this.storedFromMs !== null) {
          if (m.timestamp < this.storedFromMs) continue;
          this.storedFromMs = null;
        }
        return m;
      }
      if (s.frameLeft > 0) return null;
      if (this.stoppedAtEnd) {
        // At the fixed end: the records durable.offset names must be there, as at the files' end.
        this.checkDurableEnd();
        return null;
      }
      if (this.lookAgain) {
        // Damage suspected in a sealed segment: read its end again now, then judge.
        this.lookAgain = false;
        continue;
      }
      // End of this segment's valid frames. A newer segment means this one is sealed.
      if (!this.tryOpenNext()) {
        if (strict && s.nextOffset < limit) {
          throw LogError.corrupt(segmentName(s.baseOffset), s.framePosition, `records ${s.nextOffset} to ${limit - 1} were published but are not in the files`);
        }
        if (!strict) this.checkDurableEnd();
        return null;
      }
    }
  }

  private tryOpenNext(): boolean {
    const s = this.segment;
    if (s.fd >= 0 && s.nextOffset === s.baseOffset) {
      // The open segment is empty: nothing follows it yet. The writer never rolls away from an empty
      // segment, so an empty one with a newer segment after it was cut short (corruption properties).
      if (this.sealed()) {
        // Found empty, then sealed: the writer may have filled and rolled it in between. Read it
        // again (true: look again) before calling it damage.
        if (this.io.fsize(s.fd) > s.framePosition) return true;
        throw LogError.corrupt(segmentName(s.baseOffset), s.framePosition, 'a sealed segment holds no frame');
      }
      return false;
    }
    const name = segmentName(s.nextOffset);
    // Listed, yet not found (a dangling link, say): the open below reports it (goneSinceListing).
    const bases = this.io.exists(join(this.dir, name)) ? null : segmentBases(this.io, this.dir);
    if (bases !== null && !bases.includes(s.nextOffset)) {
      // Either nothing follows yet, or retention deleted what follows while this reader lagged, or
      // (a newer segment exists, yet none starts here) records are missing.
      if (bases.length > 0 && bases[0]! > s.nextOffset) return this.pastDeleted(bases[0]!);
      if (s.fd < 0 && bases.length > 0) {
        // No segment open, and none starts here: the one this reader waited for (its header not whole:
        // a roll a crash left unfinished) is gone, removed by recovery, and the segment before it is
        // active again and takes the next records. Read on in the segment that holds the next offset.
        this.seekFiles(this.nextOffset);
        return s.fd >= 0;
      }
      if (s.fd >= 0) {
        const later = bases.find((b) => b > s.baseOffset);
        if (later !== undefined && this.io.fsize(s.fd) === s.framePosition) {
          // A listing is no snapshot: one made while the writer renamed the next segment into place
          // may miss it and still name the ones after it. Look for it by name before calling it a gap.
          if (this.io.exists(join(this.dir, name))) return true;
          throw LogError.corrupt(segmentName(s.baseOffset), s.framePosition, `the segment ends at offset ${s.nextOffset}, but the next one starts at ${later}`);
        }
      }
      return false;
    }
    const unread = s.fd >= 0 ? this.io.fsize(s.fd) - s.framePosition : 0;
    if (unread > 0) {
      // A newer segment exists, so this one is sealed: bytes left after its valid frames are damage,
      // unless they were written after this reader last looked (then read on: return true, loop again).
      if (!this.sealedOnSecondLook()) {
        s.forgetChunk();
        return true;
      }
      throw LogError.corrupt(segmentName(s.baseOffset), s.framePosition, `${unread} bytes after the last valid frame of a sealed segment`);
    }
    if (this.fileEnd !== null && s.nextOffset > this.fileEnd.base) return false; // newer than the fixed end
    try {
      this.openSegment(s.nextOffset); // skipBelowOffset carries over: opening does not change it
    } catch (e) {
      if (e instanceof RetryLater) return false;
      if (this.goneSinceListing(s.nextOffset, e)) return this.pastDeleted(segmentBases(this.io, this.dir)[0] ?? s.nextOffset + 1);
      throw e;
    }
    return true;
  }

  /**
   * Retention deleted the segment the reader needs next; the log now starts at `start`. A skip forward
   * (skipTo) may stand at or past `start`: then the reader seeks there. Else ERR_POSITION_EXPIRED names
   * the offset the reader was at.
   */
  private pastDeleted(start: number): true {
    const at = this.nextOffset;
    if (at < start) throw LogError.expired(at, start);
    this.seekFiles(at);
    return true;
  }

  close(): void {
    this.segment.close();
  }
}

/** A newest segment whose header is not whole, and no record from its base reported durable: read it again later. */
export class RetryLater extends Error {}

