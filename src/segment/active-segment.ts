/**
 * The active segment: the one segment the writer appends to. It owns the segment's data and index
 * descriptors, where the next frame goes (`endPosition`), what is fsynced (`durablePosition`), and the
 * sparse index: one entry, `INDEX_ENTRY_BYTES` long, for the first frame past every
 * `indexIntervalBytes`. Like Kafka's OffsetIndex it checks its own invariant on every index append:
 * entries strictly increasing in offset and in position, above the segment's base offset and header,
 * each at `entries * INDEX_ENTRY_BYTES` in the index file. A broken invariant is ERR_INTERNAL.
 *
 * Not thread-safe: only the writer thread (src/writer/log-writer.ts) holds one. A roll seals the
 * active segment and creates the next (`ActiveSegment.create`).
 */
import { join } from 'node:path';
import { ErrorCode, LogError, internalError } from '../errors.js';
import { INDEX_ENTRY_BYTES, SEGMENT_HEADER_BYTES } from '../format/frame.js';
import { writeAll, type FileIO } from '../storage/file-io.js';
import { ReusedArrays } from '../storage/reused-arrays.js';
import { encodeIndexEntries, type IndexEntries } from './offset-index.js';
import { createSegment, indexName, segmentName, type SegmentInfo } from './segment-files.js';

export class ActiveSegment {
  /** The data file's path. */
  readonly path: string;
  private fd: number;
  private indexFd: number;
  /** The file position the next frame is written at: the segment's size. */
  private endPosition: number;
  /** Every byte of the segment below this is fsynced. */
  private durablePosition: number;
  /** Position of the frame the last index entry was made for, or where indexing starts counting. */
  private lastIndexedPosition: number;
  /** The last entry in the index file (its offset and position), or the segment's base and header. */
  private lastEntryOffset: number;
  private lastEntryPosition: number;
  private indexEntries: number;
  /** A frame's header, body slices and trailer, for its writev (no array made per frame). */
  private readonly iovs = new ReusedArrays<Uint8Array>();

  /**
   * Takes over segment `info` of `dir`, whose files exist and are whole up to `info.bytes` and fsynced
   * (recovery, or createSegment), with the index entries `index` already in its index file.
   */
  constructor(
    private readonly io: FileIO,
    dir: string,
    readonly info: SegmentInfo,
    index: IndexEntries,
    private readonly indexIntervalBytes: number,
  ) {
    const n = index.offsets.length;
    this.endPosition = info.bytes;
    this.durablePosition = info.bytes;
    // Recovery rebuilt the entries by the same rule, counting from the header while there is none: so
    // does the writer (counting from the segment's end left a stretch of up to twice the interval
    // without an entry after a reopen).
    this.lastIndexedPosition = n > 0 ? index.positions[n - 1]! : SEGMENT_HEADER_BYTES;
    this.lastEntryOffset = n > 0 ? index.offsets[n - 1]! : info.baseOffset;
    this.lastEntryPosition = n > 0 ? index.positions[n - 1]! : SEGMENT_HEADER_BYTES;
    this.indexEntries = n;
    this.path = join(dir, segmentName(info.baseOffset));
    this.fd = io.open(this.path, 'r+');
    try {
      this.indexFd = io.open(join(dir, indexName(info.baseOffset)), 'r+');
    } catch (e) {
      io.close(this.fd);
      throw e;
    }
  }

  /** Creates segment `baseOffset` whole (createSegment: header fsynced, renamed, directory fsynced) and opens it. */
  static create(io: FileIO, dir: string, baseOffset: number, nowMs: number, indexIntervalBytes: number): ActiveSegment {
    createSegment(io, dir, baseOffset, nowMs);
    const info: SegmentInfo = { baseOffset, endOffset: baseOffset, bytes: SEGMENT_HEADER_BYTES, lastTimestampMs: nowMs };
    const segment = new ActiveSegment(io, dir, info, { offsets: [], positions: [] }, indexIntervalBytes);
    const size = io.fsize(segment.fd);
    segment.endPosition = size;
    segment.durablePosition = size;
    segment.lastIndexedPosition = size;
    info.bytes = size;
    return segment;
  }

