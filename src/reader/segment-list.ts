/**
 * The segment files of a log directory (their base offsets, ascending), listed once and reused while
 * the directory's stamp stays the same: creating, removing or renaming an entry moves the directory's
 * mtime and ctime, and the racy-timestamp rule of verified-cache.ts applies as to segment files. The
 * arrays handed out are frozen: they are shared.
 *
 * `segmentBasesHint` hands out the last listing without that check, for a caller that checks the
 * answer against the files anyway (LogReader.seekToRecord: the segment it picks must open, carry a
 * valid header and hold the record in a valid frame; a stale listing only makes it fail and go the
 * general way).
 */
import type { FileIO, FileStamp } from '../storage/file-io.js';
import { onClearReaderCaches, readerStats, sameStamp, settled, wallNowMs } from './verified-cache.js';
import { listLogDir } from '../segment/segment-files.js';

const MAX_CACHED_LISTINGS = 64;
const listings = new Map<string, { readonly stamp: FileStamp; readonly bases: readonly number[] }>();
onClearReaderCaches(() => listings.clear());

/** The last listing of `dir` that was settled, unchecked: a hint (see above), or undefined. */
export function segmentBasesHint(io: FileIO, dir: string): readonly number[] | undefined {
  return io.stampPath === undefined ? undefined : listings.get(dir)?.bases;
}

/** Base offsets of the segments in `dir`, ascending; read-only. */
export function segmentBases(io: FileIO, dir: string): readonly number[] {
  if (io.stampPath === undefined) return listLogDir(io, dir).bases;
  const wallMs = wallNowMs(); // before the stamp: see settled()
  const stamp = io.stampPath(dir);
  const hit = listings.get(dir);
  if (hit !== undefined && sameStamp(hit.stamp, stamp)) {
    readerStats.listingsReused++;
    return hit.bases;
  }
  listings.delete(dir);
  // Listed after the stamp was taken: an entry changed since then moves the stamp away from this one.
  const bases = Object.freeze(listLogDir(io, dir).bases);
  if (settled(stamp, wallMs)) {
    listings.set(dir, { stamp, bases });
    if (listings.size > MAX_CACHED_LISTINGS) listings.delete(listings.keys().next().value!);
  }
  return bases;
}

/** Whether `dir` holds a segment newer than `base`: then the writer finished segment `base`. */
export function hasSegmentAfter(io: FileIO, dir: string, base: number): boolean {
  return segmentBases(io, dir).some((b) => b > base);
}
