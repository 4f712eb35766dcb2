/**
 * Judging the header of a segment file a reader opens (docs/format.md, "Readers in other processes").
 */
import { LogError } from '../errors.js';
import { type FileIO } from '../storage/file-io.js';
import { findValidFrameAfter } from '../storage/frame-scan.js';
import { segmentName, readSegmentHeader } from '../segment/segment-files.js';

/**
 * Reads and checks the header of segment `base` open at `fd`. True when it is valid; false when it is
 * not whole yet (a roll in progress: the segment holds no record yet); ERR_LOG_CORRUPT when it is
 * damage. `newer` tells whether a newer segment exists (it is asked again each time: the answer may
 * change while this runs).
 */
export function checkSegmentHeader(io: FileIO, fd: number, base: number, newer: () => boolean): boolean {
  const name = segmentName(base);
  let h = readSegmentHeader(io, fd, segmentName(base));
  if (typeof h === 'string' && newer()) {
    // Seen newer segments after a short header: the writer may have finished this header, filled
    // the segment and rolled in between. Read the header a second time before judging it.
    h = readSegmentHeader(io, fd, segmentName(base));
  }
  // The writer renames a segment into place only once its header is written and fsynced (createSegment),
  // and creates a newer segment only after finishing this one. So a bad header can be a roll a crash
  // left unfinished (recovery removes it) only in the newest segment with no valid frame in it; anywhere
  // else it is damage. (The corruption properties check this: without it, a damaged header escapes as
  // a plain Error from Consumer.open, or reading ends silently at a damaged sealed segment.)
  if (typeof h === 'string' && (newer() || findValidFrameAfter(io, fd, io.fsize(fd), -1, false) !== null)) {
    throw LogError.corrupt(name, 0, h);
  }
  if (typeof h === 'string') return false;
  if (h.baseOffset !== base) throw LogError.corrupt(name, 8, `header names base offset ${h.baseOffset}, the file name ${base}`);
  return true;
}

/** Whether segment `base` open at `fd` has a valid header naming it, without judging why not. */
export function segmentHeaderValid(io: FileIO, fd: number, base: number): boolean {
  const h = readSegmentHeader(io, fd, segmentName(base));
  return typeof h !== 'string' && h.baseOffset === base;
}
