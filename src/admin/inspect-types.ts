/**
 * What `inspectLog` reports, for a log directory (inspect.ts) and for a log on a backend
 * (`inspectLog({ backend })`; on JetStream: src/jetstream/inspect.ts).
 */
import type { CursorLag } from '../types.js';

/** A process that holds a lock. */
export interface LockHolder {
  /** Its process id. */
  readonly pid: number;
  /** The host name it runs on. */
  readonly host: string;
}

/** One segment file. */
export interface SegmentSummary {
  /** The offset of its first record (in its file name). */
  readonly baseOffset: number;
  /** The segment file's size in bytes (header and frame overhead included). */
  readonly bytes: number;
  /** Records in it, from the file names (and the log's end for the newest segment). */
  readonly records: number;
  /** The timestamp of its first record; null while it holds none, or when its first frame's header is not plausible (damage). */
  readonly oldestTimestamp: number | null;
}

/** One transactional cursor. */
export interface CursorSummary {
  /** The consumer id of a clientTx cursor; '@global' for the globalTx one. */
  readonly id: string;
  /** The style of the consumer that keeps it. */
  readonly style: 'clientTx' | 'globalTx';
  /** The next offset the cursor's consumer takes. */
  readonly committedOffset: number;
  /** How far it is behind the log's durable end. */
  readonly lag: CursorLag;
  /** The live consumer that holds the cursor open; null when none does. */
  readonly owner: LockHolder | null;
  /**
   * True when `committedOffset` lies past the end of the log's records (`nextOffset`): records it
   * committed were lost (segments lost after it committed). Its consumer cannot open
   * (ERR_LOG_CORRUPT), nor can a producer; `lag` is then 0. See docs/admin.md.
   */
  readonly pastEnd: boolean;
}

/** What inspectLog reports. */
export interface LogInfo {
  /** The oldest offset still stored. */
  readonly logStartOffset: number;
  /** The offset the next appended record gets: the end of the whole, valid frames in the files. */
  readonly nextOffset: number;
  /** The end of the durable records, from durable.offset (see docs/admin.md). */
  readonly durableOffset: number;
  /** The bytes of all segment files. */
  readonly totalBytes: number;
  /** Every segment file, oldest first. */
  readonly segments: SegmentSummary[];
  /** The live producer holding the log; null when none does. */
  readonly producer: LockHolder | null;
  /** Every transactional cursor, by file name. */
  readonly cursors: CursorSummary[];
}
