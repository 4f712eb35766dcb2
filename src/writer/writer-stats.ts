/**
 * The writer's counters and latency figures, in a SharedArrayBuffer the writer thread alone writes
 * and `producer.stats()` reads, synchronously, without a message: records, bytes and frames written,
 * fsyncs with their latency, segment rolls and deletions, time blocked by retention, the writer's
 * sleeps, and two histograms (fsync latency in ns, records per frame).
 *
 * The histograms are log-linear: SUB_BUCKETS buckets per power of two, so a percentile read from
 * them is the upper bound of its bucket, at most 2^(1/4) (about 19%) above the true figure. The
 * maximum is exact.
 *
 * The figures are float64 slots (whole numbers, exact below 2^53), written with plain stores between
 * two steps of a sequence count (odd while the writer updates), so that the writer allocates nothing
 * per frame. A reader copies them when the count is even and takes the copy if the count has not
 * moved meanwhile (a seqlock; its last look is a compare-exchange, whose write half keeps the copy's
 * loads before it). On x86-64, whose stores are seen in program order, such a copy is one moment's
 * figures. The ECMAScript memory model does not order plain accesses against the count, so on CPUs
 * that reorder stores (arm64) a copy may hold figures of two updates a few instructions apart, each
 * whole (an aligned 8-byte store). A reader retries while updates come and go, and waits while the
 * count stays odd and the writer runs (a thread preempted inside an update, for milliseconds at times
 * on a busy machine); when the log says the writer stopped (a thread terminated inside an update),
 * or after STUCK_MS in any case, it takes the figures as they are.
 */

import { I32, State, type ControlViews } from '../ring/layout.js';

/** Counter slots. */
const S = {
  RECORDS: 0,
  BYTES: 1,
  FRAMES: 2,
  FSYNCS: 3,
  FSYNC_NS_TOTAL: 4,
  FSYNC_NS_MAX: 5,
  ROLLS: 6,
  SEGMENTS_DELETED: 7,
  RETENTION_BLOCKED_NS: 8,
  MAX_FRAME_RECORDS: 9,
  SLEEPS: 10,
} as const;
const COUNTERS = 16;
const SUB_BUCKETS = 4;
/** Bucket counts: values up to 2^48 (ns: about 78 hours; records per frame: far past any frame). */
const BUCKETS = 48 * SUB_BUCKETS;
const FSYNC_HISTOGRAM = COUNTERS;
const BATCH_HISTOGRAM = COUNTERS + BUCKETS;
const SLOTS = COUNTERS + 2 * BUCKETS;
/** The sequence count (an Int32) in the first 8 bytes, then the slots. */
const SLOTS_BYTE = 8;
export const STATS_BYTES = SLOTS_BYTE + SLOTS * 8;
/** The longest a reader waits for an update under way, writer running or not, before it takes the figures as they are (ms). */
const STUCK_MS = 1000;

/** What `producer.stats()` returns. Counts are since the producer opened; times are in milliseconds. */
export interface ProducerStats {
  /** Records written to segment files. */
  readonly records: number;
  /** Bytes written to segment files (frames: headers, records, trailers). */
  readonly bytes: number;
  /** Frames written: a frame is one write of one batch of records. */
  readonly frames: number;
  /** fsyncs done (of the active segment, and the seal of a roll). */
  readonly fsyncs: number;
  /**
   * fsync latency (fdatasync of the active segment, and the seal of a roll), ms. A percentile is the
   * upper bound of its histogram bucket, at most about 19% above the true figure; `max` and `mean` are
   * exact. All 0 before the first fsync.
   */
  readonly fsyncMs: {
    /** Median. */ readonly p50: number;
    /** 99th percentile. */ readonly p99: number;
    /** Slowest. */ readonly max: number;
    /** Mean. */ readonly mean: number;
  };
  /** Records per frame: how much each write carried (percentiles rounded to whole records). */
  readonly batchRecords: {
    /** Median. */ readonly p50: number;
    /** 99th percentile. */ readonly p99: number;
    /** Largest. */ readonly max: number;
    /** Mean. */ readonly mean: number;
  };
  /** Segment rolls: segments sealed and new ones started. */
  readonly rolls: number;
  /** Segments deleted by retention. */
  readonly segmentsDeleted: number;
  /** Time the writer held records back because retention could not free space (blockingMinimumRetention), ms. */
  readonly retentionBlockedMs: number;
  /**
   * Times the writer thread went to sleep for want of work, each after watching an empty ring for
   * 50 µs: an idle writer sleeps in spells of at most 250 ms (about four a second), and one that a
   * write-behind call keeps waiting in spells of at most 1 ms; sleeps while retention holds records
   * back are not counted (retentionBlockedMs). A record that ends a sleep waits for the writer thread's wake-up,
   * which takes microseconds mostly and milliseconds at times on a busy machine
   * (docs/performance.md, "Where the written-visible tail comes from").
   */
  readonly writerSleeps: number;
  /** Bytes waiting in the ring now (appended, not yet taken by the writer). */
  readonly ringBytes: number;
  /** `ringBytes` as a fraction of the ring's size (the `ringBytes` option), from 0 to 1. */
  readonly ringFill: number;
}

function bucketOf(v: number): number {
  if (v < 1) return 0;
  const b = Math.floor(Math.log2(v) * SUB_BUCKETS);
  return b < BUCKETS ? b : BUCKETS - 1;
}

