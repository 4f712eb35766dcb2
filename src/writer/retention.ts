/**
 * The writer's retention: the list of segments it holds, their total size, the deletion of whole
 * oldest segments past `maxTotalBytes` or `maxFileAge`, and the backpressure of
 * `blockingMinimumRetention` (records are held in the ring rather than deleted too young or before a
 * transactional cursor committed them). Run by the writer thread only (src/writer/log-writer.ts).
 */
import { join } from 'node:path';
import { internalError } from '../errors.js';
import type { ResolvedProducerOptions } from '../producer/options.js';
import { I32, I64, State, bump, storeOffset, type ControlViews } from '../ring/layout.js';
import { fsyncDir, type FileIO } from '../storage/file-io.js';
import { OffsetFileWriter, START_OFFSET_FILE } from '../storage/durable-hint.js';
import { lowestCursorOffset } from '../cursor/tx-cursor.js';
import { indexName, segmentName, type SegmentInfo } from '../segment/segment-files.js';
import type { WriterStats } from './writer-stats.js';
import type { WriterEvent } from './messages.js';

/** The longest the writer sleeps before it re-checks timers and shared state. */
export const MAX_SLEEP_MS = 250;
/** While a transactional cursor holds retention back, how often the writer re-reads the cursors. */
const CURSOR_POLL_MS = 20;

export class Retention {
  /** The segments, oldest first; the last one is the active segment (its info object, updated as it grows). */
  readonly segments: SegmentInfo[];
  /** The bytes of every segment file. */
  private totalBytes: number;
  /**
   * Per segment, as `segments`: the monotonic time of its last frame in this run (of the writer's
   * start for the segments recovery found). Its age on that clock is a lower bound of its real age
   * that keeps growing while the wall clock is behind the frames' clock (stepped back), which holds
   * still until the wall clock passes it again.
   */
  private readonly writtenAtMono: number[];
  /**
   * Per segment, as `segments`: whether its newest frame was written in this run, so that its age on
   * the monotonic clock is its real age. Retention's minimum (blockingMinimumRetention) is judged on
   * that clock alone for those: a wall clock stepped forward makes no record written a moment ago old.
   */
  private readonly writtenInRun: boolean[];
  /** True while deletions must wait: the writer's durable offset is covered but not yet published (durable-publish.ts). */
  held: () => boolean = () => false;
  /** Throws ERR_LOG_CORRUPT when the log directory was removed or replaced under the writer (ActiveSegment.checkLinked): before each deletion. */
  checkLinked: () => void = () => undefined;
  /** start.offset: the log start, recorded before retention deletes what lies below it. */
  private readonly startRecord: OffsetFileWriter;

  constructor(
    private readonly io: FileIO,
    private readonly opts: ResolvedProducerOptions,
    private readonly c: ControlViews,
    private readonly stats: WriterStats,
    private readonly onEvent: (e: WriterEvent) => void,
    segments: SegmentInfo[],
    private readonly now: () => number,
    /** A clock that never steps back and keeps running (performance.now in the writer thread). */
    private readonly monoNow: () => number = () => performance.now(),
  ) {
    this.segments = segments;
    const startMono = monoNow();
    this.writtenAtMono = segments.map(() => startMono);
    this.writtenInRun = segments.map(() => false);
    this.totalBytes = segments.reduce((sum, s) => sum + s.bytes, 0);
    this.startRecord = new OffsetFileWriter(io, opts.logDir, START_OFFSET_FILE);
    this.startRecord.publish(segments[0]!.baseOffset);
    storeOffset(c, I64.LOG_START_OFFSET, segments[0]!.baseOffset);
  }

  /** `bytes` were appended to the active segment. */
  grew(bytes: number): void {
    this.totalBytes += bytes;
    this.writtenAtMono[this.writtenAtMono.length - 1] = this.monoNow();
    this.writtenInRun[this.writtenInRun.length - 1] = true;
  }

