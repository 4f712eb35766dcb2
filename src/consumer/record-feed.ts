/**
 * What a consumer reads from: the reader placed at its next record, the record handed out and not
 * completed yet, the transactional cursor, how far the reader may go, and the wait for more. The
 * consumer's iterations, its processing loop (RecordSource), the tail iterator (TailSource) and its
 * pool calls (PoolHost) all work on this one object; the Consumer handle keeps the lifecycle.
 *
 * One iteration or processing call runs at a time: enter() takes the feed (ERR_CONSUMER_BUSY
 * otherwise), leave() makes the cursor durable and gives it back.
 *
 * The engine underneath is reached through the seam of log-source.ts: the reader (read() per
 * record), the source (per batch: the read limit, waits, fills) and the cursor store.
 */
import type { CursorLag, Message } from '../types.js';
import { MAX_STATE_BYTES } from '../cursor/cursor-file.js';
import { ErrorCode, LogError } from '../errors.js';
import type { CursorStore, LogSource, ReadLimit, RecordReader } from './log-source.js';
import type { PoolHost } from './pool-host.js';
import type { DirIdentity } from '../reader/dir-identity.js';
import type { EndSource } from './pool-protocol.js';
import type { RecordSource } from './process.js';
import type { TailSource } from './tail-iterator.js';

const NOTHING_READ: ReadLimit = { limitOffset: 0, strict: false };

export class RecordFeed implements RecordSource, TailSource, PoolHost {
  /** Aborted by close() or destroy(): ends waits, cuts a retry delay short, wakes a pool's coordinator. */
  private readonly closeRequest = new AbortController();
  private closed = false; // closeRequest is aborted; a plain field, because take() reads it for every record
  private released = false; // the reader and the cursor are closed: nothing is read or committed any more
  /** What release() returned: close()'s commit and lease release, in flight or settled. */
  private releasing: void | Promise<void> = undefined;
  private busy = false;
  /** While a processing call runs: resolves once it has ended (its last outcome committed). */
  private callEnd: Promise<void> | null = null;
  private endCall: () => void = () => undefined;
  /** A record handed out and not completed; handed out first next time. */
  private pending: Message | null = null;
  /** The last limit read; limits only grow, so it is re-read only when the reader reaches it. */
  private bound: ReadLimit = NOTHING_READ;
  /** A nonblocking call or iteration runs: `bound`, read at enter(), is not read again until it ends. */
  private endFixed = false;
  private endRead: Promise<number> | null = null; // a nonblocking call on an async engine: the end read at its start
  /** During a pool call: every record below it is done (the pool reads ahead on its own). */
  private poolDoneOffset = 0;
  /** A pool call runs: lag() counts from poolDoneOffset, not from how far the pool's feeder read. */
  private inPoolCall = false;

  /** Identifies the log; with an offset it makes an idempotency key. */
  readonly logId: string;
  /** During a pool call: a commit of the cursor failed and is being retried (PoolHost). */
  readonly commitInDoubt = (): boolean => this.cursor?.inDoubt?.() === true;
  private readonly storeCanFail: boolean; // the cursor store can fail for good while a call runs (CursorStore.failure): checked per record

  constructor(
    /** The engine's per-batch side. */
    private readonly source: LogSource,
    private readonly cursor: CursorStore | null,
    /** Placed at the first record to hand out. */
    private readonly reader: RecordReader,
  ) {
    this.logId = source.logId;
    this.storeCanFail = cursor !== null && 'failure' in cursor;
  }

  get incarnation(): string | null { return this.source.incarnation ?? null; } // which log of that id it is (LogSource.incarnation), or null
  get synchronous(): boolean { return this.source.synchronous; } // records can be read without waiting for I/O (iter() needs it)
  get supportsPools(): boolean { return this.source.supportsPools; } // a worker pool can read this log
  get dirIdentity(): DirIdentity { return this.source.dirIdentity ?? null; } // a local log's directory at the open (PoolHost)

  /** Transactional styles: the largest state ctx.setState takes (the cursor store's); else null. */
  get stateLimit(): number | null {
    return this.cursor === null ? null : this.cursor.maxStateBytes ?? MAX_STATE_BYTES;
  }

  get closeRequested(): AbortSignal { return this.closeRequest.signal; } // aborts when close() or destroy() is called

  get callEnded(): Promise<void> | null { return this.callEnd; } // while a processing call runs: resolves once it has ended; else null

  get nextOffset(): number { return this.pending?.offset ?? this.reader.nextOffset; } // the next record to hand out

  /** Transactional styles: the durable cursor; else null. */
  get committedOffset(): number | null {
    return this.cursor?.committedOffset ?? null;
  }

  /**
   * Transactional styles: a copy of the state committed with the cursor (as last set), so bytes the
   * caller changes in place never become the committed state; else null. A plain Uint8Array of this
   * realm however the state was set or read (a slice would keep a Buffer's or a vm context's species).
   */
  currentState(): Uint8Array | null {
    const state = this.cursor?.currentState ?? null;
    return state === null ? null : new Uint8Array(state);
  }

