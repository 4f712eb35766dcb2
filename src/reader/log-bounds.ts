/**
 * A log's bounds read from its segment files: the first stored offset (the oldest segment's base) and
 * the offset after the last valid record, found by walking the newest segment's frames from its last
 * index entry, or from its last one at or below durable.offset unless a live producer finished its
 * recovery (each frame is checked; its records are not visited).
 */
import { LogError } from '../errors.js';
import type { FileIO } from '../storage/file-io.js';
import { producerLockPath, recoveredOwnerLive } from '../storage/lock.js';
import { LogReader, RetryLater } from './log-reader.js';
import { MAX_LISTINGS } from './segment-file.js';
import { segmentBases } from './segment-list.js';
import { readerStats } from './verified-cache.js';

/** Offsets of the first stored record and after the last valid one, read from the files of `dir`. */
export function readLogBounds(io: FileIO, dir: string): { start: number; end: number } {
  readerStats.boundsWalks++;
  try {
    for (let attempt = 1; ; attempt++) {
      const found = new BoundsProbe(io, dir).walk(attempt);
      if (found !== null) return found;
    }
  } catch (e) {
    throw LogError.fromSystem(e, 'reading the log bounds', dir);
  }
}

class BoundsProbe extends LogReader {
  /** The bounds, or null when the newest segment listed was gone at its open (list again). */
  walk(attempt: number): { start: number; end: number } | null {
    const bases = segmentBases(this.io, this.dir);
    if (bases.length === 0) return { start: 0, end: 0 };
    const last = bases[bases.length - 1]!;
    try {
      try {
        this.openSegment(last);
      } catch (e) {
        // A newest segment whose header is not whole (a roll a crash left unfinished, for recovery to
        // remove) holds no record: the log ends where that segment would begin. (openSegment throws
        // ERR_LOG_CORRUPT instead when durable.offset names records from that base on.)
        if (e instanceof RetryLater) return { start: bases[0]!, end: last };
        // Listed as the newest, then gone: the writer rolled on and retention deleted it meanwhile.
        // Nothing is expired for the caller: list again.
        if (this.goneSinceListing(last, e) && attempt < MAX_LISTINGS) return null;
        throw e;
      }
      // Frames written after the last fsync reach the disk in any order, so a power loss can tear one
      // and keep later ones with their index entries; an entry past the torn frame would put the end
      // past records the next producer's recovery cuts, and then appends again at those offsets. So,
      // unless a live producer finished its recovery (then its writer wrote everything past the cut in
      // order, and the last entry holds), the walk starts at the last index entry at or below
      // durable.offset, checking every frame (under SyncPolicy.never() up to a whole segment).
      const recovered = recoveredOwnerLive(this.io, producerLockPath(this.dir));
      this.segment.seekInSegment(recovered ? Number.MAX_SAFE_INTEGER : (this.durable.beyond(last) ?? last), true);
      do {
        while (this.segment.loadFrame()) this.segment.skipFrame();
      } while (this.takeLookAgain()); // bytes below durable.offset that looked torn: read once more, then judged
      this.checkDurableEnd();
      return { start: bases[0]!, end: this.segment.nextOffset };
    } finally {
      this.close();
    }
  }
}
