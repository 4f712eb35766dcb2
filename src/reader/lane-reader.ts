/**
 * A LogReader that pool workers use: several readers of one log in one process take turns (lanes of
 * stripes, src/consumer/pool-protocol.ts), and the one finishing a stripe hands the next lane where
 * it stands. That lane jumps there instead of reading through the records of the stripes in between.
 * The hint and the jump are the SegmentReader's (segment-reader.ts); this class opens the hint's segment.
 */
import { SEGMENT_HEADER_BYTES } from '../format/frame.js';
import { LogReader } from './log-reader.js';
import type { ReaderHint } from './reader-contracts.js';

export type { ReaderHint } from './reader-contracts.js';

export class LaneReader extends LogReader {
  /**
   * Where this reader stands: the frame holding its next record, or the next frame. Exact when it
   * is taken; whoever uses it checks it again (the frame header found there must name `base`).
   */
  hint(): ReaderHint | null {
    return this.segment.hint();
  }

  /**
   * Moves to `offset` from a hint at or below it, with no listing, index read or walk, once the frame
   * header at the hint's position names the hint's offset. False: not usable (the caller skips or
   * seeks instead; the reader is then at the start of the hint's segment or where it was).
   */
  jumpTo(h: ReaderHint, offset: number): boolean {
    if (h.base > offset || h.pos < SEGMENT_HEADER_BYTES) return false;
    try {
      if (this.segment.fd < 0 || this.segment.baseOffset !== h.seg) this.openSegment(h.seg);
      if (!this.segment.jumpTo(h, offset)) return false;
      this.seekAgain = null; // placed: a seek that failed before is not made again over it
      return true;
    } catch {
      return false; // seek() then says what is wrong, if anything
    }
  }
}
