/**
 * The writer loop, run by the dedicated writer thread (workers/writer.ts). It owns the active segment
 * file: it drains the ring in batches, frames each batch, writes it with one positional writev straight
 * from the ring, fsyncs per the sync policy, rolls segments, applies retention, and publishes
 * WRITTEN_OFFSET and DURABLE_OFFSET in shared memory.
 *
 * Not thread-safe by design: exactly one LogWriter runs per log directory (the producer lock ensures it).
 * Every wait is bounded (MAX_SLEEP_MS) and re-checks the shared state.
 *
 * The write half of the pair assertion: every record it takes from the ring must end at or before the
 * published HEAD, and every frame it builds is checked (checkBuiltFrame, record count, base offset)
 * before it is written; a failed check is a bug, thrown as ERR_INTERNAL, and nothing of that frame
 * reaches the file.
 */
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, FRAME_TRAILER_BYTES, checkBuiltFrame, fillFrameHeader, headerCrc,
} from '../format/frame.js';
import { internalError, type LogError } from '../errors.js';
import type { ResolvedProducerOptions } from '../producer/options.js';
import {
  I32, I64, RECORD_HEADER_BYTES, State, WRAP_MARKER, bump, controlViews, loadOffset, storeOffset,
  type ControlViews, type SharedLog,
} from '../ring/layout.js';
import { fsyncDir, writeAll, type FileIO } from '../storage/file-io.js';
import { lowestCursorOffset } from '../cursor/tx-cursor.js';
import { DurableHintWriter, OffsetFileWriter, START_OFFSET_FILE } from '../storage/durable-hint.js';
import { encodeIndexEntries } from '../segment/offset-index.js';
import { RECORD_LENGTH_MASK } from '../format/frame.js';
import { type RecoveredLog } from '../storage/recovery.js';
import { indexName, segmentName, createSegment, type SegmentInfo } from '../segment/segment-files.js';

/** The longest the writer sleeps before it re-checks timers and shared state. */
const MAX_SLEEP_MS = 250;
/** While a transactional cursor holds retention back, how often the writer re-reads the cursors. */
const CURSOR_POLL_MS = 20;
/** Under `always`, one group commit covers at most this many bytes before its fsync. */
const MAX_GROUP_BYTES = 16 * 1024 * 1024;

export class LogWriter {
  private readonly c: ControlViews;
  private readonly ring: Uint8Array;
  private readonly ringView: DataView;
  private readonly mask: number;
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly trailer = new Uint8Array(FRAME_TRAILER_BYTES);
  private readonly trailerView = new DataView(this.trailer.buffer);

  private tail: number; // ring byte counter (mod 2^32) up to which bytes are written to the file
  private fd: number;
  private indexFd: number;
  private readonly segments: SegmentInfo[];
  private totalBytes: number;
  private position: number; // write position in the active segment
  private durablePosition: number; // every byte of the active segment below this is fsynced
  private written: number; // WRITTEN_OFFSET, mirrored
  private durable: number; // DURABLE_OFFSET, mirrored
  private lastIndexedPosition: number;
  private bytesSinceSync = 0;
  private lastSyncMs: number;

  constructor(
    private readonly io: FileIO,
    private readonly opts: ResolvedProducerOptions,
    shared: SharedLog,
    recovered: RecoveredLog,
    private readonly now: () => number = Date.now,
  ) {
    this.c = controlViews(shared.control);
    this.ring = new Uint8Array(shared.ring);
    this.ringView = new DataView(shared.ring);
    this.mask = shared.ring.byteLength - 1;
    this.tail = Atomics.load(this.c.i32, I32.TAIL) >>> 0;
    this.segments = recovered.segments;
    const active = this.active();
    this.totalBytes = this.segments.reduce((sum, s) => sum + s.bytes, 0);
    this.position = active.bytes;
    this.durablePosition = active.bytes; // recovery fsynced the active segment
    this.written = recovered.nextOffset;
    this.durable = recovered.nextOffset;
    const positions = recovered.activeIndex.positions;
    this.lastIndexedPosition = positions.length > 0 ? positions[positions.length - 1]! : this.position;
    this.fd = io.open(join(opts.logDir, segmentName(active.baseOffset)), 'r+');
    this.indexFd = io.open(join(opts.logDir, indexName(active.baseOffset)), 'r+');
    this.hint = new DurableHintWriter(io, opts.logDir);
    this.hint.publish(this.durable);
    this.startRecord = new OffsetFileWriter(io, opts.logDir, START_OFFSET_FILE);
    this.startRecord.publish(this.segments[0]!.baseOffset);
    this.indexEntries = recovered.activeIndex.offsets.length;
    this.lastSyncMs = now();
    storeOffset(this.c, I64.WRITTEN_OFFSET, this.written);
    storeOffset(this.c, I64.DURABLE_OFFSET, this.durable);
    storeOffset(this.c, I64.LOG_START_OFFSET, this.segments[0]!.baseOffset);
  }

