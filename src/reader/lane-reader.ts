/**
 * A LogReader that pool workers use: several readers of one log in one process take turns (lanes of
 * stripes, src/consumer/pool-protocol.ts), and the one finishing a stripe hands the next lane where
 * it stands. That lane jumps there instead of reading through the records of the stripes in between.
 */
import { SEGMENT_HEADER_BYTES } from '../format/frame.js';
import { LogReader } from './log-reader.js';

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

  /** Moves to `offset` from a hint at or below it, with no listing, index read or walk. False: not usable here. */
  jumpTo(h: ReaderHint, offset: number): boolean {
    if (h.base > offset || h.pos < SEGMENT_HEADER_BYTES) return false;
    if (this.fd < 0 || this.segBase !== h.seg) {
      try {
        this.openSegment(h.seg);
      } catch {
        return false; // seek() then says what is wrong, if anything
      }
    }
    // The next loadFrame() decodes the header at h.pos and refuses it unless it names h.base.
    this.pos = h.pos;
    this.next = h.base;
    this.frameLeft = 0;
    this.window = null;
    this.skipBelow = offset;
    return true;
  }
}
