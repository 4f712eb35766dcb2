/**
 * The reader caches of this thread (docs/architecture.md, "Reader caches"): what this thread's readers
 * already checked in a segment file, kept only while the file provably did not change since.
 *
 * - Verified frames: a frame whose CRC, trailer and record lengths were checked is not checked again
 *   while its segment file has the stamp (device, inode, size, mtime, ctime, from fstat with
 *   nanosecond times) it had when the frame was read for the check. Each entry also keeps where every
 *   few KiB a record starts inside the frame, so a seek reads a few KiB near its target instead of the
 *   whole frame.
 * - The parsed sparse index of a segment, under the same stamp. It is a hint either way: every entry
 *   used is checked against the frame header it names.
 * - That the segment's header was checked, under the same stamp (LogReader.seekToRecord skips reading
 *   it when a stamp taken after its other reads still equals that one).
 *
 * The racy-timestamp rule (git has the same problem with its index): file times move in kernel ticks,
 * so a write just after a stamp was taken may leave every field of it unchanged. A stamp is therefore
 * recorded only when its mtime and ctime lie at least SETTLE_MARGIN_MS before a wall-clock reading
 * taken before the stamp: a later write then sets them to a later tick, which the next stamp shows.
 * Trust is always decided with a stamp taken after the bytes were read: equal to the recorded one, no
 * write touched the file since the check. Nothing here reads or writes files; `verifyLog` never uses
 * it (its file layer has no `stamp`).
 *
 * Bounded: frames under MIN_CACHED_FRAME_BYTES are not kept (checking them costs about what a lookup
 * does), at most MAX_CACHED_FRAMES frames and MAX_CACHED_SEGMENTS segments are kept, and whole
 * segments are evicted, least recently used first. The frames live in reused slots (frame-slots.ts):
 * an evicted segment's slots take the next frames.
 */
import type { FrameHeader } from '../format/frame.js';
import type { FileStamp } from '../storage/file-io.js';
import type { IndexEntries } from '../segment/offset-index.js';
import { clearSlots, freeSlot, slotMarkAtOrBefore, slotMatches, takeSlot } from './frame-slots.js';

/** How far a file's times must lie behind the clock before a stamp of it is trusted to show changes. */
export const SETTLE_MARGIN_MS = 100;
/**
 * The margin for a stamp whose times are whole seconds: a file system that keeps times in seconds (or
 * in 2 s steps, as FAT) gives a write in the same step the same time, whatever the margin below a step.
 */
export const COARSE_SETTLE_MARGIN_MS = 3000;
const NS_PER_S = 1_000_000_000n;
/**
 * Frames smaller than this are checked every time. Measured (node 20, 2-core EPYC): CRC-32 of 8 KiB
 * 1.3 µs, of 16 KiB 2.8 µs, of 256 KiB 38 µs; an fstat 1.4 µs, and a trusted frame needs one.
 */
export const MIN_CACHED_FRAME_BYTES = 16 * 1024;
export const MAX_CACHED_FRAMES = 8192;
export const MAX_CACHED_SEGMENTS = 512;

/**
 * A frame that passed every check: the slot (frame-slots.ts) holding its header fields as they stood
 * and where every few KiB a record starts in it. Valid while its entry holds it: an entry that leaves
 * the cache gives its slots back and is emptied.
 */
export type VerifiedFrame = number;

/** What is known about one segment file while it keeps `stamp`. */
export interface SegmentEntry {
  readonly stamp: FileStamp;
  /** The verified frames by file position. */
  readonly frames: Map<number, VerifiedFrame>;
  index: IndexEntries | null;
  /** Its segment header was read and found valid after `stamp` was taken. */
  headerChecked: boolean;
}

/** Counters of this thread's readers, for tests and benchmarks: a test can see that a cache was (or was not) used. */
export const readerStats = {
  /** readLogBounds() calls: each lists the directory and walks the newest segment's tail. */
  boundsWalks: 0,
  /** Frames checked in full (CRC, trailer, record lengths) by a LogReader. */
  framesChecked: 0,
  /** Frames handed out without a new check, on the word of this cache. */
  framesTrusted: 0,
  /** Frames handed out without a new check, on the word of this process's writer (WriterFrames). */
  framesFresh: 0,
  /** Segment entries dropped because the file's stamp changed. */
  segmentsDropped: 0,
  /** Directory listings served from the cache (segment-list.ts). */
  listingsReused: 0,
};

const segments = new Map<string, SegmentEntry>(); // by segment path, least recently used first
let frameCount = 0;
let lastWallMs = 0;

/** Empties every reader cache of this thread (tests; and when the wall clock steps back). */
export function clearReaderCaches(): void {
  for (const e of segments.values()) e.frames.clear();
  segments.clear();
  clearSlots();
  frameCount = 0;
  clearListings();
}

let clearListings: () => void = () => {};
/** segment-list.ts registers how to empty its cache, so that one call empties them all. */
export function onClearReaderCaches(clear: () => void): void {
  clearListings = clear;
}

/**
 * The wall clock, ms, for the racy-timestamp rule. If it reads earlier than it did before, the clock
 * stepped back: stamps recorded under the later clock are no longer proof, so every cache is emptied.
 */
export function wallNowMs(): number {
  const now = Date.now();
  if (now < lastWallMs) clearReaderCaches();
  lastWallMs = now;
  return now;
}

export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.ctimeNs === b.ctimeNs && a.mtimeNs === b.mtimeNs && a.size === b.size && a.ino === b.ino && a.dev === b.dev;
}