  /** The segment's size in bytes: where the next frame goes. */
  get sizeBytes(): number {
    return this.endPosition;
  }

  /** Every byte below this position is fsynced (a frame header records it: see findValidFrameAfter). */
  get durableBytes(): number {
    return this.durablePosition;
  }

  /** The data file's descriptor (the write-behind opens the same file through /proc/self/fd). */
  get dataFd(): number {
    return this.fd;
  }

  /** Whether bytes were written since the last fsync. */
  get unsynced(): boolean {
    return this.durablePosition < this.endPosition;
  }

  /**
   * Appends one frame, `frameBytes` long, holding records `baseOffset` to `baseOffset + recordCount - 1`
   * stamped `timestampMs`: its header, the body slices and its trailer in one positional writev, then an
   * index entry if `indexIntervalBytes` passed since the last one.
   */
  appendFrame(
    header: Uint8Array, slices: readonly Uint8Array[], trailer: Uint8Array,
    frameBytes: number, baseOffset: number, recordCount: number, timestampMs: number,
  ): void {
    const framePosition = this.endPosition;
    const n = slices.length;
    const iov = this.iovs.of(n + 2);
    iov[0] = header;
    for (let i = 0; i < n; i++) iov[i + 1] = slices[i]!;
    iov[n + 1] = trailer;
    writeAll(this.io, this.fd, iov, framePosition);
    this.endPosition += frameBytes;
    const info = this.info;
    info.bytes = this.endPosition;
    info.endOffset += recordCount;
    info.lastTimestampMs = timestampMs;
    if (framePosition - this.lastIndexedPosition >= this.indexIntervalBytes) this.appendIndexEntry(baseOffset, framePosition);
  }

  /** Appends index entry (`offset`, `position`) after checking the index's invariant. */
  private appendIndexEntry(offset: number, position: number): void {
    if (offset <= this.lastEntryOffset || position <= this.lastEntryPosition) {
      throw internalError(`index entry (offset ${offset}, position ${position}) does not follow (offset ${this.lastEntryOffset}, position ${this.lastEntryPosition}) in ${indexName(this.info.baseOffset)}`,
        { offset, position });
    }
    const indexPosition = this.indexEntries * INDEX_ENTRY_BYTES;
    writeAll(this.io, this.indexFd, [encodeIndexEntries([offset], [position])], indexPosition);
    this.indexEntries++;
    this.lastIndexedPosition = position;
    this.lastEntryOffset = offset;
    this.lastEntryPosition = position;
  }

  /**
   * fdatasync the data file, then check that it is still the log's file (checkLinked): every byte
   * written so far is durable, in the log directory, when it returns.
   */
  sync(): void {
    this.io.fdatasync(this.fd);
    this.checkLinked();
    this.durablePosition = this.endPosition;
  }

  /**
   * Throws ERR_LOG_CORRUPT unless the segment's path still names the file open here (same device and
   * inode): the log directory or the segment file was removed, renamed or replaced under the producer,
   * and what the writer wrote through its descriptor is in no file of the log. A failed check is
   * ERR_IO. An fstat and a stat: the writer makes it after each fdatasync and at close, never per append.
   */
  checkLinked(): void {
    let linked: boolean;
    try {
      linked = this.io.isSameFile(this.fd, this.path);
    } catch (e) {
      throw LogError.fromSystem(e, 'checking that the active segment is still in the log directory', this.path);
    }
    if (!linked) {
      throw new LogError(ErrorCode.LOG_CORRUPT,
        `${this.path} is no longer the active segment's file: the log directory or the file was removed, renamed or replaced while the producer had it open; records written to it since its last check are in no file of the log`,
        { file: this.path });
    }
  }

  /** fdatasync the index file (its entries are derived data: recovery rebuilds what a crash lost). */
  syncIndex(): void {
    this.io.fdatasync(this.indexFd);
  }

  /** Before a roll: fdatasync the data and the index, then close both. */
  seal(): void {
    this.sync();
    this.syncIndex();
    this.close();
  }

  /**
   * Closes the data and index descriptors and forgets them at once: a descriptor number is reused by
   * the next open anywhere in the process, so closing one twice (abandon after a failed roll) would
   * close somebody else's file.
   */
  close(): void {
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
}
