/**
 * `producer.stats()` on JetStream: the local figures (ProducerStats) where the engine has them, and
 * the figures of its acknowledgements (BackendProducerStats). What each one means here is in
 * docs/jetstream.md ("producer.stats()"). The acknowledgement latency is kept in a log-linear
 * histogram as the writer's fsync latency is (writer-stats.ts): a percentile is the upper bound of
 * its bucket, at most about 19% above the true figure; `max` and `mean` are exact.
 */
import type { BackendProducerStats } from '../backend/backend-types.js';
import { RECORD_OVERHEAD_BYTES, type Queued } from './publish-queue.js';

const SUB_BUCKETS = 4;
/** Buckets of microseconds: up to 2^40 us (about 12 days). */
const BUCKETS = 40 * SUB_BUCKETS;

/** What the producer's state says now, beside the counters. */
export interface ProducerNow {
  readonly acknowledgedOffset: number;
  readonly inFlight: number;
  readonly queuedRecords: number;
  readonly queuedBytes: number;
  readonly maxQueueBytes: number;
}

export class PublishStats {
  private records = 0;
  private bytes = 0;
  private publishes = 0;
  private resyncs = 0;
  private acks = 0;
  private ackUsTotal = 0;
  private ackUsMax = 0;
  private readonly ackHistogram = new Float64Array(BUCKETS);

  /** A record was published (again, after a resync). */
  published(): void {
    this.publishes++;
  }

  /** A record is acknowledged (by its publish's answer or by a resync that found it stored). */
  acknowledged(r: Queued): void {
    this.records++;
    this.bytes += r.bytes - RECORD_OVERHEAD_BYTES;
  }

  /** A publish's acknowledgement came `ms` after the publish. */
  ackLatency(ms: number): void {
    const us = Math.max(0, ms * 1000);
    this.acks++;
    this.ackUsTotal += us;
    if (us > this.ackUsMax) this.ackUsMax = us;
    const b = us < 1 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log2(us) * SUB_BUCKETS));
    this.ackHistogram[b]!++;
  }

  resynced(): void {
    this.resyncs++;
  }

  read(now: ProducerNow): BackendProducerStats {
    const sent = this.publishes > 0 ? 1 : 0;
    return {
      records: this.records,
      bytes: this.bytes,
      frames: this.publishes,
      fsyncs: 0,
      fsyncMs: { p50: 0, p99: 0, max: 0, mean: 0 },
      batchRecords: { p50: sent, p99: sent, max: sent, mean: sent },
      rolls: 0,
      segmentsDeleted: 0,
      retentionBlockedMs: 0,
      writerSleeps: 0,
      ringBytes: now.queuedBytes,
      // At most 1, as ProducerStats says: one record larger than maxQueueBytes is taken into an empty queue alone.
      ringFill: Math.min(1, now.queuedBytes / now.maxQueueBytes),
      acknowledgedOffset: now.acknowledgedOffset,
      inFlight: now.inFlight,
      queuedRecords: now.queuedRecords,
      resyncs: this.resyncs,
      ackMs: {
        p50: this.percentileUs(0.5) / 1000,
        p99: this.percentileUs(0.99) / 1000,
        max: this.ackUsMax / 1000,
        mean: this.acks === 0 ? 0 : this.ackUsTotal / this.acks / 1000,
      },
    };
  }

  /** The value below which `q` of the latencies lie: the upper bound of that bucket, capped by the maximum. */
  private percentileUs(q: number): number {
    if (this.acks === 0) return 0;
    const rank = Math.ceil(q * this.acks);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.ackHistogram[b]!;
      if (seen >= rank) return Math.min(this.ackUsMax, 2 ** ((b + 1) / SUB_BUCKETS));
    }
    return this.ackUsMax;
  }
}