  private active(): SegmentInfo {
    return this.segments[this.segments.length - 1]!;
  }

  /** Runs until close() is requested and everything is drained and fsynced. Throws on I/O failure. */
  run(): void {
    const i32 = this.c.i32;
    for (;;) {
      const head = Atomics.load(i32, I32.HEAD) >>> 0;
      if (head !== this.tail) {
        const blockedMs = this.writeGroup(head);
        if (blockedMs > 0) this.sleep(blockedMs, true);
        continue;
      }
      this.syncIfDue();
      this.applyRetention();
      if (Atomics.load(i32, I32.STATE) === State.CLOSING && (Atomics.load(i32, I32.HEAD) >>> 0) === this.tail) {
        this.finish();
        return;
      }
      this.sleep(this.sleepBudgetMs());
    }
  }

  /**
   * One pass without sleeping: write what the ring holds now, sync if the policy (or a flush request)
   * says so, apply retention. For drivers that run a writer in-process step by step (the power-loss
   * simulation in test/); the writer thread uses run().
   */
  pump(): void {
    for (;;) {
      const head = Atomics.load(this.c.i32, I32.HEAD) >>> 0;
      if (head === this.tail || this.writeGroup(head) > 0) break;
    }
    this.syncIfDue();
    this.applyRetention();
  }

  /**
   * Sleeps until woken or `ms` pass, unless work arrived meanwhile (see I32.WRITER_WAKE). `blocked`:
   * records are waiting but retention holds them back, so sleep even though the ring is not empty.
   */
  private sleep(ms: number, blocked = false): void {
    const i32 = this.c.i32;
    Atomics.store(i32, I32.WRITER_SLEEPING, 1);
    const wake = Atomics.load(i32, I32.WRITER_WAKE);
    const idle = (blocked || (Atomics.load(i32, I32.HEAD) >>> 0) === this.tail)
      && Atomics.load(i32, I32.STATE) === State.RUNNING
      && loadOffset(this.c, I64.FLUSH_TARGET) <= this.durable;
    if (idle) Atomics.wait(i32, I32.WRITER_WAKE, wake, ms);
    Atomics.store(i32, I32.WRITER_SLEEPING, 0);
  }

  private sleepBudgetMs(): number {
    const p = this.opts.syncPolicy;
    if (p.kind === 'periodic' && this.durable < this.written) {
      return Math.max(1, Math.min(MAX_SLEEP_MS, this.lastSyncMs + p.intervalMs - this.now()));
    }
    return MAX_SLEEP_MS;
  }

  /**
   * Writes batches until the ring holds no more than was there at the start (or MAX_GROUP_BYTES), then
   * syncs per the policy. Returns a wait in ms when retention blocks writing (backpressure), else 0.
   */
  private writeGroup(head: number): number {
    let groupBytes = 0;
    while (this.tail !== head && groupBytes < MAX_GROUP_BYTES) {
      const frame = this.nextBatch(head);
      if (frame.count === 0) continue; // only skipped bytes before the ring's end; already released
      const blockedMs = this.roomFor(frame.frameBytes);
      if (blockedMs > 0) {
        // Make what is written durable: a transactional consumer (which reads durable records only)
        // can then catch up and commit, which is what lets retention free space again.
        this.sync();
        Atomics.store(this.c.i32, I32.RETENTION_BLOCKED, 1);
        return blockedMs;
      }
      Atomics.store(this.c.i32, I32.RETENTION_BLOCKED, 0);
      this.writeFrame(frame);
      groupBytes += frame.frameBytes;
      if (this.position >= this.opts.fileRollSize) this.roll();
      else if (this.opts.syncPolicy.kind === 'everyBytes') this.syncIfDue();
    }
    const p = this.opts.syncPolicy;
    if (p.kind === 'always') this.sync();
    else this.syncIfDue();
    return 0;
  }