  isClosed(): boolean { // close() or destroy() was called: no new calls, no new records
    return this.closed;
  }

  get isReleased(): boolean { return this.released; } // the reader and the cursor are closed (release())

  /**
   * Takes the feed for an iteration or (`call`) a processing call, which close() waits for. A
   * `nonblocking` one hands out the records in the log now: on a local log its end is read here (an
   * offset, or the files' end: fixEnd), records appended meanwhile are left for the next call; an
   * async engine starts reading its end from the server here, and fill() waits for it.
   */
  enter(call = false, nonblocking = false): void {
    if (this.isClosed()) throw LogError.closed('consumer');
    this.checkCursor();
    if (this.busy) throw new LogError(ErrorCode.CONSUMER_BUSY, 'this consumer is already serving an iteration or a processing call');
    const endFixed = nonblocking && this.source.synchronous;
    // Before the feed is taken: reading the end may throw (durable.offset), and a call that never ran leaves it free.
    if (endFixed) {
      this.source.fixEnd?.(this.reader, true);
      try { this.bound = this.source.readLimit(this.reader); } catch (e) { this.source.fixEnd?.(this.reader, false); throw e; }
    }
    this.endFixed = endFixed;
    this.busy = true;
    this.source.callStarts?.();
    if (call) this.callEnd = new Promise((resolve) => { this.endCall = resolve; });
    if (!endFixed && nonblocking && this.source.refreshEnd !== undefined) {
      // An async engine: the end is read from the server now, and fill() goes no further (fillToEnd).
      this.endRead = this.source.refreshEnd(undefined).then(() => this.source.availableEndOffset(this.reader));
      this.endRead.catch(() => undefined); // observed by fillToEnd()
    }
  }

  /** Gives the feed back; the cursor is made durable first (an async store: the commit's promise, which close() also waits for). */
  leave(): void | Promise<void> {
    this.busy = false;
    this.endFixed = false;
    this.endRead = null;
    this.source.fixEnd?.(this.reader, false);
    this.source.disarm();
    try {
      return this.syncCursor();
    } finally {
      // A close() waiting for this call goes on now; the call's own promise settles right after.
      const end = this.endCall;
      this.endCall = () => undefined;
      this.callEnd = null;
      end();
    }
  }

  /** No new records: waits end now. */
  requestClose(): void {
    this.closed = true;
    this.closeRequest.abort();
    this.source.stopWaiting();
  }

  /**
   * Closes the reader and the cursor: `commit` makes the cursor durable first (close), else what moved
   * since the last durable commit is dropped (destroy). Nothing is committed after this.
   */
  release(commit: boolean): void | Promise<void> {
    this.released = true;
    this.releasing = this.releaseNow(commit);
    return this.releasing;
  }

  /**
   * destroy() after close() began releasing: the cursor is dropped, so that a last commit being retried
   * (an async store riding out an outage) ends now; resolves once the release settled.
   */
  cutRelease(): Promise<void> {
    const dropped = this.cursor?.drop();
    return Promise.all([dropped, this.releasing]).then(() => undefined, () => undefined);
  }

  private releaseNow(commit: boolean): void | Promise<void> {
    let done: void | Promise<void> = undefined;
    try {
      this.reader.close();
    } finally {
      try {
        done = commit ? this.cursor?.close() : this.cursor?.drop();
      } finally {
        // The source last: an async cursor store commits and gives its lease up over the source's connection.
        if (done === undefined) done = this.source.close();
        else {
          const closeSource = (): void | Promise<void> => this.source.close();
          done = done.then(closeSource, async (e: unknown) => {
            await closeSource();
            throw e;
          });
        }
      }
    }
    return done;
  }

  checkCursor(): void { if (this.storeCanFail && this.cursor!.failure != null) throw this.cursor!.failure; } // the store commits nothing more (CursorStore.failure): its records are another owner's now
  /** The pending record, else the next visible one, else null. It stays pending until completed. Throws the cursor store's failure (checkCursor). */
  take(): Message | null {
    if (this.isClosed()) return null;
    this.checkCursor();
    if (this.pending === null) {
      this.pending = this.reader.read(this.bound.limitOffset, this.bound.strict);
      if (this.pending === null && !this.endFixed) {
        this.bound = this.source.readLimit(this.reader);
        this.pending = this.reader.read(this.bound.limitOffset, this.bound.strict);
      }
    }
    return this.pending;
  }

  /**
   * The record is done: move past it, with a staged state (undefined keeps the last one). An async
   * cursor store returns its commit's promise when the group commit syncs: await it before the next
   * record is handed out.
   */
  complete(msg: Message, state?: Uint8Array | null): void | Promise<void> {
    // Once the cursor is closed nothing is committed any more: the record comes back. (While close()
    // waits for a processing call, the call's last outcome is still committed.)
    if (this.released || this.pending !== msg) return;
    this.pending = null;
    return this.cursor?.advance(msg.offset + 1, state);
  }

  /** complete() of the pending record when it is the one at `offset` (iter(): RecordIterator keeps the offset). */
  completeAt(offset: number): void | Promise<void> {
    const p = this.pending;
    if (p === null || p.offset !== offset) return;
    return this.complete(p);
  }