/** The writer's side: records what it does. Only one thread (the writer's) may hold one. */
export class WriterStats {
  private readonly seq: Int32Array;
  private readonly s: Float64Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(STATS_BYTES)) {
    this.seq = new Int32Array(buffer, 0, 1);
    this.s = new Float64Array(buffer, SLOTS_BYTE, SLOTS);
  }

  frame(records: number, bytes: number): void {
    const s = this.s;
    Atomics.add(this.seq, 0, 1);
    s[S.RECORDS]! += records;
    s[S.BYTES]! += bytes;
    s[S.FRAMES]! += 1;
    if (records > s[S.MAX_FRAME_RECORDS]!) s[S.MAX_FRAME_RECORDS] = records;
    s[BATCH_HISTOGRAM + bucketOf(records)]! += 1;
    Atomics.add(this.seq, 0, 1);
  }

  fsync(ms: number): void {
    const s = this.s;
    const ns = Math.round(ms * 1e6);
    Atomics.add(this.seq, 0, 1);
    s[S.FSYNCS]! += 1;
    s[S.FSYNC_NS_TOTAL]! += ns;
    if (ns > s[S.FSYNC_NS_MAX]!) s[S.FSYNC_NS_MAX] = ns;
    s[FSYNC_HISTOGRAM + bucketOf(ns)]! += 1;
    Atomics.add(this.seq, 0, 1);
  }

  roll(): void {
    this.add(S.ROLLS, 1);
  }

  segmentDeleted(): void {
    this.add(S.SEGMENTS_DELETED, 1);
  }

  retentionBlocked(ms: number): void {
    this.add(S.RETENTION_BLOCKED_NS, Math.round(ms * 1e6));
  }

  slept(): void {
    this.add(S.SLEEPS, 1);
  }

  private add(slot: number, v: number): void {
    Atomics.add(this.seq, 0, 1);
    this.s[slot]! += v;
    Atomics.add(this.seq, 0, 1);
  }
}

/** Where the figures lie in a snapshot: counter slots, and the first slot and length of each histogram. */
export const STATS_SLOTS = { ...S, FSYNC_HISTOGRAM, BATCH_HISTOGRAM, BUCKETS } as const;

/**
 * A copy of the figures taken between two updates (see the module comment): readStats' first step.
 * `writerRuns`: whether the thread that updates them may still finish an update it began.
 */
export function snapshot(buffer: SharedArrayBuffer, writerRuns: () => boolean): Float64Array {
  const seq = new Int32Array(buffer, 0, 1);
  const s = new Float64Array(buffer, SLOTS_BYTE, SLOTS);
  const copy = new Float64Array(SLOTS);
  let odd = -1;
  let oddSince = 0;
  for (;;) {
    const before = Atomics.load(seq, 0);
    if ((before & 1) === 0) {
      copy.set(s);
      if (Atomics.compareExchange(seq, 0, before, before) === before) return copy;
    } else if (before !== odd) {
      odd = before;
      oddSince = performance.now();
    } else if (!writerRuns() || performance.now() - oddSince > STUCK_MS) {
      copy.set(s);
      return copy;
    }
  }
}

/** The value below which `q` of the counts lie: the upper bound of that bucket, capped by `max`. */
function percentile(s: Float64Array, from: number, count: number, q: number, max: number): number {
  if (count === 0) return 0;
  const rank = Math.ceil(q * count);
  let seen = 0;
  for (let b = 0; b < BUCKETS; b++) {
    seen += s[from + b]!;
    if (seen >= rank) return Math.min(max, 2 ** ((b + 1) / SUB_BUCKETS));
  }
  return max;
}

/**
 * The producer's side: the figures, and the ring's fill now from its TAIL and HEAD. The tail is read
 * first: a head read after it is never behind it (attached handles move the head meanwhile).
 */
export function readStats(buffer: SharedArrayBuffer, c: ControlViews, ringSize: number): ProducerStats {
  const tail = Atomics.load(c.i32, I32.TAIL) >>> 0;
  const ringUsed = ((Atomics.load(c.i32, I32.HEAD) >>> 0) - tail) >>> 0;
  const s = snapshot(buffer, () => {
    const state = Atomics.load(c.i32, I32.STATE);
    return state === State.RUNNING || state === State.CLOSING;
  });
  const n = (slot: number): number => s[slot]!;
  const fsyncs = n(S.FSYNCS);
  const maxNs = n(S.FSYNC_NS_MAX);
  const frames = n(S.FRAMES);
  const maxRecords = n(S.MAX_FRAME_RECORDS);
  return {
    records: n(S.RECORDS),
    bytes: n(S.BYTES),
    frames,
    fsyncs,
    fsyncMs: {
      p50: percentile(s, FSYNC_HISTOGRAM, fsyncs, 0.5, maxNs) / 1e6,
      p99: percentile(s, FSYNC_HISTOGRAM, fsyncs, 0.99, maxNs) / 1e6,
      max: maxNs / 1e6,
      mean: fsyncs === 0 ? 0 : n(S.FSYNC_NS_TOTAL) / fsyncs / 1e6,
    },
    batchRecords: {
      p50: Math.round(percentile(s, BATCH_HISTOGRAM, frames, 0.5, maxRecords)),
      p99: Math.round(percentile(s, BATCH_HISTOGRAM, frames, 0.99, maxRecords)),
      max: maxRecords,
      mean: frames === 0 ? 0 : n(S.RECORDS) / frames,
    },
    rolls: n(S.ROLLS),
    segmentsDeleted: n(S.SEGMENTS_DELETED),
    retentionBlockedMs: n(S.RETENTION_BLOCKED_NS) / 1e6,
    writerSleeps: n(S.SLEEPS),
    ringBytes: Math.min(ringUsed, ringSize), // the tail read first, the head later: what they span may pass a ring's worth
    ringFill: Math.min(ringUsed, ringSize) / ringSize,
  };
}
