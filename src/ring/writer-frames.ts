/**
 * The writer's fresh frames, and how a reader in its process sees them (docs/architecture.md, "Reader
 * caches", "Frames of this process's writer"). The writer stores the offset of its first frame at
 * open in I64.FRESH_FROM (one more than it: 0 reads as none) and raises it to the base of each segment
 * it seals, so its fresh frames lie in the segment being written and the one sealed last, and none
 * of them was recovered from an earlier run. A reader takes such a frame without checking it again
 * when the frame ends at or below a written end loaded before the read that brought it: the writer
 * publishes WRITTEN_OFFSET only after its pwritev returned, and it checked the frame's header, length
 * and trailer before writing it (checkBuiltFrame); the records' lengths and attribute blocks come from
 * the appenders' encoders, or from the funnel's decode, which checks them as a reader does.
 */
import type { WriterFrames } from '../reader/reader-contracts.js';
import { I64, loadOffset, raiseOffset, writerPublishing, type ControlViews } from './layout.js';

/** The writer: its frames from `offset` on are fresh (a maximum: it never goes back). */
export function raiseFreshFrom(c: ControlViews, offset: number): void {
  raiseOffset(c, I64.FRESH_FROM, offset + 1);
}

/**
 * The writer of control block `c` as a reader sees it. Its word counts only while it runs
 * (writerPublishing): a writer that closed or failed vouches for nothing, since another process may
 * then open the log and, after a failure, cut and rewrite what it had published as written.
 */
export function writerFramesOf(c: ControlViews): WriterFrames {
  return {
    freshFrom: () => {
      const v = loadOffset(c, I64.FRESH_FROM);
      return v === 0 || !writerPublishing(c) ? Infinity : v - 1;
    },
    writtenEnd: () => loadOffset(c, I64.WRITTEN_OFFSET),
  };
}