  private batchSlices: Uint8Array[] = [];

  /** Walks whole records from the tail up to maxBatchBytes (at least one record). */
  private nextBatch(head: number): { frameBytes: number; count: number; end: number } {
    const size = this.mask + 1;
    const slices = this.batchSlices;
    slices.length = 0;
    let pos = this.tail;
    let count = 0;
    let bodyBytes = 0;
    let sliceStart = -1;
    let sliceLen = 0;
    while (pos !== head) {
      const idx = pos & this.mask;
      const room = size - idx;
      let len = room < RECORD_HEADER_BYTES ? WRAP_MARKER : this.ringView.getUint32(idx, true);
      if (len === WRAP_MARKER) {
        // Skip to the ring's start: close the slice, never store the marker.
        if (sliceLen > 0) slices.push(this.ring.subarray(sliceStart, sliceStart + sliceLen));
        sliceStart = -1;
        sliceLen = 0;
        pos = (pos + room) >>> 0;
        if (count === 0) this.release(pos); // nothing framed yet: give the skipped bytes back
        continue;
      }
      len = (len & RECORD_LENGTH_MASK) + RECORD_HEADER_BYTES; // bit 31 flags an attribute block (format 2)
      // The producer publishes HEAD after whole records: a length reaching past it is a broken ring.
      if (len > ((head - pos) >>> 0)) throw ringOverrun(pos, len, head);
      if (count > 0 && bodyBytes + len > this.opts.maxBatchBytes) break;
      if (sliceStart >= 0 && sliceStart + sliceLen !== idx) {
        // The previous record ended exactly at the ring's end: this one starts a new slice at index 0.
        slices.push(this.ring.subarray(sliceStart, sliceStart + sliceLen));
        sliceStart = -1;
        sliceLen = 0;
      }
      if (sliceStart < 0) sliceStart = idx;
      sliceLen += len;
      bodyBytes += len;
      count++;
      pos = (pos + len) >>> 0;
    }
    if (sliceLen > 0) slices.push(this.ring.subarray(sliceStart, sliceStart + sliceLen));
    return { frameBytes: bodyBytes + FRAME_OVERHEAD_BYTES, count, end: pos };
  }

  private writeFrame(frame: { frameBytes: number; count: number; end: number }): void {
    const ts = this.now();
    fillFrameHeader(this.headerView, frame.frameBytes, frame.count, this.written, ts, this.durablePosition);
    let crc = headerCrc(this.header);
    for (const s of this.batchSlices) crc = crc32(s, crc);
    this.headerView.setUint32(4, crc, true);
    this.trailerView.setUint32(0, frame.frameBytes, true);
    this.checkFrame(frame.count);
    const at = this.position;
    writeAll(this.io, this.fd, [this.header, ...this.batchSlices, this.trailer], at);
    this.position += frame.frameBytes;
    this.totalBytes += frame.frameBytes;
    this.bytesSinceSync += frame.frameBytes;
    const active = this.active();
    active.bytes = this.position;
    active.endOffset += frame.count;
    active.lastTimestampMs = ts;
    if (at - this.lastIndexedPosition >= this.opts.indexIntervalBytes) {
      writeAll(this.io, this.indexFd, [encodeIndexEntries([this.written], [at])], this.indexBytes());
      this.lastIndexedPosition = at;
      this.indexEntries++;
    }
    // The bytes are in the file: give the ring space back, then publish the new written offset.
    this.release(frame.end);
    this.written += frame.count;
    storeOffset(this.c, I64.WRITTEN_OFFSET, this.written);
    bump(this.c, I32.WRITTEN_SEQ);
  }

  /** The frame in `header`, `batchSlices` and `trailer` is what a reader will accept, for `count` records from `written`. */
  private checkFrame(count: number): void {
    // A plain branch, not assertInvariant: this runs once per frame and must allocate nothing when it holds.
    const problem = checkBuiltFrame(this.header, this.batchSlices, this.trailer, count, this.written);
    if (problem !== null) throw internalError(`the writer built a bad frame at offset ${this.written}: ${problem}`, { offset: this.written });
  }

  private indexEntries = 0;
  private readonly hint: DurableHintWriter;
  /** start.offset: the log start, recorded before retention deletes what lies below it. */
  private readonly startRecord: OffsetFileWriter;
  private indexBytes(): number {
    return this.indexEntries * 16;
  }

