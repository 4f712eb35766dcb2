/**
 * Verifying one segment and its index: the header, every frame (with `scanFrames`, the loop recovery
 * uses), and every index entry against the frames actually found.
 *
 * Unlike recovery, which stops at the first invalid frame, the verifier looks for the next valid frame
 * after damage and goes on from there, so one report shows every damaged stretch. Damage versus torn
 * tail follows recovery's durable-position rule: in the active segment, invalid bytes that no later
 * frame proves fsynced are a torn tail (a warning: recovery cuts them); anywhere else they are damage.
 */
import { join } from 'node:path';
import { isUnsupportedFormat } from '../errors.js';
import { INDEX_ENTRY_BYTES, OLDEST_FORMAT_VERSION, SEGMENT_HEADER_BYTES, type FrameHeader } from '../format/frame.js';
import { readFull, type FileIO } from '../storage/file-io.js';
import { durabilityProof } from '../storage/durability-proof.js';
import { findValidFrameAfter, readFrameAt, scanFrames } from '../storage/frame-scan.js';
import { entryOrders, readRawIndex } from '../segment/offset-index.js';
import type { Findings } from './verify-findings.js';
import type { DamagedRange, SegmentReport } from './verify-types.js';
import { indexName, segmentName, readSegmentHeader } from '../segment/segment-files.js';

/** Bad index entries reported one by one per index file; the rest are counted in one finding. */
const MAX_ENTRY_FINDINGS = 10;

/** verifySegment's answer for a segment that no longer exists when it is opened (the caller judges why). */
interface SegmentGone {
  readonly gone: Error;
}

/**
 * verifySegment's answer for a segment whose valid header names a format newer than this code reads
 * (the version it names): no finding yet, as the segments after it tell whether it is damage.
 */
interface SegmentNewer {
  readonly newer: number;
}

/**
 * Verifies segment `base`: its report, or null when it cannot be read (a damage finding says why),
 * `{ gone }` when it was listed but no longer exists, or `{ newer }` when its format is newer than this
 * code reads.
 */
