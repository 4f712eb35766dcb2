/**
 * What `verifyLog` reports, as plain data (docs/verify.md describes each check). Every problem found is
 * one `VerifyFinding`; the per-file reports say what was there. `ok` is false exactly when at least one
 * finding has severity 'damage'.
 */

/** 'damage': bytes that should be whole are not; 'warning': what a crash or a live writer can leave, or a file the log ignores. */
export type VerifySeverity = 'damage' | 'warning';

/** What a finding is about. */
export type VerifyFindingKind =
  /** A segment header is invalid, or names another base offset than the file name. */
  | 'segment-header'
  /** The newest segment has no whole header and no valid frame: an interrupted roll (warning; recovery removes it). */
  | 'torn-roll'
  /** A frame fails its checks (magic, length, offset, trailer, checksum, record lengths) where the bytes had been made durable. */
  | 'frame'
  /** The active segment ends in bytes that are not a valid frame and were never fsynced: a torn write (warning; recovery cuts it). */
  | 'torn-tail'
  /**
   * A frame stamped earlier than the frame before it along the log (a warning: its checksum holds, so it
   * was written so). The writer never does that; `Whence.timestamp` and `resetCursor` to a time, which
   * search by frame time, may start past records at or after the time given.
   */
  | 'time'
  /** Offsets missing between two segments. */
  | 'gap'
  /** Two segments claim the same offsets. */
  | 'overlap'
  /** An index entry that is out of order, points outside the segment or at something that is not the frame it names; or a missing or torn index file. */
  | 'index'
  /** A cursor file with no valid slot, slots that contradict each other, or a cursor outside the log. */
  | 'cursor'
  /** durable.offset is unreadable, or names records that are not in the log. */
  | 'durable-hint'
  /** start.offset is unreadable, or names a start that is no segment's base (warnings: recovery then ignores it); damage when it names a start past the newest segment's base (recovery refuses the log). */
  | 'start-offset'
  /** A transient file an interrupted operation leaves behind (a lock being taken, a cursor being created). */
  | 'leftover'
  /** A file or folder the log does not use (it is ignored by the log). */
  | 'foreign-file'
  /** A file that could not be read (an I/O error). */
  | 'unreadable'
  /** The directory holds no segment at all. */
  | 'no-segments';

/** One problem verify found, in one file. */
export interface VerifyFinding {
  /** Damage, or a warning (see VerifySeverity). */
  readonly severity: VerifySeverity;
  /** What the finding is about. */
  readonly kind: VerifyFindingKind;
  /** The file, relative to the log directory (e.g. `cursors/global.cursor`). */
  readonly file: string;
  /** Byte position in `file`, when one applies. */
  readonly position: number | null;
  /** Record offset involved, when one applies. */
  readonly offset: number | null;
  /** One sentence saying what is wrong. */
  readonly message: string;
}

/** One stretch of bytes in a segment that is not valid frames. */
export interface DamagedRange {
  /** The byte position in the segment where the first invalid frame starts. */
  readonly position: number;
  /** Bytes up to the next valid frame (or the end of the file). */
  readonly bytes: number;
  /** Why the frame at `position` is not valid. */
  readonly reason: string;
  /** True for a torn tail (never fsynced), false for damage. */
  readonly tornTail: boolean;
}

/** What verify found in one segment file and its index. */
export interface SegmentReport {
  /** The segment's file name, e.g. `00000000000000000000.seg`. */
  readonly file: string;
  /** The base offset in the file name. */
  readonly baseOffset: number;
  /** The newest segment is the active one (written to); the others are sealed. */
  readonly role: 'sealed' | 'active';
  /** The file's size in bytes. */
  readonly bytes: number;
  /** Null when the header is valid and matches the name, else why not. */
  readonly headerProblem: string | null;
  /** Valid frames found. */
  readonly frames: number;
  /** Records in the valid frames. */
  readonly records: number;
  /** Offset after the last record of the last valid frame (equals `baseOffset` when there is none). */
  readonly endOffset: number;
  /** Timestamp of the newest valid frame, or null. */
  readonly newestTimestampMs: number | null;
  /** Stretches of invalid bytes, in file order. */
  readonly damaged: readonly DamagedRange[];
  /** The segment's sparse index file, checked entry by entry against the frames found. */
  readonly index: {
    /** The index file exists. */
    readonly present: boolean;
    /** Whole entries in the file. */
    readonly entries: number;
    /** Entries that point at the frame they name. */
    readonly good: number;
    /** Entries of the active segment that point past the bytes read (written after the scan, or torn). */
    readonly unchecked: number;
  };
}

/** One of the two slots of a cursor file. */
export interface CursorSlotReport {
  /** 'valid': magic, length and checksum hold; 'unused': never written; 'invalid': written and damaged (or torn). */
  readonly state: 'valid' | 'unused' | 'invalid';
  /** A valid slot: its commit sequence number (slot A holds even ones, slot B odd ones); else null. */
  readonly sequence: number | null;
  /** A valid slot: the committed offset it holds; else null. */
  readonly offset: number | null;
  /** A valid slot: the size of the committed state in bytes (null when it holds no state); else null. */
  readonly stateBytes: number | null;
}

/** What verify found in one cursor file. */
export interface CursorReport {
  /** e.g. `cursors/client.mailer.cursor`. */
  readonly file: string;
  /** `client.<id>` or `global`. */
  readonly name: string;
  /** The slot at byte 0. */
  readonly slotA: CursorSlotReport;
  /** The slot after it. */
  readonly slotB: CursorSlotReport;
  /** The slot whose value counts, or null when neither is valid. */
  readonly current: 'A' | 'B' | null;
  /** The committed offset (next record to deliver), or null when unreadable. */
  readonly offset: number | null;
  /** Whether a live process holds the cursor's lock file. */
  readonly locked: boolean;
}

/** What `verifyLog` reports for one log directory. */
export interface VerifyReport {
  /** The directory verified, as an absolute path. */
  readonly dir: string;
  /** No finding is damage. */
  readonly ok: boolean;
  /** Findings with severity 'damage'. */
  readonly damageCount: number;
  /** Findings with severity 'warning'. */
  readonly warningCount: number;
  /** First stored offset (the lowest segment's base), or null without segments. */
  readonly logStartOffset: number | null;
  /** Offset after the last valid record of the newest segment, or null without segments. */
  readonly logEndOffset: number | null;
  /** Records in valid frames, over all segments. */
  readonly records: number;
  /** One report per segment that is part of the log, oldest first. */
  readonly segments: readonly SegmentReport[];
  /** `durable.offset`: missing, unreadable (short or checksum), or the offset it holds. */
  readonly durableHint: {
    /** 'missing': no such file, or an empty one (created to hold the readers lock); 'invalid': short, or its checksum does not match; 'valid': readable. */
    readonly state: 'missing' | 'invalid' | 'valid';
    /** The offset it holds when valid; else null. */
    readonly offset: number | null;
  };
  /** `producer.lock`: its owner, and whether that process is alive (a live producer may be writing); null without the file or an owner in it. */
  readonly producerLock: {
    /** The process id the lock file names. */
    readonly ownerPid: number;
    /** Whether that process is alive. */
    readonly live: boolean;
  } | null;
  /** One report per cursor file in `cursors/`, by name. */
  readonly cursors: readonly CursorReport[];
  /** Every problem, in the order found (segments, indexes, durable hint, cursors, other files). */
  readonly findings: readonly VerifyFinding[];
}
