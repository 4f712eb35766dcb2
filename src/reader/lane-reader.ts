/**
 * A LogReader that pool workers use: several readers of one log in one process take turns (lanes of
 * stripes, src/consumer/pool-protocol.ts), and the one finishing a stripe hands the next lane where
 * it stands. That lane jumps there instead of reading through the records of the stripes in between.
 */
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES, decodeFrameHeader } from '../format/frame.js';
import { readFull } from '../storage/file-io.js';
import { LogReader } from './log-reader.js';

const head = Buffer.alloc(FRAME_HEADER_BYTES);

/** A frame boundary in a segment: a record offset and the file position of the frame that starts there. */
export interface ReaderHint {
  readonly seg: number;
  readonly pos: number;
  readonly base: number;
}

export class LaneReader extends LogReader {
  /**
   * Where this reader stands: the frame holding its next record, or the next frame. Exact when it
   * is taken; whoever uses it checks it again (the frame header found there must name `base`).
   */
  hint(): ReaderHint | null {
    if (this.fd < 0) return null;
    return this.frameLeft > 0 ? { seg: this.segBase, pos: this.frameStart, base: this.frameBase } : { seg: this.segBase, pos: this.pos, base: this.next };
  }

  /**
   * Moves to `offset` from a hint at or below it, with no listing, index read or walk, once the frame
   * header at the hint's position names the hint's offset. False: not usable (the caller skips or
   * seeks instead; the reader is then at the start of the hint's segment or where it was).
   */
  jumpTo(h: ReaderHint, offset: number): boolean {
    if (h.base > offset || h.pos < SEGMENT_HEADER_BYTES) return false;
    try {
      if (this.fd < 0 || this.segBase !== h.seg) this.openSegment(h.seg);
      if (readFull(this.io, this.fd, head, 0, FRAME_HEADER_BYTES, h.pos) < FRAME_HEADER_BYTES) return false;
    } catch {
      return false; // seek() then says what is wrong, if anything
    }
    const fh = decodeFrameHeader(head, 0);
    if (typeof fh === 'string' || fh.baseOffset !== h.base) return false;
    // The frame is checked as usual when it is loaded.
    this.pos = h.pos;
    this.next = h.base;
    this.frameLeft = 0;
    this.window = null;
    this.skipBelow = offset;
    return true;
  }
}
