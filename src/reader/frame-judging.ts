/**
 * What a frame that is not whole or not valid means, for a LogReader (log-reader.ts) and its
 * SegmentReader (which asks: FrameJudge). Below a limit this process's writer published, it is damage.
 * In a sealed segment it is damage once read twice. In the newest segment of another process's log
 * (no limit) it is a frame still being written or a torn tail a crash left, unless durable.offset
 * names records at or past it (durable-check.ts) or a valid frame after it proves it was once whole
 * (storage/durability-proof.ts: recovery's rule). It also holds the end a nonblocking call fixed in the files (file-end.ts),
 * past which the SegmentReader loads no frame.
 */
import { LogError } from '../errors.js';
import type { FileIO } from '../storage/file-io.js';
import { OLDEST_FORMAT_VERSION, SEGMENT_HEADER_BYTES } from '../format/frame.js';
import { durabilityProof } from '../storage/durability-proof.js';
import { readFrameAt, scanFrames } from '../storage/frame-scan.js';
import { readSegmentHeader, segmentName } from '../segment/segment-files.js';
import { DurableCheck } from './durable-check.js';
import type { FileEnd } from './file-end.js';
import type { FrameJudge } from './reader-contracts.js';
import { SegmentReader } from './segment-reader.js';
import { hasSegmentAfter } from './segment-list.js';

export class FrameJudging implements FrameJudge {
  /** The open segment file and where the reader stands in it. */
  protected readonly segment: SegmentReader;
  /** read()'s limit was published by this process's writer: every record below it must be in the files. */
  protected strict = false;
  /** read()'s limit: a frame at or past it is not published yet, and is judged as a tailing reader judges it. */
  protected limit = Infinity;
  /** Damage suspected at the end of a sealed segment, or below durable.offset: read once more before it is judged. */
  protected lookAgain = false;
  private suspectPosition = -1;
  private suspectBase = -1;
  /** Where the last search for a valid frame after invalid bytes ran (segment, position, and the file size seen). */
  private checkedInvalidBase = -1;
  private checkedInvalidPosition = -1;
  private checkedInvalidSize = -1;
  /** The last valid frame's time before a place (durabilityProof), memoized: the bytes before the reader's position do not change while it waits there. */
  private lastTime: { fd: number; created: number; base: number; position: number; nextOffset: number; ms: number } | null = null;
  /** durable.offset against invalid bytes and the end of the newest segment (durable-check.ts). */
  protected readonly durable: DurableCheck;
  /** A nonblocking call's end in the files (LogReader.fixEnd), or null: none. */
  protected fileEnd: FileEnd | null = null;
  /** The SegmentReader stopped at `fileEnd` (atEnd): read() hands out nothing more. */
  protected stoppedAtEnd = false;

  constructor(protected readonly io: FileIO, protected readonly dir: string) {
    this.segment = new SegmentReader(io, dir, this);
    this.durable = new DurableCheck(io, dir);
  }

  /**
   * The frame at `framePosition` is not whole in the file. Below a published limit that is damage. Tailing
   * another process, it is a frame still being written (or a torn tail the next producer's recovery
   * will cut), unless the segment is sealed (tryOpenNext reports that). FrameJudge: for the SegmentReader.
   */
  notWhole(why: string): false {
    const s = this.segment;
    // At the exact end of the file the next record may be in the next segment: read() decides. Part
    // of a frame in a sealed segment (a newer one exists, so the writer finished this one) is damage.
    // Part of a frame in the newest segment is damage, as an invalid frame is, when a valid frame after
    // it proves it was once whole (without that proof, a length field damaged to run past the end
    // passes for a frame still being written; the corruption properties check this).
    // Judged against the size the short read saw: a tailing reader that finds the file grown since
    // has met a frame being written, and looks again; the proof scan stops at that size, so frames
    // the writer added meanwhile cannot pass for proof of damage.
    const size = this.io.fsize(s.fd);
    if (size > s.framePosition && (this.published() || size === s.refillSize)) return this.invalid(why, s.refillSize);
    s.forgetChunk(); // the bytes may change (a frame being written, a torn tail being cut): read afresh
    return false;
  }

  /**
   * Whether byte `position` of the open segment lies past `fileEnd`: it was not in the files when the
   * end was fixed (a segment newer than the end's, or past its size). FrameJudge: for the SegmentReader.
   */
  pastEnd(position: number): boolean {
    const e = this.fileEnd;
    if (e === null) return false;
    const base = this.segment.baseOffset;
    return base > e.base || (base === e.base && position >= e.position);
  }

  /** The SegmentReader stops at `fileEnd`: read() hands out nothing more. FrameJudge: for the SegmentReader. */
  atEnd(): false {
    this.stoppedAtEnd = true;
    return false;
  }

  /**
   * Whether the open segment is sealed and the bytes at `framePosition` were read after it was. Without a limit,
   * the bytes may have been read while the writer was still writing them, and the newer segment noticed
   * only afterwards: the first time, read again; a segment sealed before the read holds its final bytes.
   */
  protected sealedOnSecondLook(): boolean {
    return this.sealed() && this.onSecondLook();
  }

  /** True the second time in a row the bytes at the reader's position are suspect; the first time, they are read again at once. */
  private onSecondLook(): boolean {
    const s = this.segment;
    if (this.suspectPosition === s.framePosition && this.suspectBase === s.baseOffset) return true;
    this.suspectPosition = s.framePosition;
    this.suspectBase = s.baseOffset;
    this.lookAgain = true;
    return false;
  }