  private release(tail: number): void {
    this.tail = tail;
    Atomics.store(this.c.i32, I32.TAIL, tail | 0);
    if (Atomics.load(this.c.i32, I32.PRODUCER_WAITING) !== 0) Atomics.notify(this.c.i32, I32.TAIL);
  }

  private syncIfDue(): void {
    if (this.durable >= this.written) return;
    const p = this.opts.syncPolicy;
    const flushWanted = loadOffset(this.c, I64.FLUSH_TARGET) > this.durable;
    const due = flushWanted
      || (p.kind === 'periodic' && this.now() - this.lastSyncMs >= p.intervalMs)
      || (p.kind === 'everyBytes' && this.bytesSinceSync >= p.bytes)
      || Atomics.load(this.c.i32, I32.STATE) === State.CLOSING;
    if (due) this.sync();
  }

  /** fdatasync the active segment, then publish: invariant 1, durable only after the fsync returned. */
  private sync(): void {
    if (this.durable >= this.written && this.durablePosition >= this.position) return;
    this.io.fdatasync(this.fd);
    this.durablePosition = this.position;
    this.markDurable();
  }

  private markDurable(): void {
    this.publishDurable();
    bump(this.c, I32.DURABLE_SEQ);
  }

  /** Publishes the written offset as durable (durable.offset, then shared memory) without waking waiters. */
  private publishDurable(): void {
    this.durable = this.written;
    this.hint.publish(this.durable);
    this.bytesSinceSync = 0;
    this.lastSyncMs = this.now();
    storeOffset(this.c, I64.DURABLE_OFFSET, this.durable);
  }

  /**
   * Roll: fsync the full segment and its index, create the next segment whole (header fsynced under a
   * temporary name, renamed into place, directory fsynced: createSegment), and only then write into it.
   * A crash at any point leaves the old segment as the newest, perhaps with the new one's temporary file
   * (recovery removes it), or a whole empty new segment.
   */
  private roll(): void {
    this.io.fdatasync(this.fd);
    this.io.fdatasync(this.indexFd);
    this.closeFiles();
    const base = this.written;
    const nowMs = this.now();
    createSegment(this.io, this.opts.logDir, base, nowMs);
    this.segments.push({ baseOffset: base, endOffset: base, bytes: 0, lastTimestampMs: nowMs });
    this.fd = this.io.open(join(this.opts.logDir, segmentName(base)), 'r+');
    this.indexFd = this.io.open(join(this.opts.logDir, indexName(base)), 'r+');
    this.position = this.io.fsize(this.fd);
    this.active().bytes = this.position;
    this.totalBytes += this.position;
    this.durablePosition = this.position;
    this.lastIndexedPosition = this.position;
    this.indexEntries = 0;
    // Everything written is durable since the fdatasync above. Published before retention runs: the
    // log start it raises (up to this new segment's base) must never pass the durable offset, in shared
    // memory or in durable.offset, or a transactional consumer opening meanwhile (here or in another
    // process) finds a log whose start lies past its durable end. Waiters are woken after retention
    // (ROLL_PENDING holds flush() until then), so whoever awaited durability sees the roll and its
    // retention done.
    Atomics.store(this.c.i32, I32.ROLL_PENDING, 1);
    this.publishDurable();
    this.applyRetention();
    Atomics.store(this.c.i32, I32.ROLL_PENDING, 0);
    bump(this.c, I32.DURABLE_SEQ);
  }

