/**
 * The local engine's side of the seam (log-source.ts): a log directory read through its segment
 * files. In the producer's process the read limit and the wake-ups come from the writer's shared
 * control block; elsewhere from durable.offset and a watch of the directory. The reader is the
 * LogReader itself (no wrapper: its read() is the per-record call).
 */
import { coded } from '../admin/admin-dir.js';
import { lagBehind } from '../admin/inspect.js';
import type { CursorLag } from '../types.js';
import { localProducer } from '../producer/registry.js';
import { LogReader } from '../reader/log-reader.js';
import { checkDirIdentity, dirIdentityOf, sameDir, type DirIdentity } from '../reader/dir-identity.js';
import { readLogBounds } from '../reader/log-bounds.js';
import { endSeq, endSlots, publishedEnd, writerPublishing, type ControlViews, type Visibility } from '../ring/layout.js';
import { writerFramesOf } from '../ring/writer-frames.js';
import type { WriterFrames } from '../reader/reader-contracts.js';
import { readDurableHintSettled } from '../storage/durable-hint.js';
import type { FileIO } from '../storage/file-io.js';
import { holdReaders, type ReadersLock } from '../storage/readers-lock.js';
import type { LogSource, ReadLimit, RecordReader } from './log-source.js';
import type { EndSource } from './pool-protocol.js';
import type { AheadOfWritten } from './start-plan.js';
import { Waiter } from './waiter.js';

export { dirIdentityOf, type DirIdentity } from '../reader/dir-identity.js';

export class LocalSource implements LogSource {
  readonly synchronous = true;
  readonly supportsPools = true;
  private readonly waiter: Waiter;
  private closed = false;

  constructor(
    private readonly io: FileIO,
    /** The real path of the log directory. */
    readonly logId: string,
    private readonly visibility: Visibility,
    pollIntervalMs: number,
    /** A `latest` start past the written end of this process's producer, until that producer stops. */
    private ahead: AheadOfWritten | null = null,
    /** The reader's shared lock on durable.offset (readers-lock.ts), released on close; not held yet: see lockLate(). */
    private readers: ReadersLock | null = null,
    /** The log directory's device and inode at the open, dirIdentityOf (null when the file layer cannot tell). */
    readonly dirIdentity: DirIdentity = dirIdentityOf(io, logId),
  ) {
    this.waiter = new Waiter(logId, pollIntervalMs);
  }

  readLimit(reader: RecordReader): ReadLimit {
    this.lockLate();
    const c = this.sharedControl();
    if (this.ahead !== null && c !== this.ahead.views) this.aimAtWrittenEnd(reader, this.ahead);
    if (reader instanceof LogReader) reader.writer = c === null ? null : this.writerFrames;
    if (c !== null) return { limitOffset: publishedEnd(c, this.visibility), strict: true };
    if (this.visibility === 'written') return { limitOffset: Infinity, strict: false };
    // Read again when torn: taken for nextOffset, it would read as "nothing to read" and lag() as zero.
    return { limitOffset: readDurableHintSettled(this.io, this.logId) ?? reader.nextOffset, strict: false };
  }

  /**
   * Reading the files without this process's writer (`visibility: 'written'`, no offset to stop at):
   * the reader stops at the end of the files when a nonblocking call starts (LogReader.fixEnd).
   */
  fixEnd(reader: RecordReader, fixed: boolean): void {
    if (!(reader instanceof LogReader)) return;
    reader.fixEnd(fixed && this.visibility === 'written' && this.sharedControl() === null);
  }

  /**
   * A nonblocking call or `iter()` at the end of what it could read: nothing to fetch. The end is
   * judged in the files at the path, so the directory is checked there (checkDir): one replaced by a
   * shorter log has no record past this one's offset, and would read as "nothing new" until it grew.
   */
  fill(): false {
    if (this.sharedControl() === null) this.checkDir();
    return false;
  }

  async wait(reader: RecordReader, afterOffset: number, signal: AbortSignal | undefined): Promise<void> {
    const c = this.sharedControl();
    if (c !== null) {
      const seen = endSeq(c, this.visibility); // before the limit: an end published in between is not missed
      // A writer that stopped publishing since (closed, failed) bumps this block no more: the caller
      // looks again, and waits on the files. It stores its state before its last bump, so a wait on a
      // counter read before that bump returns at once, and one read after it sees the state here.
      if (!writerPublishing(c) || publishedEnd(c, this.visibility) > afterOffset) return;
      await this.waiter.onShared(c.i32, endSlots(this.visibility).seqSlot, seen, signal);
    } else {
      this.checkDir();
      await this.waiter.onFiles(signal);
      // Again before the files are read on: a directory replaced during the wait holds another log.
      if (!this.closed && signal?.aborted !== true) this.checkDir();
    }
  }

