/**
 * A window on a frame that holds a seek target and that this thread verified before: the SegmentReader
 * reads the frame only from a record start near the target (more as it is needed), and trusts those
 * bytes while the file's stamp, taken after each read, is still the one the frame was verified under.
 * This module holds the window's reads and their trust; the SegmentReader moves its own position.
 */
import { FRAME_TRAILER_BYTES, type FrameHeader } from '../format/frame.js';
import { CHUNK_BYTES, SEEK_READ_BYTES, type SegmentFile } from './segment-file.js';
import { frameMatches, markAtOrBefore, readerStats, type SegmentEntry } from './verified-cache.js';

/** The first bytes of a window: read at `position`, from the start of record `frameOffset + skipped` on. */
export interface WindowStart {
  readonly buf: Buffer;
  readonly position: number;
  /** Records of the frame before the first one in `buf`. */
  readonly skipped: number;
}

export class FrameWindow {
  /** The frame's position and first offset, the position after its last record, and its cache entry. */
  #framePosition = 0;
  #frameOffset = 0;
  private endPosition = 0;
  private entry: SegmentEntry | null = null;

  constructor(private readonly file: SegmentFile) {}

  /** Whether the current frame is a window (else it is read whole into the chunk). */
  get open(): boolean { return this.entry !== null; }
  /** The window frame's file position and the offset of its first record. */
  get framePosition(): number { return this.#framePosition; }
  get frameOffset(): number { return this.#frameOffset; }

  close(): void {
    this.entry = null;
  }

  /**
   * Opens a window on the frame at `framePosition` (header `h`) near record `targetOffset`, if this
   * thread verified that frame before and a stamp taken after the read confirms it. Null: read and
   * check the frame as usual (a changed stamp has dropped the cache entry).
   */
  start(framePosition: number, h: FrameHeader, targetOffset: number): WindowStart | null {
    if (!this.file.stamps) return null;
    const entry = this.file.cacheEntry();
    const f = entry?.frames.get(framePosition);
    if (entry === undefined || f === undefined || !frameMatches(f, h)) return null;
    const [k, rel] = markAtOrBefore(f, targetOffset - h.baseOffset);
    const endPosition = framePosition + h.frameBytes - FRAME_TRAILER_BYTES; // after the last record
    const position = framePosition + rel;
    const n = Math.min(SEEK_READ_BYTES, endPosition - position);
    const buf = this.file.readAt(position, n);
    if (buf.byteLength < n || !this.file.confirm(entry)) return null;
    readerStats.framesTrusted++;
    this.#framePosition = framePosition;
    this.#frameOffset = h.baseOffset;
    this.endPosition = endPosition;
    this.entry = entry;
    return { buf, position, skipped: k };
  }

  /**
   * The window's bytes from `position`, at least `bytes` of them, trusted under the same stamp. Null
   * when the file changed: the entry is dropped and the window closed, and the reader goes back to
   * the frame's start to read and check it whole.
   */
  more(position: number, bytes: number): Buffer | null {
    const entry = this.entry!;
    const buf = this.file.readAt(position, Math.min(this.endPosition - position, Math.max(bytes, CHUNK_BYTES)));
    if (buf.byteLength >= bytes && this.file.confirm(entry)) return buf;
    this.file.drop(entry);
    this.entry = null;
    return null;
  }
}
