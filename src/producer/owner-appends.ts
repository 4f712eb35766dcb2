/**
 * The appends of the producer's own handle, on the owner's thread: the dedup window and the next
 * offset. Until the first share() a record goes straight into the ring and the next offset is a
 * number here; from then on every append goes through SharedAppends (the append lock, the next
 * offset in shared memory), like the attached handles' appends.
 */
import { ErrorCode, LogError, internalError } from '../errors.js';
import type { AppendOptions } from '../format/record.js';
import type { RunResult } from '../funnel/owner-connection.js';
import type { ControlViews } from '../ring/layout.js';
import type { BatchRecord, RingAppender } from '../ring/ring-appender.js';
import type { FileIO } from '../storage/file-io.js';
import type { DedupWindow, DedupWindowOption } from './dedup-window.js';
import { rebuildDedupWindow } from './dedup-rebuild.js';
import { SharedAppends } from './shared-appends.js';

export class OwnerAppends {
  /** The offset the next append gets, while the producer is not shared. */
  private next: number;
  /** Set by the first share(): from then on every append takes the append lock and the offset from shared memory. */
  private sharedWith: SharedAppends | null = null;
  /** The dedup window, rebuilt from the log at open; null without the dedupWindow option. */
  dedup: DedupWindow | null = null;
  /** While an unshared append reads its options' dedupKey (a getter: the caller's code): share() is refused then. */
  private readingKey = false;

  constructor(
    private readonly c: ControlViews,
    /** The ring's writing end, this thread's. */
    readonly appender: RingAppender,
    nextOffset: number,
    private readonly appendTimeoutMs: number,
    /** Throws the error that explains why the log stopped accepting records. */
    private readonly stopped: () => never,
  ) {
    this.next = nextOffset;
  }

  /** The offset the next append of any handle will get. */
  get nextOffset(): number {
    return this.sharedWith === null ? this.next : this.sharedWith.nextOffset();
  }

  /** The lock's side of a shared producer, or null while it is not shared. */
  get shared(): SharedAppends | null {
    return this.sharedWith;
  }

  /** Rebuilds the dedup window from the log in `logDir` (at open, before the first append). */
  rebuildDedup(io: FileIO, logDir: string, option: DedupWindowOption): void {
    try {
      this.dedup = rebuildDedupWindow(io, logDir, option, this.next);
    } catch (e) {
      throw LogError.fromSystem(e, 'rebuilding the dedup window', logDir);
    }
  }

  /** Appends one record (the caller checked that the log runs); a dedup key the window holds returns its earlier offset. */
  append(data: Uint8Array | string, opts: AppendOptions | undefined): number {
    // Bytes without options in a few bytecodes, so that V8 inlines the whole path into the caller's loop.
    if (opts === undefined && this.sharedWith === null && data instanceof Uint8Array) {
      this.appender.appendPlain(data);
      return this.next++;
    }
    return this.appendWith(data, opts);
  }

  /** append() of a string, with options, or on a shared producer. */
  private appendWith(data: Uint8Array | string, opts: AppendOptions | undefined): number {
    if (this.sharedWith !== null) return this.sharedWith.append(data, opts, this.dedup);
    let dedupKey: string | undefined;
    this.readingKey = true;
    try {
      dedupKey = opts?.dedupKey;
    } finally {
      this.readingKey = false;
    }
    if (dedupKey !== undefined && this.dedup !== null) {
      const earlier = this.dedup.lookup(dedupKey, this.next);
      if (earlier !== undefined) {
        this.appender.check(data, opts, dedupKey);
        return earlier;
      }
    }
    this.appender.append(data, opts, dedupKey);
    const offset = this.next++;
    // The encoder accepted the key (a string of 1 to MAX_DEDUP_KEY_BYTES bytes) before anything was copied.
    if (dedupKey !== undefined && this.dedup !== null) this.dedup.remember(dedupKey, offset);
    return offset;
  }

  /** Appends a batch as one unit; returns the first record's offset. */
  appendBatch(records: readonly BatchRecord[]): number {
    if (this.sharedWith !== null) return this.sharedWith.appendBatch(records);
    const first = this.next;
    this.next += this.appender.appendBatch(records);
    return first;
  }

  /**
   * Records already in the ring's format (a funnel client's batch, `body[start, end)`) as one run;
   * null while the producer is shared, since other threads' appends take the lock between records.
   * `progress` runs after each piece published (the funnel tells its clients the owner is alive).
   */
  appendRun(body: Uint8Array, start: number, end: number, progress?: () => void): RunResult | null {
    if (this.sharedWith !== null) return null;
    const first = this.next;
    let error: LogError | null = null;
    try {
      this.appender.appendRun(body, start, end, (records) => { this.next += records; progress?.(); });
    } catch (e) {
      error = e instanceof LogError ? e : internalError(`appendRun threw ${String(e)}`);
    }
    return { first, appended: this.next - first, error };
  }

  /**
   * The first share(): the next offset moves to shared memory, and every handle appends under the lock.
   * Refused from inside an append of this handle (a getter of its record): that record takes its
   * offset from this handle's count after the copy, which the shared count would hand out again.
   */
  share(): void {
    if (this.sharedWith === null) {
      this.appender.refuseReentry(sharedInAppend);
      if (this.readingKey) throw sharedInAppend();
    }
    this.sharedWith ??= SharedAppends.start(this.c, this.appender, this.next, this.appendTimeoutMs, this.stopped);
  }
}

/** share() from a getter of a record being appended: that append fails with this, nothing appended. */
function sharedInAppend(): LogError {
  return new LogError(ErrorCode.INVALID_RECORD, 'invalid record: share() was called while an append of this producer was reading its record\'s options or batch records (from a getter): nothing was appended; call share() outside an append', { option: 'options' });
}
