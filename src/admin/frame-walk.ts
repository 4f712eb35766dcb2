/**
 * Frame headers of one segment, read without reading records: the cheap reads `inspectLog` makes.
 * Headers are checked for shape (magic, a possible length and record count, a frame that fits the file,
 * a timestamp a Date can hold), not the frame's body checksum: the figures they give are estimates for
 * an operator, never what a reader trusts (readers check every frame they hand out, or know it checked).
 */
import { join } from 'node:path';
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES, decodeFrameHeader, type FrameHeader } from '../format/frame.js';
import { floorEntry, readIndex } from '../segment/offset-index.js';
import { indexName, segmentName } from '../segment/segment-files.js';
import { readFull, type FileIO } from '../storage/file-io.js';

/** The largest time, in ms from the epoch either way, a JavaScript Date can hold. */
export const MAX_DATE_MS = 8.64e15;

/** Whether `ms` is a time a Date can hold (a frame header's timestamp field may be damaged). */
export function isDateMs(ms: number): boolean {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS;
}

/** A frame header and where its frame starts in the segment. */
export interface FrameAt {
  readonly position: number;
  readonly header: FrameHeader;
}

/** One segment open for header reads. */
export class SegmentHeaders {
  private readonly buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES);

  private constructor(private readonly io: FileIO, private readonly dir: string, readonly base: number, private readonly fd: number, readonly size: number) {}

  /** Opens segment `base` of `dir`; null when it is gone (retention deleted it meanwhile). */
  static open(io: FileIO, dir: string, base: number): SegmentHeaders | null {
    let fd: number;
    try {
      fd = io.open(join(dir, segmentName(base)), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    try {
      return new SegmentHeaders(io, dir, base, fd, io.fsize(fd));
    } catch (e) {
      // The size could not be read: nobody else holds the descriptor to close it, and that error is the one reported.
      try {
        io.close(fd);
      } catch { /* the first failure counts */ }
      throw e;
    }
  }

  close(): void {
    this.io.close(this.fd);
  }

  /**
   * The frame at `position`; null past the end, at a partial frame or at bytes that are no frame header
   * (which includes a timestamp no Date can hold: a damaged field, never what a writer stamps).
   */
  frameAt(position: number): FrameAt | null {
    if (position + FRAME_HEADER_BYTES > this.size) return null;
    if (readFull(this.io, this.fd, this.buf, 0, FRAME_HEADER_BYTES, position) < FRAME_HEADER_BYTES) return null;
    const h = decodeFrameHeader(this.buf, 0);
    if (typeof h === 'string' || position + h.frameBytes > this.size || !isDateMs(h.timestampMs)) return null;
    return { position, header: h };
  }

  /** The first frame; null while the segment holds none. */
  first(): FrameAt | null {
    return this.frameAt(SEGMENT_HEADER_BYTES);
  }

  /**
   * The frame holding `offset` (from the index's floor entry, then frame by frame), or the last whole
   * frame before it when `offset` lies past the segment's frames; null when the segment holds no frame.
   */
  frameHolding(offset: number): FrameAt | null {
    const index = readIndex(this.io, join(this.dir, indexName(this.base)), this.base, this.size);
    const i = floorEntry(index, offset);
    let at = i < 0 ? SEGMENT_HEADER_BYTES : index.positions[i]!;
    let f = this.frameAt(at);
    if (f === null && at !== SEGMENT_HEADER_BYTES) f = this.frameAt((at = SEGMENT_HEADER_BYTES)); // a stale entry
    let last: FrameAt | null = null;
    while (f !== null) {
      last = f;
      if (offset < f.header.baseOffset + f.header.recordCount) return f;
      at += f.header.frameBytes;
      f = this.frameAt(at);
    }
    return last;
  }
}

/** Runs `use` on segment `base` open for header reads; `missing` when the segment is gone. */
export function withSegmentHeaders<T>(io: FileIO, dir: string, base: number, use: (s: SegmentHeaders) => T, missing: T): T {
  const s = SegmentHeaders.open(io, dir, base);
  if (s === null) return missing;
  try {
    return use(s);
  } finally {
    s.close();
  }
}