export function verifySegment(
  io: FileIO, dir: string, base: number, active: boolean, hasIndex: boolean, f: Findings, prevTimestampMs: number | null = null,
): SegmentReport | SegmentGone | SegmentNewer | null {
  const file = segmentName(base);
  let fd: number;
  try {
    fd = io.open(join(dir, file), 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { gone: e as Error };
    f.damage('unreadable', file, `cannot be opened: ${(e as Error).message}`);
    return null;
  }
  try {
    return scanSegment(io, dir, fd, base, active, hasIndex, f, prevTimestampMs);
  } catch (e) {
    if (isUnsupportedFormat(e)) return { newer: headerVersion(io, fd) };
    f.damage('unreadable', file, `reading failed: ${(e as Error).message}`);
    return null;
  } finally {
    io.close(fd);
  }
}

/** The format version a segment header names (bytes 4-5). */
function headerVersion(io: FileIO, fd: number): number {
  const b = Buffer.alloc(2);
  readFull(io, fd, b, 0, 2, 4);
  return b.readUInt16LE(0);
}

/** `prevTimestampMs`: the newest frame time of the segments before this one, or null. */
function scanSegment(io: FileIO, dir: string, fd: number, base: number, active: boolean, hasIndex: boolean, f: Findings, prevTimestampMs: number | null): SegmentReport {
  const file = segmentName(base);
  const bytes = io.fsize(fd);
  const h = readSegmentHeader(io, fd, segmentName(base));
  let headerProblem: string | null = null;
  if (typeof h === 'string') {
    headerProblem = h;
    // What recovery removes as an interrupted roll: the newest segment, no whole header, no valid frame.
    if (active && (bytes <= SEGMENT_HEADER_BYTES || findValidFrameAfter(io, fd, bytes, -1, false) === null)) {
      f.warning('torn-roll', file, `${h}, and no valid frame: a segment roll was interrupted (recovery removes or recreates it)`, { position: 0 });
      return {
        file, baseOffset: base, role: 'active', bytes, headerProblem, frames: 0, records: 0, endOffset: base,
        newestTimestampMs: null, damaged: [], index: { present: hasIndex, entries: 0, good: 0, unchecked: 0 },
      };
    }
    f.damage('segment-header', file, `${h} (the frames are checked all the same)`, { position: 0 });
  } else if (h.baseOffset !== base) {
    headerProblem = `header names base offset ${h.baseOffset}, the file name ${base}`;
    f.damage('segment-header', file, headerProblem, { position: 8 });
  }

  const index = new IndexCheck(io, dir, base, active, hasIndex, bytes, f);
  let frames = 0;
  let records = 0;
  let newestTimestampMs: number | null = null;
  const damaged: DamagedRange[] = [];
  const back = new TimeSteps(prevTimestampMs);
  const onFrame = (framePosition: number, fh: FrameHeader): void => {
    frames++;
    records += fh.recordCount;
    newestTimestampMs = fh.timestampMs;
    back.frame(framePosition, fh);
    index.frameAt(framePosition, fh.baseOffset);
  };
  let scanPosition = SEGMENT_HEADER_BYTES;
  let expectedOffset = base;
  let endOffset = base;
  for (;;) {
    const end = scanFrames(io, fd, bytes, scanPosition, expectedOffset, onFrame);
    endOffset = end.nextOffset;
    if (end.bad === null) break;
    // Recovery's rule (durabilityProof): a frame stamped before the last valid one proves nothing in a segment of format 2.
    const version = typeof h !== 'string' ? h.version : OLDEST_FORMAT_VERSION;
    if (active && durabilityProof(io, { dir, base, fd, fileBytes: bytes, from: end.position }, version, () => end.lastTimestampMs) === null) {
      // Nothing after these bytes proves they were fsynced: what a crash leaves, and recovery cuts.
      damaged.push({ position: end.position, bytes: bytes - end.position, reason: end.bad, tornTail: true });
      f.warning('torn-tail', file, `${bytes - end.position} bytes after the last valid frame are not a valid frame (${end.bad}); never fsynced, so a torn write: the next producer cuts them`, { position: end.position, offset: end.nextOffset });
      index.damagedFrom(end.position, bytes);
      break;
    }
    const nextPosition = findValidFrameAfter(io, fd, bytes, end.position, false);
    const stop = nextPosition ?? bytes;
    damaged.push({ position: end.position, bytes: stop - end.position, reason: end.bad, tornTail: false });
    index.damagedFrom(end.position, stop);
    const resumed = nextPosition === null ? null : readFrameAt(io, fd, bytes, nextPosition);
    const after = resumed === null || typeof resumed === 'string'
      ? `no valid frame follows, so the records from offset ${end.nextOffset} on in this segment are lost`
      : `the next valid frame is at byte ${nextPosition} with offset ${resumed.baseOffset}${resumed.baseOffset > end.nextOffset ? ` (offsets ${end.nextOffset} to ${resumed.baseOffset - 1} are lost)` : ''}`;
    f.damage('frame', file, `${end.bad}; ${stop - end.position} bytes are not valid frames where data had been made durable; ${after}`, { position: end.position, offset: end.nextOffset });
    if (resumed === null || typeof resumed === 'string') break;
    scanPosition = nextPosition!;
    expectedOffset = resumed.baseOffset;
  }
  back.report(f, file);
  const indexSummary = index.finish();
  return {
    file, baseOffset: base, role: active ? 'active' : 'sealed', bytes, headerProblem, frames, records, endOffset,
    newestTimestampMs, damaged, index: indexSummary,
  };
}

/**
 * Checks the entries of one index file against the frames as the scan finds them (both in position
 * order), so no list of frame positions is kept: memory stays proportional to the sparse index.
 */
class IndexCheck {
  private readonly file: string;
  private readonly offsets: number[] = [];
  private readonly positions: number[] = [];
  /** Entry numbers in ascending position order (a damaged index may be out of order). */
  private readonly order: number[] = [];
  private readonly status: Array<'good' | 'pending' | 'unchecked' | string> = [];
  /** The next place in `order` a frame found by the scan is checked against. */
  private nextInOrder = 0;
  private readonly damaged: Array<[number, number]> = [];
  private reported = 0;

  constructor(
    io: FileIO, dir: string, private readonly base: number, private readonly active: boolean,
    private readonly present: boolean, private readonly segmentBytes: number, private readonly f: Findings,
  ) {
    this.file = indexName(base);
    let raw: ReturnType<typeof readRawIndex> = null;
    try {
      raw = present ? readRawIndex(io, join(dir, this.file), segmentBytes) : null;
    } catch (e) {
      f.damage('index', this.file, `cannot be read: ${(e as Error).message}`);
      return;
    }
    if (raw === null) {
      f.warning('index', this.file, 'missing: readers of this segment scan it from the start (no wrong record can result)');
      return;
    }
    if (raw.partialBytes > 0) {
      const say = `ends in ${raw.partialBytes} bytes that are not a whole 16-byte entry`;
      const at = { position: (raw.offsets.length + raw.excessEntries) * INDEX_ENTRY_BYTES };
      if (active) this.f.warning('index', this.file, `${say} (an entry write cut short)`, at);
      else this.f.damage('index', this.file, `${say}, though it was fsynced when the segment was sealed`, at);
    }
    if (raw.excessEntries > 0) {
      // Not read (a huge or garbage file is never held whole). In the active segment the writer may
      // have appended frames and their entries after the segment's size was read.
      const say = `holds ${raw.excessEntries} entries more than a segment of ${segmentBytes} bytes has room for frames (not read)`;
      const at = { position: raw.offsets.length * INDEX_ENTRY_BYTES };
      if (active) this.f.warning('index', this.file, `${say}; readers ignore them`, at);
      else this.f.damage('index', this.file, say, at);
    }
    // The same rule as readIndex, entry by entry, so each bad entry is named (entryOrders: each
    // compared with the last entry that was in order and inside the file, so one bad entry is one finding).
    const judged = entryOrders(base, raw.offsets, raw.positions, segmentBytes);
    for (let i = 0; i < raw.offsets.length; i++) {
      const offset = raw.offsets[i]!;
      const position = raw.positions[i]!;
      this.offsets.push(offset);
      this.positions.push(position);
      this.order.push(i);
      const j = judged[i]!;
      if (j.order === 'out-of-order') {
        this.status.push(`is out of order (offset ${offset} at byte ${position} after offset ${j.lastOffset} at byte ${j.lastPosition})`);
      } else {
        this.status.push(j.order === 'past-end' ? 'unchecked' : 'pending');
      }
    }
    this.order.sort((x, y) => this.positions[x]! - this.positions[y]!);
  }

  /**
   * A bad entry: damage in a sealed segment (its index was fsynced when it was sealed); a warning in
   * the active one, whose index is not fsynced before then, so a power loss may leave any bytes in
   * it: readers and recovery pass over such entries, and recovery rewrites the index.
   */
  private report(message: string, at?: { position: number; offset: number }): void {
    if (this.active) this.f.warning('index', this.file, `${message} (the active index is fsynced only when its segment is sealed: the next producer to open the log rewrites it)`, at);
    else this.f.damage('index', this.file, message, at);
  }

  /** The scan found a valid frame holding `offset` at byte `framePosition`. */
  frameAt(framePosition: number, offset: number): void {
    while (this.nextInOrder < this.order.length && this.positions[this.order[this.nextInOrder]!]! <= framePosition) {
      const i = this.order[this.nextInOrder++]!;
      if (this.status[i] !== 'pending') continue;
      if (this.positions[i]! < framePosition) this.status[i] = 'points at a byte where no valid frame starts';
      else this.status[i] = this.offsets[i] === offset ? 'good' : `names offset ${this.offsets[i]}, but the frame there holds offset ${offset}`;
    }
  }

  /** Bytes `from` to `to` are not valid frames (reported as such): entries pointing there are not blamed on the index. */
  damagedFrom(from: number, to: number): void {
    this.damaged.push([from, to]);
  }

  finish(): SegmentReport['index'] {
    this.frameAt(Infinity, -1); // what is left after the last frame points at no frame
    let good = 0;
    let unchecked = 0;
    let inDamage = 0;
    let bad = 0;
    for (let i = 0; i < this.status.length; i++) {
      let s = this.status[i]!;
      const position = this.positions[i]!;
      if (s !== 'good' && !s.startsWith('is out') && this.damaged.some(([a, b]) => position >= a && position < b)) s = 'in-damage';
      if (s === 'good') { good++; continue; }
      if (s === 'in-damage') { inDamage++; continue; }
      if (s === 'unchecked') {
        if (this.active) { unchecked++; continue; }
        s = `points past the end of the segment (${this.segmentBytes} bytes)`;
      }
      bad++;
      if (this.reported++ < MAX_ENTRY_FINDINGS) {
        this.report(`entry ${i} (offset ${this.offsets[i]}, byte ${position}) ${s}`, { position: i * INDEX_ENTRY_BYTES, offset: this.offsets[i]! });
      }
    }
    if (bad > MAX_ENTRY_FINDINGS) this.report(`${bad - MAX_ENTRY_FINDINGS} more bad entries`);
    if (inDamage > 0) this.f.warning('index', this.file, `${inDamage} entries point into damaged or torn bytes of ${segmentName(this.base)} (reported there)`);
    return { present: this.present, entries: this.status.length, good, unchecked };
  }
}

/** Frames of one segment stamped earlier than the frame before them (the writer never stamps so). */
class TimeSteps {
  private count = 0;
  private first: { position: number; offset: number; ms: number; before: number } | null = null;

  constructor(private prevMs: number | null) {}

  frame(position: number, fh: FrameHeader): void {
    const prev = this.prevMs;
    // A NaN on either side compares false: a time no Date holds is not judged here.
    if (prev !== null && fh.timestampMs < prev) {
      this.count++;
      this.first ??= { position, offset: fh.baseOffset, ms: fh.timestampMs, before: prev };
    }
    this.prevMs = fh.timestampMs;
  }

  report(f: Findings, file: string): void {
    const first = this.first;
    if (first === null) return;
    const more = this.count > 1 ? ` (${this.count} frames of this segment step back; this is the first)` : '';
    f.warning('time', file, `the frame of offset ${first.offset} is stamped ${first.ms}, ${first.before - first.ms} ms before the frame before it${more}: a search by time (Whence.timestamp, resetCursor to a time) may start past records at or after the time it is given`, { position: first.position, offset: first.offset });
  }
}