  /**
   * Deletes whole oldest segments past maxTotalBytes or maxFileAge, oldest first, never the active one,
   * and never one younger than blockingMinimumRetention. Before each unlink it records the new log start
   * in start.offset (so that recovery completes a deletion a crash or a failed unlink interrupted, and
   * the start never moves back) and raises LOG_START_OFFSET; it fsyncs the directory after the unlink,
   * so a crash leaves a prefix deleted, never a hole. The start it raises
   * is at most the active segment's base, which the durable offset reached when that segment was
   * created (roll): the log start never passes the durable offset.
   */
  private applyRetention(incomingBytes = 0): void {
    const { maxTotalBytes, maxFileAge, blockingMinimumRetention } = this.opts;
    if (maxTotalBytes === null && maxFileAge === null) return;
    const nowMs = this.now();
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      const ageMs = nowMs - oldest.lastTimestampMs;
      const overBytes = maxTotalBytes !== null && this.totalBytes + incomingBytes > maxTotalBytes;
      const tooOld = maxFileAge !== null && ageMs > maxFileAge;
      if (!overBytes && !tooOld) return;
      if (blockingMinimumRetention !== null) {
        if (ageMs < blockingMinimumRetention) return;
        // Records a transactional cursor has not committed are protected like young ones.
        const low = lowestCursorOffset(this.io, this.opts.logDir);
        if (low !== null && low < oldest.endOffset) return;
      }
      const start = this.segments[1]!.baseOffset;
      this.startRecord.publish(start);
      storeOffset(this.c, I64.LOG_START_OFFSET, start);
      bump(this.c, I32.START_SEQ);
      this.io.unlink(join(this.opts.logDir, segmentName(oldest.baseOffset)));
      try {
        this.io.unlink(join(this.opts.logDir, indexName(oldest.baseOffset)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      fsyncDir(this.io, this.opts.logDir);
      this.segments.shift();
      this.totalBytes -= oldest.bytes;
    }
  }

  /**
   * Backpressure under blockingMinimumRetention: returns 0 when a frame of `frameBytes` may be written,
   * else how long to wait before the oldest protected segment may be deleted. On close everything left
   * in the ring is written even past maxTotalBytes: those records were accepted by append().
   */
  private roomFor(frameBytes: number): number {
    const { maxTotalBytes, blockingMinimumRetention } = this.opts;
    if (blockingMinimumRetention === null || maxTotalBytes === null) return 0;
    if (this.totalBytes + frameBytes <= maxTotalBytes) return 0;
    if (Atomics.load(this.c.i32, I32.STATE) === State.CLOSING) return 0;
    this.applyRetention(frameBytes);
    if (this.totalBytes + frameBytes <= maxTotalBytes) return 0;
    // With only the active segment there is nothing that could ever be deleted: seal it early so it
    // can age out, and new records go to a fresh segment. A frame that cannot fit even beside an empty
    // segment alone (one record near maxTotalBytes) is written anyway rather than blocking forever: the
    // log then exceeds maxTotalBytes by that one frame.
    if (this.segments.length === 1) {
      if (this.active().endOffset === this.active().baseOffset) return 0;
      this.roll();
    }
    if (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      const ageLeftMs = oldest.lastTimestampMs + blockingMinimumRetention - this.now();
      // Old enough, yet kept: a transactional cursor holds it. Cursors move without telling the writer,
      // so look again after CURSOR_POLL_MS rather than spinning on the cursor files.
      if (ageLeftMs <= 0) return CURSOR_POLL_MS;
      return Math.max(1, Math.min(MAX_SLEEP_MS, ageLeftMs));
    }
    return MAX_SLEEP_MS;
  }

  /** Close: everything is drained (the caller checked); fsync data and index, close the files. */
  private finish(): void {
    this.sync();
    this.io.fdatasync(this.indexFd);
    this.closeFiles();
    this.hint.close();
    this.startRecord.close();
    Atomics.store(this.c.i32, I32.STATE, State.CLOSED);
    bump(this.c, I32.WRITTEN_SEQ);
    bump(this.c, I32.DURABLE_SEQ);
  }

  /**
   * Closes the segment and index descriptors and forgets them at once: a descriptor number is reused
   * by the next open anywhere in the process, so closing one twice (abandon after a failed roll) would
   * close somebody else's file.
   */
  private closeFiles(): void {
    const fd = this.fd;
    const indexFd = this.indexFd;
    this.fd = -1;
    this.indexFd = -1;
    try {
      if (fd >= 0) this.io.close(fd);
    } finally {
      if (indexFd >= 0) this.io.close(indexFd);
    }
  }

  /** After a failure: close what is still open, ignoring further errors. The state says FAILED. */
  abandon(): void {
    try { this.closeFiles(); } catch { /* already failed */ }
    try { this.hint.close(); } catch { /* already failed */ }
    try { this.startRecord.close(); } catch { /* already failed */ }
  }
}

/** A record in the ring whose length reaches past the published HEAD: only a bug can do that. */
function ringOverrun(pos: number, len: number, head: number): LogError {
  return internalError(`a ring record of ${len} bytes at ring position ${pos} reaches past the published head ${head}`);
}
