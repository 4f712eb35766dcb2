/**
 * Rebuilds a producer's dedup window from the log when it opens, after recovery and before the first
 * append: the dedup keys of the records the window covers are read back from the segments, so a
 * producer that crashed and retries its last appends after a restart gets the earlier offsets, not
 * duplicates.
 *
 * The window's first offset is nextOffset - records for `{ records }`, and the first record stored at
 * or after now - ms for `{ ms }` (the time seek). The scan starts at the index entry at or before that
 * offset in its segment and reads every frame from there to the end of the log, checking each frame's
 * checksum: damage anywhere in the window is ERR_LOG_CORRUPT (it could hide a key, and so let a
 * retry append a duplicate). Its cost is one sequential read of the window's bytes, plus at
 * most one index interval.
 */
import { join } from 'node:path';
import { LogError } from '../errors.js';
import { SEGMENT_HEADER_BYTES, FRAME_HEADER_BYTES, RECORD_LENGTH_BYTES, RECORD_LENGTH_MASK } from '../format/frame.js';
import { decodeAttributes } from '../format/record.js';
import { offsetAtTime } from '../reader/time-seek.js';
import { entryFrame, floorEntry, readIndex } from '../segment/offset-index.js';
import { indexName, listLogDir, segmentName } from '../segment/segment-files.js';
import { readFrameAt, scanFrames } from '../storage/frame-scan.js';
import { readFull, type FileIO } from '../storage/file-io.js';
import { DedupWindow, type DedupWindowOption } from './dedup-window.js';

/** Builds the window over the log in `dir`, whose next offset is `nextOffset`. */
export function rebuildDedupWindow(io: FileIO, dir: string, option: DedupWindowOption, nextOffset: number): DedupWindow {
  const window = new DedupWindow(option, () => io.now());
  const bases = listLogDir(io, dir).bases;
  if (bases.length === 0) return window;
  const nowMs = io.now();
  const from = 'records' in option
    ? Math.max(bases[0]!, nextOffset - option.records)
    : offsetAtTime(io, dir, bases, nowMs - option.ms, nextOffset);
  // From the segment holding `from` (the oldest when `from` lies below every base) to the newest.
  let first = bases.length - 1;
  while (first > 0 && bases[first]! > from) first--;
  for (let i = first; i < bases.length; i++) scanSegment(io, dir, bases[i]!, from, window);
  window.forget(nextOffset);
  return window;
}

/**
 * Remembers the dedup keys of the records at `from` and after in one segment. A segment that the
 * writer's retention deleted since the listing (it runs while the window is rebuilt) is passed over:
 * the keys of records retention deleted are not rebuilt.
 */
function scanSegment(io: FileIO, dir: string, base: number, from: number, window: DedupWindow): void {
  let fd: number;
  try {
    fd = io.open(join(dir, segmentName(base)), 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !listLogDir(io, dir).bases.includes(base)) return;
    throw e;
  }
  try {
    const bytes = io.fsize(fd);
    const { position: start, offset: startOffset } = from > base ? scanStart(io, fd, dir, base, bytes, from) : { position: SEGMENT_HEADER_BYTES, offset: base };
    const end = scanFrames(io, fd, bytes, start, startOffset, (_position, h, b, at) => {
      let p = at + FRAME_HEADER_BYTES;
      for (let i = 0; i < h.recordCount; i++) {
        const word = b.readUInt32LE(p);
        const len = word & RECORD_LENGTH_MASK;
        const payload = p + RECORD_LENGTH_BYTES;
        const offset = h.baseOffset + i;
        if (word !== len && offset >= from) {
          const a = decodeAttributes(b, payload, payload + len);
          if (typeof a !== 'string' && a.dedupKey !== null) window.remember(a.dedupKey, offset, h.timestampMs);
        }
        p = payload + len;
      }
    });
    // Recovery checked the newest segment's tail only: damage in the window would hide dedup keys.
    if (end.bad !== null) throw LogError.corrupt(segmentName(base), end.position, `${end.bad} (read to rebuild the dedup window)`);
  } finally {
    io.close(fd);
  }
}

/**
 * Where the scan of segment `base` starts for `from`: the last index entry at or before it that
 * proves itself (entryFrame: a frame naming the entry's offset stands there and the frame before it
 * ends there, so not a frame held in a record's payload) and whose frame is whole and valid, else the
 * segment's first frame. The index is derived data: an entry that does not hold costs a longer scan,
 * never a refused open.
 */
function scanStart(io: FileIO, fd: number, dir: string, base: number, bytes: number, from: number): { position: number; offset: number } {
  const index = readIndex(io, join(dir, indexName(base)), base, bytes);
  const readAt = (position: number, n: number): Buffer => {
    const buf = Buffer.allocUnsafe(n);
    return buf.subarray(0, readFull(io, fd, buf, 0, n, position));
  };
  for (let e = floorEntry(index, from); e >= 0; e--) {
    const position = index.positions[e]!;
    if (entryFrame(readAt, base, index.offsets[e]!, position, FRAME_HEADER_BYTES) === null) continue;
    const h = readFrameAt(io, fd, bytes, position);
    if (typeof h !== 'string' && h.baseOffset === index.offsets[e]) return { position, offset: h.baseOffset };
  }
  return { position: SEGMENT_HEADER_BYTES, offset: base };
}
