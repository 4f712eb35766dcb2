/**
 * durable.offset against what a reader without a published limit finds in the newest segment
 * (src/reader/log-reader.ts, log-bounds.ts). The writer records that offset only after the fsync that
 * made the records below it durable, so they are in the files: invalid bytes, or the end of the newest
 * segment's valid frames, below it are damage (recovery judges the same way), not a torn tail or the
 * log's end. Two races keep a live log from reading as damaged:
 * - bytes read while the writer was still writing them look invalid, and the offset may have been
 *   recorded since: they are read once more before they are judged (frame-judging.ts);
 * - at the end of the file, frames the writer added after the reader's last read may be what the
 *   offset names: the offset is read first, then the file's size and whether a newer segment exists,
 *   and only a segment that neither grew nor was followed ends before it (`missingAtEnd`).
 */
import type { FileIO } from '../storage/file-io.js';
import { readDurableHint } from '../storage/durable-hint.js';

export class DurableCheck {
  private endCheckedOffset = -1;
  private endCheckedSize = -1;

  constructor(private readonly io: FileIO, private readonly dir: string) {}

  /** durable.offset, when it names records at or past `nextOffset`; else null. */
  beyond(nextOffset: number): number | null {
    const hint = readDurableHint(this.io, this.dir);
    return hint !== null && nextOffset < hint ? hint : null;
  }

  /**
   * The newest segment's valid frames end at `position` (record `nextOffset`): durable.offset when
   * it names records past that end while the file holds nothing more and no newer segment exists,
   * else null. An end found whole once is not looked at again until it moves (a reader polling an
   * idle log's end reads the offset once).
   */
  missingAtEnd(fd: number, position: number, nextOffset: number, hasNewer: () => boolean): number | null {
    const seen = this.io.fsize(fd);
    if (seen === this.endCheckedSize && nextOffset === this.endCheckedOffset) return null;
    const hint = this.beyond(nextOffset);
    if (hint === null) {
      this.endCheckedOffset = nextOffset;
      this.endCheckedSize = seen;
      return null;
    }
    return this.io.fsize(fd) === position && !hasNewer() ? hint : null;
  }
}