/**
 * Whether `stamp` may be recorded: its mtime and ctime lie at least the margin before `wallMs`, read
 * before the stamp was taken (a time in the future, as after a clock step, fails this too).
 */
export function settled(stamp: FileStamp, wallMs: number): boolean {
  const coarse = stamp.mtimeNs % NS_PER_S === 0n || stamp.ctimeNs % NS_PER_S === 0n;
  const limitNs = BigInt(wallMs - (coarse ? COARSE_SETTLE_MARGIN_MS : SETTLE_MARGIN_MS)) * 1_000_000n;
  return stamp.mtimeNs <= limitNs && stamp.ctimeNs <= limitNs;
}

/**
 * The wall time (ms) before which `stamp`, or any later stamp of the same file, cannot be settled: its
 * mtime and ctime only grow. A reader at the end of a file being written skips stamping until then.
 */
export function unsettledUntilMs(stamp: FileStamp): number {
  const coarse = stamp.mtimeNs % NS_PER_S === 0n || stamp.ctimeNs % NS_PER_S === 0n;
  const latest = stamp.mtimeNs > stamp.ctimeNs ? stamp.mtimeNs : stamp.ctimeNs;
  // For a whole wallMs, settled() holds iff wallMs - margin >= latest / 1e6, that is iff wallMs >=
  // ceil(latest / 1e6) + margin: exact in integers (a double loses the ns, and a time set by utimes
  // often lies on a whole millisecond).
  return Number((latest + 999_999n) / 1_000_000n) + (coarse ? COARSE_SETTLE_MARGIN_MS : SETTLE_MARGIN_MS);
}

/**
 * The entry of the segment at `path`, not yet confirmed: its frames may be trusted only for bytes read
 * before a stamp for which `confirmed` returns true.
 */
export function segmentEntry(path: string): SegmentEntry | undefined {
  return segments.get(path);
}

/**
 * Whether `after`, a stamp taken after some bytes were read, equals the entry's: then it is marked most
 * recently used; if not, it is dropped.
 */
export function confirmed(path: string, entry: SegmentEntry, after: FileStamp): boolean {
  if (!sameStamp(entry.stamp, after)) {
    dropSegment(path, entry);
    return false;
  }
  if (segments.get(path) === entry) {
    segments.delete(path);
    segments.set(path, entry);
  }
  return true;
}

export function dropSegment(path: string, entry: SegmentEntry): void {
  if (segments.get(path) !== entry) return;
  forget(path, entry);
  readerStats.segmentsDropped++;
}

/** Takes the entry of `path` out of the cache, its frames' slots freed and its frame map emptied (a holder of it trusts nothing more). */
function forget(path: string, e: SegmentEntry): void {
  segments.delete(path);
  frameCount -= e.frames.size;
  for (const slot of e.frames.values()) freeSlot(slot);
  e.frames.clear();
}

/** Whether `f` describes the frame whose header was just read. */
export function frameMatches(f: VerifiedFrame, h: FrameHeader): boolean {
  return slotMatches(f, h);
}

/** The last mark at or before record `k` of the frame (index in frame): [record index, byte in frame]. */
export function markAtOrBefore(f: VerifiedFrame, k: number): [number, number] {
  return slotMarkAtOrBefore(f, k);
}

/**
 * Notes that the frame at `framePosition` (header `h`, bytes at `buf[at]`) passed every check, in bytes read after
 * `stamp` was taken, itself after `wallMs` was read. Kept only if the stamp is settled and the frame
 * large enough. A different stamp replaces what was known of the file.
 */
export function recordFrame(path: string, stamp: FileStamp, wallMs: number, framePosition: number, h: FrameHeader, buf: Uint8Array, at: number): void {
  if (h.frameBytes < MIN_CACHED_FRAME_BYTES || !settled(stamp, wallMs)) return;
  const e = entryFor(path, stamp);
  if (e.frames.has(framePosition)) return;
  evict(e, 1);
  if (frameCount >= MAX_CACHED_FRAMES) return; // this segment alone fills the cache
  e.frames.set(framePosition, takeSlot(h, buf, at, MAX_CACHED_FRAMES));
  frameCount++;
}

/** Notes the parsed index of the segment at `path`, read after `stamp` (settled only) was taken. */
export function recordIndex(path: string, stamp: FileStamp, wallMs: number, index: IndexEntries): void {
  if (!settled(stamp, wallMs)) return;
  entryFor(path, stamp).index = index;
}

/** Notes that the header of the segment at `path` was valid when read after `stamp` (settled only) was taken. */
export function recordHeader(path: string, stamp: FileStamp, wallMs: number): void {
  if (settled(stamp, wallMs)) entryFor(path, stamp).headerChecked = true;
}

function entryFor(path: string, stamp: FileStamp): SegmentEntry {
  const old = segments.get(path);
  if (old !== undefined && sameStamp(old.stamp, stamp)) return old;
  if (old !== undefined) dropSegment(path, old);
  const e: SegmentEntry = { stamp, frames: new Map(), index: null, headerChecked: false };
  segments.set(path, e);
  evict(e, 0);
  return e;
}

/** Evicts whole segments other than `keep`, least recently used first, until `more` frames fit. */
function evict(keep: SegmentEntry, more: number): void {
  for (const [path, e] of segments) {
    if (frameCount + more <= MAX_CACHED_FRAMES && segments.size <= MAX_CACHED_SEGMENTS) return;
    if (e === keep) continue;
    forget(path, e);
  }
}