  /**
   * The base offset of the segment a roll creates at `writtenOffset`: the end of the one it seals. A
   * gap or an overlap would give records no offset or two, so the roll fails the writer with
   * ERR_INTERNAL instead, before the new segment's file exists.
   */
  nextBase(writtenOffset: number): number {
    const sealed = this.segments[this.segments.length - 1]!;
    if (writtenOffset !== sealed.endOffset) {
      throw internalError(`a roll at written offset ${writtenOffset} would follow ${segmentName(sealed.baseOffset)}, whose records end at offset ${sealed.endOffset}`,
        { file: join(this.opts.logDir, segmentName(sealed.baseOffset)), offset: writtenOffset });
    }
    return writtenOffset;
  }

  /** A roll made `segment` the active one (its header's bytes counted). */
  added(segment: SegmentInfo): void {
    this.segments.push(segment);
    this.writtenAtMono.push(this.monoNow());
    this.writtenInRun.push(true);
    this.totalBytes += segment.bytes;
  }

  /**
   * Deletes whole oldest segments past maxTotalBytes or maxFileAge, oldest first, never the active one,
   * never for bytes alone the newest sealed one when blockingMinimumRetention is null (that one goes
   * for bytes once a newer one is sealed), and never one younger than blockingMinimumRetention. Before each unlink it records the new log start
   * in start.offset (so that recovery completes a deletion a crash or a failed unlink interrupted, and
   * the start never moves back unless a transactional cursor points below it: recovery.ts) and raises LOG_START_OFFSET; it fsyncs the directory after the unlink,
   * so a crash leaves a prefix deleted, never a hole. The start it raises is at most the active
   * segment's base, which the durable offset reached when that segment was created (roll), and it
   * deletes nothing while `held()` (a durable offset waiting for its publication: durable-publish.ts):
   * the log start never passes the published durable offset. Under blockingMinimumRetention the cursors are read before
   * and again after the new start is recorded (deleteOldest).
   */
  apply(incomingBytes = 0): void {
    const { maxTotalBytes, maxFileAge, blockingMinimumRetention } = this.opts;
    if ((maxTotalBytes === null && maxFileAge === null) || this.held()) return;
    const nowMs = this.now();
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      const ageMs = this.oldestAgeMs(nowMs);
      const overBytes = maxTotalBytes !== null && this.totalBytes + incomingBytes > maxTotalBytes;
      const realAgeMs = this.realAgeOf(ageMs);
      const tooOld = maxFileAge !== null && realAgeMs > maxFileAge;
      if (!overBytes && !tooOld) return;
      // Bytes alone never take the newest sealed segment: it holds the newest records outside the
      // active one, and a roll would delete it as it is sealed when it alone comes near maxTotalBytes
      // (a burst framed whole, or maxTotalBytes under 2 x fileRollSize). The log then holds up to that
      // segment and the active one, whatever maxTotalBytes says.
      if (!tooOld && this.segments.length === 2 && blockingMinimumRetention === null) return;
      if (blockingMinimumRetention !== null) {
        if (realAgeMs < blockingMinimumRetention) return;
        // Records a transactional cursor has not committed are protected like young ones.
        if (this.cursorNeeds(oldest)) return;
      }
      if (!this.deleteOldest()) return;
    }
  }

  /** Whether a transactional cursor points below the end of `oldest` (a cursor file that cannot be read counts as 0). */
  private cursorNeeds(oldest: SegmentInfo): boolean {
    const low = lowestCursorOffset(this.io, this.opts.logDir);
    return low !== null && low < oldest.endOffset;
  }

  /**
   * Deletes the oldest segment; false when it is kept after all. Under blockingMinimumRetention the
   * cursors are read again once start.offset names the new start, before anything else moves: a cursor
   * that a reset or a new consumer placed in the segment meanwhile keeps it (start.offset goes back).
   * Those write their cursor first and read start.offset after (cursor-admin.ts, consumer-start.ts),
   * so under any interleaving one of the two sides sees the other.
   */
  private deleteOldest(): boolean {
    const oldest = this.segments[0]!;
    const startOffset = this.segments[1]!.baseOffset;
    // By name: a log directory replaced under the writer would lose a segment of another log.
    this.checkLinked();
    this.startRecord.publish(startOffset);
    if (this.opts.blockingMinimumRetention !== null && this.cursorNeeds(oldest)) {
      this.startRecord.publish(oldest.baseOffset);
      return false;
    }
    storeOffset(this.c, I64.LOG_START_OFFSET, startOffset);
    bump(this.c, I32.START_SEQ);
    try {
      this.io.unlink(join(this.opts.logDir, segmentName(oldest.baseOffset)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') this.checkLinked(); // gone with the directory since the check: say that
      throw e;
    }
    try {
      this.io.unlink(join(this.opts.logDir, indexName(oldest.baseOffset)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    fsyncDir(this.io, this.opts.logDir);
    this.stats.segmentDeleted();
    this.onEvent({ type: 'retention', baseOffset: oldest.baseOffset, endOffset: oldest.endOffset, bytes: oldest.bytes, logStartOffset: startOffset });
    this.segments.shift();
    this.writtenAtMono.shift();
    this.writtenInRun.shift();
    this.totalBytes -= oldest.bytes;
    return true;
  }

  /**
   * The age of the oldest segment's newest record: on the frames' clock (`nowMs`), or on the monotonic
   * clock since its last frame when that says more (a wall clock stepped back freezes the first).
   */
  private oldestAgeMs(nowMs: number): number {
    return Math.max(nowMs - this.segments[0]!.lastTimestampMs, this.monoNow() - this.writtenAtMono[0]!);
  }

  /**
   * The oldest segment's age as maxFileAge and blockingMinimumRetention judge it, from `ageMs`
   * (oldestAgeMs): on the monotonic clock alone when its newest frame was written in this run (its
   * real age, whichever way the wall clock stepped since); else, for a segment recovery found, `ageMs`.
   */
  private realAgeOf(ageMs: number): number {
    return this.writtenInRun[0] ? this.monoNow() - this.writtenAtMono[0]! : ageMs;
  }

  /**
   * Backpressure under blockingMinimumRetention: returns 0 when a frame of `frameBytes` may be written,
   * else how long to wait before the oldest protected segment may be deleted. On close everything left
   * in the ring is written even past maxTotalBytes: those records were accepted by append(). `roll`
   * seals the active segment (it is called when that segment is the only one).
   */
  roomFor(frameBytes: number, roll: () => void): number {
    const { maxTotalBytes, blockingMinimumRetention } = this.opts;
    if (blockingMinimumRetention === null || maxTotalBytes === null) return 0;
    if (this.totalBytes + frameBytes <= maxTotalBytes) return 0;
    const state = Atomics.load(this.c.i32, I32.STATE);
    if (state === State.CLOSING || state === State.FAILED) return 0; // draining: what append() accepted is written
    this.apply(frameBytes);
    if (this.totalBytes + frameBytes <= maxTotalBytes) return 0;
    // With only the active segment there is nothing that could ever be deleted: seal it early so it
    // can age out, and new records go to a fresh segment. A frame that cannot fit even beside an empty
    // segment alone (one record near maxTotalBytes) is written anyway rather than blocking forever: the
    // log then exceeds maxTotalBytes by that one frame.
    if (this.segments.length === 1) {
      const active = this.segments[0]!;
      if (active.endOffset === active.baseOffset) return 0;
      roll();
      // The roll applied retention for no incoming bytes: the segment it sealed may go for this frame.
      // When it went and the frame still does not fit beside the new, empty segment, it is written now.
      this.apply(frameBytes);
      if (this.totalBytes + frameBytes <= maxTotalBytes || this.segments.length === 1) return 0;
    }
    if (this.segments.length > 1) {
      const ageLeftMs = blockingMinimumRetention - this.realAgeOf(this.oldestAgeMs(this.now()));
      // Old enough, yet kept: a transactional cursor holds it. Cursors move without telling the writer,
      // so look again after CURSOR_POLL_MS rather than spinning on the cursor files.
      if (ageLeftMs <= 0) return CURSOR_POLL_MS;
      return Math.max(1, Math.min(MAX_SLEEP_MS, ageLeftMs));
    }
    return MAX_SLEEP_MS;
  }

  close(): void {
    this.startRecord.close();
  }
}