  /**
   * The bytes at `framePosition` are not a valid frame. Below a published limit, or in a sealed segment, that is
   * damage. Tailing another process's last segment it may be a torn tail left by a crash: it is damage
   * when durable.offset says records at or past them were fsynced (as recovery judges: the writer
   * records that offset only after the fsync), or when a valid frame follows that was written after
   * an fsync that covered them (see findValidFrameAfter), as recovery judges too. Bytes read
   * while the writer was still writing them can look torn, and the offset may have been recorded
   * since: they are read once more before durable.offset condemns them. FrameJudge: for the SegmentReader.
   */
  invalid(why: string, seenSize?: number): false {
    const s = this.segment;
    const name = segmentName(s.baseOffset);
    if (this.published() || this.sealedOnSecondLook()) throw LogError.corrupt(name, s.framePosition, why);
    const hint = this.lookAgain ? null : this.durable.beyond(s.nextOffset);
    if (hint !== null) {
      if (this.onSecondLook()) throw LogError.corrupt(name, s.framePosition, `${why}; records ${s.nextOffset} to ${hint - 1} were reported durable (durable.offset)`);
      s.forgetChunk(); // read once more, now (see durable-check.ts)
      return false;
    }
    const size = seenSize ?? this.io.fsize(s.fd);
    // Searched again when any of the three changed: the same byte and size in another segment are other bytes.
    if (this.checkedInvalidBase !== s.baseOffset || this.checkedInvalidPosition !== s.framePosition || this.checkedInvalidSize !== size) {
      this.checkedInvalidBase = s.baseOffset;
      this.checkedInvalidPosition = s.framePosition;
      this.checkedInvalidSize = size;
      // Only a frame written after an fsync that covered these bytes proves them damaged (recovery's
      // rule, durabilityProof: in a segment of format 2 not one stamped before the last valid frame),
      // whoever holds the lock: a producer that has just taken it may not have cut the torn tail of a power loss yet,
      // whose later frames reached the disk while these bytes did not.
      const proof = this.durabilityProof(size);
      // The proof holds for the bytes there now: if those are a valid frame, a recovery cut the bytes
      // judged above and the writer wrote it (and the proof) since. Read it afresh instead.
      if (proof !== null && !this.validFrameNow(s.framePosition, s.nextOffset)) throw LogError.corrupt(name, s.framePosition, `${why}; a valid frame follows at byte ${proof}`);
    }
    s.forgetChunk();
    return false;
  }

  /**
   * The valid frame after the invalid bytes at the reader's position (the file read up to `size`) that
   * proves them damaged, by recovery's rule (storage/durability-proof.ts), or null. The last
   * valid frame's time it needs is found by scanning the segment from its first frame to the reader's
   * position, only once a candidate was found, and once per place: a reader polling at a frame being
   * written (the file grown each time) does not scan the segment again each poll. A scan that does not
   * end there (the bytes before changed, or the header did) leaves the old rule: any candidate proves.
   */
  private durabilityProof(size: number): number | null {
    const s = this.segment;
    const h = readSegmentHeader(this.io, s.fd, segmentName(s.baseOffset));
    const version = typeof h === 'string' ? OLDEST_FORMAT_VERSION : h.version;
    const created = typeof h === 'string' ? NaN : h.createdMs; // with the fd: the same file (NaN matches none)
    return durabilityProof(this.io, { dir: this.dir, base: s.baseOffset, fd: s.fd, fileBytes: size, from: s.framePosition }, version, () => {
      const m = this.lastTime;
      if (m !== null && m.fd === s.fd && m.created === created && m.base === s.baseOffset && m.position === s.framePosition && m.nextOffset === s.nextOffset) return m.ms;
      const end = scanFrames(this.io, s.fd, s.framePosition, SEGMENT_HEADER_BYTES, s.baseOffset);
      const ms = end.bad === null && end.position === s.framePosition && end.nextOffset === s.nextOffset ? end.lastTimestampMs : null;
      // Only a time found is kept: a scan that failed may have met bytes being rewritten, and is tried again.
      if (ms !== null) this.lastTime = { fd: s.fd, created, base: s.baseOffset, position: s.framePosition, nextOffset: s.nextOffset, ms };
      return ms;
    });
  }

  /** Whether the bytes at `position` of the open segment are, read now, a whole valid frame holding record `offset` first. */
  private validFrameNow(position: number, offset: number): boolean {
    const fd = this.segment.fd;
    const h = readFrameAt(this.io, fd, this.io.fsize(fd), position);
    return typeof h !== 'string' && h.baseOffset === offset;
  }

  /**
   * The frame at the reader's position holds records this process's writer published: it must be
   * whole and valid. (A seek to the limit passes over the frames below it and meets the frame at it,
   * which the writer may be writing.)
   */
  private published(): boolean {
    return this.strict && this.segment.nextOffset < this.limit;
  }

  /** The newest segment's valid frames end before records durable.offset names: ERR_LOG_CORRUPT (durable-check.ts). */
  protected checkDurableEnd(): void {
    const s = this.segment;
    if (s.fd < 0) return;
    const hint = this.durable.missingAtEnd(s.fd, s.framePosition, s.nextOffset, () => this.sealed());
    if (hint !== null) {
      throw LogError.corrupt(segmentName(s.baseOffset), s.framePosition, `the segment ends at record ${s.nextOffset}, but records to ${hint - 1} were reported durable (durable.offset)`);
    }
  }

  /** Read again now what was judged suspect (the bounds walk's loop); false when nothing was. */
  protected takeLookAgain(): boolean {
    const again = this.lookAgain;
    this.lookAgain = false;
    return again;
  }

  /** Whether a newer segment exists: then the writer finished the open one, and nothing more comes. */
  protected sealed(): boolean {
    return hasSegmentAfter(this.io, this.dir, this.segment.baseOffset);
  }
}
