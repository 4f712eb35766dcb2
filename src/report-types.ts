/**
 * The public types of what reactive-log reports: a dead letter, the producer's recovery report, and
 * how far a cursor is behind (with the threshold a consumer watches). Exported through src/types.ts.
 */

/** A record of a dead-letter log, as `decodeDeadLetter` returns it. */
export interface DeadLetter {
  /** The log the record came from (its real directory path). */
  readonly logId: string;
  /** The record's offset in that log. */
  readonly offset: number;
  /** Its timestamp there. */
  readonly timestamp: number;
  /** How many times the handler ran on it. */
  readonly attempts: number;
  /** The last error (message) the handler threw, or null if it answered 'retry' without one. */
  readonly lastError: string | null;
  /**
   * The original record's headers that the dead letter could not carry as its own (the local record
   * format takes at most 255 headers, names of 1 to 255 bytes, values of up to 65,535 bytes; a record
   * of a JetStream stream published by another NATS client may hold more), or null when it carries
   * them all: the original's headers are the dead-letter record's `headers` plus these.
   */
  readonly extraHeaders: Readonly<Record<string, string>> | null;
  /** The original bytes. */
  readonly data: Uint8Array;
}

/** What recovery did when the producer opened (`producer.recovery`). */
export interface RecoveryReport {
  /** Bytes cut from a torn tail (the unfinished end a crash left), with where and why; null if none. */
  readonly truncated: {
    /** The segment file (its name in the log directory). */
    readonly file: string;
    /** The byte position in `file` where the cut starts. */
    readonly position: number;
    /** How many bytes were cut. */
    readonly bytes: number;
    /** Why the bytes there are not a valid frame. */
    readonly reason: string;
  } | null;
  /** Files removed as leftovers of an interrupted segment roll or retention. */
  readonly removed: readonly string[];
}

/** Consumer.open's `lagThreshold`: lag past either limit counts as past the threshold. */
export interface LagThreshold {
  /** Records behind the end the consumer may read. */
  readonly records?: number;
  /** The newest record's timestamp minus the next unread one's, ms. */
  readonly ms?: number;
}

/** How far a cursor is behind the log's durable end (on JetStream, the stream's end: what each figure means there is in docs/jetstream.md). */
export interface CursorLag {
  /** Durable records from the cursor (or the log start, if retention passed it) to the durable end. */
  readonly records: number;
  /**
   * Segment bytes of the frames from the one holding that record to the one holding the newest
   * durable record (whole frames, their overhead included; records written after it, not yet
   * durable, are not counted, as in `records`).
   */
  readonly bytes: number;
  /** The newest durable record's timestamp minus the timestamp of that record; 0 when caught up. */
  readonly ms: number;
}
