/**
 * Where the verified-frame cache (verified-cache.ts) keeps its frames: numbered slots in a few typed
 * arrays of this thread, each slot one frame's header fields and its record marks. A frame noted
 * takes a free slot, and an evicted segment gives its slots back for the next frames: caching a
 * frame allocates nothing on the JS heap and no array buffer. A reader reading a log through caches
 * every large frame it checks: an object and an array buffer per frame would outlive young-generation
 * collections at a steady rate, which makes V8 grow its young generation to its maximum, and the
 * evicted ones would pile up as old-generation garbage until a full collection (docs/performance.md,
 * "Memory").
 *
 * The arrays grow by doubling up to `maxSlots` and are never shrunk; `clearSlots` frees every slot.
 */
import { FRAME_HEADER_BYTES, FRAME_TRAILER_BYTES, RECORD_LENGTH_BYTES, RECORD_LENGTH_MASK, type FrameHeader } from '../format/frame.js';

/** Record starts are noted about every MARK_STRIDE_BYTES, at most MAX_MARKS_PER_FRAME per frame. */
export const MARK_STRIDE_BYTES = 2048;
export const MAX_MARKS_PER_FRAME = 128;
/** Words of a slot's marks: pairs [record index, byte in frame]. */
const MARK_WORDS = 2 * MAX_MARKS_PER_FRAME;
/** Per slot in `words`: frame length, record count, stored CRC, marks noted. */
const FRAME_BYTES = 0;
const RECORD_COUNT = 1;
const CRC = 2;
const MARK_COUNT = 3;
const WORDS = 4;
const FIRST_SLOTS = 256;

let capacity = 0;
let words = new Uint32Array(0);
let baseOffsets = new Float64Array(0);
let marks = new Uint32Array(0);
/** Slots below `used` that are free, and the slots never used yet start at `used`. */
const free: number[] = [];
let used = 0;

/** Slots in use (for tests). */
export function slotsInUse(): number {
  return used - free.length;
}

/** Slots the arrays hold now, used or free (for tests). */
export function slotCapacity(): number {
  return capacity;
}

/** Frees every slot (the cache dropped all its entries). */
export function clearSlots(): void {
  free.length = 0;
  used = 0;
}

/** Gives `slot` back. */
export function freeSlot(slot: number): void {
  free.push(slot);
}

/**
 * Takes a slot for the frame with header `h`, whose bytes (checked: the record lengths are known good)
 * are at `buf[at]`, and notes its fields and where a record starts about every MARK_STRIDE_BYTES. The
 * caller keeps at most `maxSlots` slots in use.
 */
export function takeSlot(h: FrameHeader, buf: Uint8Array, at: number, maxSlots: number): number {
  const slot = free.pop() ?? used++;
  if (slot >= capacity) grow(maxSlots);
  words[slot * WORDS + FRAME_BYTES] = h.frameBytes;
  words[slot * WORDS + RECORD_COUNT] = h.recordCount;
  words[slot * WORDS + CRC] = h.crc;
  baseOffsets[slot] = h.baseOffset;
  const stride = Math.max(MARK_STRIDE_BYTES, Math.ceil(h.frameBytes / MAX_MARKS_PER_FRAME));
  const v = new DataView(buf.buffer, buf.byteOffset + at, h.frameBytes - FRAME_TRAILER_BYTES);
  const m = slot * MARK_WORDS;
  marks[m] = 0;
  marks[m + 1] = FRAME_HEADER_BYTES;
  let n = 1;
  let p = FRAME_HEADER_BYTES;
  let nextMark = p + stride;
  for (let i = 0; i < h.recordCount; i++) {
    if (p >= nextMark && n < MAX_MARKS_PER_FRAME) {
      marks[m + 2 * n] = i;
      marks[m + 2 * n + 1] = p;
      n++;
      nextMark = p + stride;
    }
    p += RECORD_LENGTH_BYTES + (v.getUint32(p, true) & RECORD_LENGTH_MASK);
  }
  words[slot * WORDS + MARK_COUNT] = n;
  return slot;
}

/** Whether the frame in `slot` is the one whose header was just read. */
export function slotMatches(slot: number, h: FrameHeader): boolean {
  const w = slot * WORDS;
  return words[w + FRAME_BYTES] === h.frameBytes && words[w + RECORD_COUNT] === h.recordCount && baseOffsets[slot] === h.baseOffset && words[w + CRC] === h.crc;
}

/** The last mark of the frame in `slot` at or before record `k` (index in frame): [record index, byte in frame]. */
export function slotMarkAtOrBefore(slot: number, k: number): [number, number] {
  const m = slot * MARK_WORDS;
  let lo = 0;
  let hi = words[slot * WORDS + MARK_COUNT]! - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (marks[m + 2 * mid]! <= k) lo = mid;
    else hi = mid - 1;
  }
  return [marks[m + 2 * lo]!, marks[m + 2 * lo + 1]!];
}

function grow(maxSlots: number): void {
  const next = Math.min(Math.max(FIRST_SLOTS, 2 * capacity), maxSlots);
  const w = new Uint32Array(next * WORDS);
  w.set(words);
  const b = new Float64Array(next);
  b.set(baseOffsets);
  const m = new Uint32Array(next * MARK_WORDS);
  m.set(marks);
  words = w;
  baseOffsets = b;
  marks = m;
  capacity = next;
}