  /**
   * Around each wait on the files: the log directory removed (rm -rf) or renamed away fails the wait
   * with ERR_IO naming it, as a read of the directory does, never a wait for records that cannot come.
   * A consumer reading only what is durable reads no file at its end (durable.offset missing reads as
   * "no hint"), so nothing else would notice. So does another directory at the path (the log removed
   * and created again: another device or inode than at the open): its records are another log's, and
   * its offsets would read on from this one's as if nothing had happened.
   */
  private checkDir(): void {
    checkDirIdentity(this.io, this.logId, this.dirIdentity);
  }

  disarm(): void {
    this.waiter.disarm();
  }

  stopWaiting(): void {
    this.waiter.close();
  }

  /** An end read in the files (durable.offset, or the segments) is checked to be this log's (checkDir), as lag() is. */
  availableEndOffset(reader: RecordReader): number {
    const b = this.readLimit(reader);
    const end = b.limitOffset !== Infinity ? b.limitOffset : readLogBounds(this.io, this.logId).end;
    if (this.sharedControl() === null) this.checkDir();
    return end;
  }

  /**
   * A failed read of the directory or a segment header is ERR_IO (ERR_DISK_FULL), never a plain Error.
   * The directory is checked after the reads (checkDir): figures read in another log at the path are not this one's.
   */
  lag(nextOffset: number, endOffset: number): CursorLag {
    const lag = coded('measuring the lag', () => lagBehind(this.io, this.logId, nextOffset, endOffset));
    this.checkDir();
    return lag;
  }

  poolWindowBytes(): null {
    return null; // the workers read the segment files
  }

  endSource(): EndSource | null {
    this.lockLate();
    const c = this.sharedControl();
    if (c === null) return null;
    return { control: c.i32.buffer as SharedArrayBuffer, ...endSlots(this.visibility), strict: true, writerFrames: this.writerFrames !== null };
  }

  close(): void {
    this.closed = true;
    try {
      this.waiter.close();
    } finally {
      this.readers?.release();
    }
  }

  /**
   * A consumer opened while the log had no durable.offset (no producer had written it yet) holds no
   * readers lock: it takes it here, at a look at the end of the log, once the file is there, so that
   * from then on no repair cuts the log under its position (ERR_LOG_LOCKED while one runs now).
   */
  private lockLate(): void {
    if (this.readers === null || this.readers.held || this.closed) return;
    this.readers = holdReaders(this.logId, this.logId, false);
  }

  /**
   * The producer a `latest` start aimed past the written end of stopped (AheadOfWritten): records it
   * had not written are lost, and the offsets past its written end hold records appended since, after
   * the open. The reader, still aiming past that end (nothing was handed out from there), goes back to it.
   */
  private aimAtWrittenEnd(reader: RecordReader, ahead: AheadOfWritten): void {
    this.ahead = null;
    const end = publishedEnd(ahead.views, 'written');
    if (reader instanceof LogReader && reader.nextOffset > end) reader.seek(end);
  }

  /**
   * In the producer's process while it runs: its control block, else null (tail the files). A
   * producer found by the path is the log's own only while the path names the directory of the open:
   * checked (checkDir) whenever another producer than the last one appears, so a consumer whose
   * directory was replaced by another log, opened by a producer of this process, fails with ERR_IO
   * instead of reading on in that log from this one's offsets. And only while the producer's own
   * directory is the consumer's: a producer whose directory was moved away from the path before this
   * consumer opened another log there says nothing of that log (its files are tailed).
   */
  private sharedControl(): ControlViews | null {
    const p = localProducer(this.logId);
    if (p === undefined || !writerPublishing(p.views)) return null;
    if (p.views !== this.producerSeen) {
      this.checkDir();
      this.producerSeen = p.views;
      const same = sameDir(p.dirIdentity, this.dirIdentity);
      this.producerElsewhere = same === false;
      // Frames on the writer's word only when its directory is known to be this one.
      this.writerFrames = same === true ? writerFramesOf(p.views) : null;
    }
    return this.producerElsewhere ? null : p.views;
  }

  /** The control block of the last producer sharedControl found (checked against the directory's identity). */
  private producerSeen: ControlViews | null = null;
  /** That producer's directory is not this consumer's (another device or inode). */
  private producerElsewhere = false;
  /** Its writer, as the reader sees it (frames it wrote lately need no new check: SegmentFile.checkFrame). */
  private writerFrames: WriterFrames | null = null;
}