  /**
   * Async engines: fetches what the log holds now (nonblocking calls at the end of what was read);
   * false when there is nothing more, and always false for the local engine.
   */
  fill(signal: AbortSignal | undefined): Promise<boolean> | false {
    if (this.pending !== null || this.isClosed()) return false;
    if (this.endRead !== null) return this.fillToEnd(this.endRead, signal);
    this.bound = NOTHING_READ;
    return this.source.fill(this.reader, signal);
  }

  /** fill() in a nonblocking call on an async engine: up to the end read at the call's start, then false. */
  private async fillToEnd(endRead: Promise<number>, signal: AbortSignal | undefined): Promise<boolean> {
    const end = await endRead.catch((e: unknown) => {
      if (this.isClosed()) return -1; // close() or destroy() ended the read: the call ends as at the log's end
      throw e;
    });
    this.endFixed = true; // take() reads below `end` only, whatever the engine delivers past it
    this.bound = { limitOffset: end, strict: false };
    if (this.reader.nextOffset >= end) return false;
    return this.source.fill(this.reader, signal);
  }

  /** Waits (bounded) for records at or past `afterOffset`; the cursor is made durable first. */
  async wait(signal: AbortSignal | undefined, afterOffset = this.reader.nextOffset): Promise<void> {
    const synced = this.cursor?.sync();
    if (synced !== undefined) await synced;
    // An async engine fills the reader while it waits: the bound read before is stale.
    if (!this.source.synchronous) this.bound = NOTHING_READ;
    await this.source.wait(this.reader, afterOffset, signal);
  }

  /** A pool call starts from the next record to hand out; false while a start by time passes over records (LogReader.passingOver). */
  startPoolCall(): boolean {
    if (this.reader.passingOver === true && this.take() === null) return false;
    this.poolDoneOffset = this.nextOffset;
    this.inPoolCall = true;
    return true;
  }

  /**
   * A pool call ended: the pool read ahead on its own, so the reader is put at the first record not
   * done (not after close(): that would open a segment again). A record in hand that the call neither
   * finished nor took (it ran no round) stays in hand, the reader where it is. A seek that fails
   * (retention deleted that record meanwhile: ERR_POSITION_EXPIRED; or an I/O error) leaves the reader
   * at that offset, to seek again at its next read, which reports the failure as a read without a pool
   * would: the call reports what it did. Only a seek that moved the reader elsewhere is thrown.
   */
  endPoolCall(): void {
    this.inPoolCall = false;
    this.bound = NOTHING_READ;
    if (this.pending !== null && this.pending.offset === this.poolDoneOffset) return;
    this.pending = null;
    if (this.isClosed()) return;
    try {
      this.reader.seek(this.poolDoneOffset);
    } catch (e) {
      if (this.reader.nextOffset !== this.poolDoneOffset) throw e;
    }
  }

  /** During a pool call: every record below it is done. */
  doneOffset(): number {
    return this.poolDoneOffset;
  }

  /** The offset below which records may be handed out now. */
  availableEndOffset(): number {
    return this.source.availableEndOffset(this.reader);
  }

  /**
   * How far the next record not done is behind availableEndOffset(): see Consumer.lag(). During a
   * pool call, that is the first record the pool has not finished (the feeder reads ahead of it).
   */
  lag(): CursorLag {
    return this.source.lag(this.inPoolCall ? this.poolDoneOffset : this.nextOffset, this.availableEndOffset());
  }

  /** The producer's control block when it runs in this process (pool workers watch it), else null. */
  endSource(): EndSource | null {
    return this.source.endSource();
  }

  /** During a pool call: every record below `offset` is done; the cursor moves there (after destroy() nothing is committed). An async store returns its commit's promise. */
  advanceTo(offset: number): void | Promise<void> {
    this.poolDoneOffset = offset;
    if (!this.released) return this.cursor?.advance(offset, undefined);
  }

  /** During a pool call: the cursor made durable (not after destroy()). */
  syncCursor(): void | Promise<void> {
    if (!this.released) return this.cursor?.sync();
  }

  /** The arena size of a pool round's shared record window, or null: the workers read the files. */
  poolWindowBytes(): number | null {
    return this.source.poolWindowBytes();
  }

  /** A pool round's feeder: the next record of the reader (the pending one first), or null. */
  pullRecord(): Message | null {
    const m = this.take();
    this.pending = null;
    return m;
  }

  /** A pool round's feeder: records pulled and not done, read again first (the reader takes them back). */
  giveBack(records: readonly Message[]): void {
    if (this.reader.unread === undefined) throw new LogError(ErrorCode.INTERNAL, 'internal invariant broken: this reader cannot take records back');
    this.reader.unread(records);
    this.bound = NOTHING_READ;
  }

  /** Before a nonblocking pool call on an async engine: reads the log's end anew. */
  refreshEnd(signal: AbortSignal | undefined): Promise<void> | void {
    return this.source.refreshEnd?.(signal);
  }
}
