/**
 * The timestamps recovery takes from sealed segments, made ones a checksum vouches for. Recovery reads
 * each sealed segment's last frame header only (bounded work), and no checksum covers a header read
 * alone: a damaged timestamp field would become the writer's clock (every record appended after the
 * restart stamped NaN or a time far ahead, for good) or a segment's age (retention deleting a recent
 * segment as old). Along a log of format 2 a sealed segment's last frame is stamped no later than the
 * next segment's creation (the writer creates a segment on its frame clock), and normally no earlier
 * than its own; both times sit in segment headers, which their checksum covers. A timestamp outside
 * them has its frame read whole and checked; one that fails gives way to the next segment's creation
 * time, when the segment was sealed.
 */
import { join } from 'node:path';
import { readFrameAt } from './frame-scan.js';
import type { FileIO } from './file-io.js';
import { segmentName, type SegmentInfo } from '../segment/segment-files.js';

/** What recovery read of a sealed segment besides its info: its header's creation time and its last frame's position (null: it holds none). */
export interface SealedTimes {
  readonly createdMs: number;
  readonly lastPosition: number | null;
}

/**
 * Checks the last frame of each sealed segment of `sealed` (times in `times`, same order) whose
 * timestamp lies outside its own creation time and the next segment's (`activeCreatedMs` after the
 * last), and gives a segment whose frame fails that next creation time instead.
 */
export function checkSealedTimes(io: FileIO, dir: string, sealed: SegmentInfo[], times: readonly SealedTimes[], activeCreatedMs: number): void {
  for (let i = 0; i < sealed.length; i++) {
    const info = sealed[i]!;
    const { createdMs, lastPosition } = times[i]!;
    const nextCreatedMs = i + 1 < times.length ? times[i + 1]!.createdMs : activeCreatedMs;
    const ts = info.lastTimestampMs;
    if (lastPosition === null || (ts >= createdMs && ts <= nextCreatedMs)) continue;
    const fd = io.open(join(dir, segmentName(info.baseOffset)), 'r');
    try {
      const f = readFrameAt(io, fd, info.bytes, lastPosition);
      if (typeof f === 'string' || f.timestampMs !== ts) info.lastTimestampMs = nextCreatedMs;
    } finally {
      io.close(fd);
    }
  }
}
