/**
 * The writer's counters and latency figures, in a SharedArrayBuffer the writer thread alone writes
 * and `producer.stats()` reads, synchronously, without a message: records, bytes and frames written,
 * fsyncs with their latency, segment rolls and deletions, time blocked by retention, and two
 * histograms (fsync latency in ns, records per frame).
 *
 * The histograms are log-linear: SUB_BUCKETS buckets per power of two, so a percentile read from
 * them is the upper bound of its bucket, at most 2^(1/4) (about 19%) above the true figure. The
 * maximum is exact. Every slot is a BigInt64 stored with Atomics: a stats() call never reads a torn
 * number, though two numbers may come from two moments a few instructions apart.
 */

import { I32, type ControlViews } from '../ring/layout.js';

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
} as const;
const COUNTERS = 16;
const SUB_BUCKETS = 4;
/** Bucket counts: values up to 2^48 (ns: about 78 hours; records per frame: far past any frame). */
const BUCKETS = 48 * SUB_BUCKETS;
const FSYNC_HISTOGRAM = COUNTERS;
const BATCH_HISTOGRAM = COUNTERS + BUCKETS;
export const STATS_BYTES = (COUNTERS + 2 * BUCKETS) * 8;

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

/** The writer's side: records what it does. */
export class WriterStats {
  private readonly s: BigInt64Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(STATS_BYTES)) {
    this.s = new BigInt64Array(buffer);
  }

  private add(slot: number, v: number): void {
    Atomics.add(this.s, slot, BigInt(v));
  }

  private max(slot: number, v: number): void {
    if (BigInt(v) > Atomics.load(this.s, slot)) Atomics.store(this.s, slot, BigInt(v));
  }

  frame(records: number, bytes: number): void {
    this.add(S.RECORDS, records);
    this.add(S.BYTES, bytes);
    this.add(S.FRAMES, 1);
    this.max(S.MAX_FRAME_RECORDS, records);
    this.add(BATCH_HISTOGRAM + bucketOf(records), 1);
  }

  fsync(ms: number): void {
    const ns = Math.round(ms * 1e6);
    this.add(S.FSYNCS, 1);
    this.add(S.FSYNC_NS_TOTAL, ns);
    this.max(S.FSYNC_NS_MAX, ns);
    this.add(FSYNC_HISTOGRAM + bucketOf(ns), 1);
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
}

/** The value below which `q` of the counts lie: the upper bound of that bucket, capped by `max`. */
function percentile(s: BigInt64Array, from: number, count: number, q: number, max: number): number {
  if (count === 0) return 0;
  const rank = Math.ceil(q * count);
  let seen = 0;
  for (let b = 0; b < BUCKETS; b++) {
    seen += Number(Atomics.load(s, from + b));
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
  const s = new BigInt64Array(buffer);
  const n = (slot: number): number => Number(Atomics.load(s, slot));
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
    ringBytes: Math.min(ringUsed, ringSize), // the tail read first, the head later: what they span may pass a ring's worth
    ringFill: Math.min(ringUsed, ringSize) / ringSize,
  };
}
