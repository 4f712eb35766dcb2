/**
 * What a consumer reads from: the reader placed at its next record, the record handed out and not
 * completed yet, the transactional cursor, how far the reader may go, and the wait for more. The
 * consumer's iterations, its processing loop (RecordSource), the tail iterator (TailSource) and its
 * pool calls (PoolHost) all work on this one object; the Consumer handle keeps the lifecycle.
 *
 * One iteration or processing call runs at a time: enter() takes the feed (ERR_CONSUMER_BUSY
 * otherwise), leave() makes the cursor durable and gives it back.
 */
import { lagBehind, type CursorLag } from '../admin/inspect.js';
import type { TxCursor } from '../cursor/tx-cursor.js';
import { ErrorCode, LogError } from '../errors.js';
import { localProducer } from '../producer/registry.js';
import { LogReader } from '../reader/log-reader.js';
import { endSeq, endSlots, publishedEnd, writerPublishing, type ControlViews, type Visibility } from '../ring/layout.js';
import { readDurableHint } from '../storage/durable-hint.js';
import type { FileIO } from '../storage/file-io.js';
import type { Message } from '../types.js';
import type { PoolHost } from './pool-host.js';
import type { EndSource } from './pool-protocol.js';
import type { RecordSource } from './process.js';
import type { TailSource } from './tail-iterator.js';
import { Waiter } from './waiter.js';

/** How far the reader may go, and whether that bound was published by this process's writer. */
interface ReadLimit {
  readonly limitOffset: number;
  readonly strict: boolean;
}

const NOTHING_READ: ReadLimit = { limitOffset: 0, strict: false };

export class RecordFeed implements RecordSource, TailSource, PoolHost {
  private readonly waiter: Waiter;
  /** Aborted by close() or destroy(): ends waits, cuts a retry delay short, wakes a pool's coordinator. */
  private readonly closeRequest = new AbortController();
  /** closeRequest is aborted; a plain field, because take() reads it for every record. */
  private closed = false;
  /** The reader and the cursor are closed: nothing is read or committed any more. */
  private released = false;
  private busy = false;
  /** While a processing call runs: resolves once it has ended (its last outcome committed). */
  private callEnd: Promise<void> | null = null;
  private endCall: () => void = () => undefined;
  /** A record handed out and not completed; handed out first next time. */
  private pending: Message | null = null;
  /** The last limit read; limits only grow, so it is re-read only when the reader reaches it. */
  private bound: ReadLimit = NOTHING_READ;
  /** During a pool call: every record below it is done (the pool reads ahead on its own). */
  private poolDoneOffset = 0;

  constructor(
    private readonly io: FileIO,
    /** The real path of the log directory; with an offset it makes an idempotency key. */
    readonly logId: string,
    private readonly visibility: Visibility,
    pollIntervalMs: number,
    private readonly cursor: TxCursor | null,
    /** Placed at the first record to hand out. */
    private readonly reader: LogReader,
  ) {
    this.waiter = new Waiter(logId, pollIntervalMs);
  }

  /** Transactional styles: ctx.setState is available. */
  get hasState(): boolean {
    return this.cursor !== null;
  }

  /** Aborts when close() or destroy() is called. */
  get closeRequested(): AbortSignal {
    return this.closeRequest.signal;
  }

  /** While a processing call runs: resolves once it has ended; else null. */
  get callEnded(): Promise<void> | null {
    return this.callEnd;
  }

  /** The offset of the next record to hand out. */
  get nextOffset(): number {
    return this.pending?.offset ?? this.reader.nextOffset;
  }

  /** Transactional styles: the durable cursor; else null. */
  get committedOffset(): number | null {
    return this.cursor?.committedOffset ?? null;
  }

  /** Transactional styles: the state committed with the cursor (as last set); else null. */
  currentState(): Uint8Array | null {
    return this.cursor?.currentState ?? null;
  }

  /** close() or destroy() was called: no new calls, no new records. */
  isClosed(): boolean {
    return this.closed;
  }

  /** The reader and the cursor are closed (release()). */
  get isReleased(): boolean {
    return this.released;
  }

  /** Takes the feed for an iteration or (`call`) a processing call, which close() waits for. */
  enter(call = false): void {
    if (this.isClosed()) throw LogError.closed('consumer');
    if (this.busy) throw new LogError(ErrorCode.CONSUMER_BUSY, 'this consumer is already serving an iteration or a processing call');
    this.busy = true;
    if (call) this.callEnd = new Promise((resolve) => { this.endCall = resolve; });
  }

  /** Gives the feed back; the cursor is made durable first. */
  leave(): void {
    this.busy = false;
    this.waiter.disarm();
    try {
      if (!this.released) this.cursor?.sync();
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
    this.waiter.close();
  }

  /**
   * Closes the reader and the cursor: `commit` makes the cursor durable first (close), else what moved
   * since the last durable commit is dropped (destroy). Nothing is committed after this.
   */
  release(commit: boolean): void {
    this.released = true;
    try {
      this.reader.close();
    } finally {
      if (commit) this.cursor?.close();
      else this.cursor?.drop();
    }
  }

  /** The pending record, else the next visible one, else null. It stays pending until completed. */
  take(): Message | null {
    if (this.isClosed()) return null;
    if (this.pending === null) {
      this.pending = this.reader.read(this.bound.limitOffset, this.bound.strict);
      if (this.pending === null) {
        this.bound = this.readLimit();
        this.pending = this.reader.read(this.bound.limitOffset, this.bound.strict);
      }
    }
    return this.pending;
  }

  /** The record is done: move past it, with a staged state (undefined keeps the last one). */
  complete(msg: Message, state?: Uint8Array | null): void {
    // Once the cursor is closed nothing is committed any more: the record comes back. (While close()
    // waits for a processing call, the call's last outcome is still committed.)
    if (this.released || this.pending !== msg) return;
    this.pending = null;
    this.cursor?.advance(msg.offset + 1, state);
  }

  /** Waits (bounded) for records at or past `afterOffset`; the cursor is made durable first. */
  async wait(signal: AbortSignal | undefined, afterOffset = this.reader.nextOffset): Promise<void> {
    this.cursor?.sync();
    const c = this.sharedControl();
    if (c !== null) {
      const seen = endSeq(c, this.visibility); // before the limit: an end published in between is not missed
      if (this.readLimit().limitOffset > afterOffset) return;
      await this.waiter.onShared(c.i32, endSlots(this.visibility).seqSlot, seen, signal);
    } else {
      await this.waiter.onFiles(signal);
    }
  }

  /** A pool call starts: it goes on from the next record to hand out. */
  startPoolCall(): void {
    this.poolDoneOffset = this.nextOffset;
  }

  /**
   * A pool call ended: the pool read ahead on its own, so the reader is put at the first record not
   * done (not after close(): that would open a segment again).
   */
  endPoolCall(): void {
    this.pending = null;
    if (!this.isClosed()) this.reader.seek(this.poolDoneOffset);
    this.bound = NOTHING_READ;
  }

  /** During a pool call: every record below it is done. */
  doneOffset(): number {
    return this.poolDoneOffset;
  }

  /** The offset below which records may be handed out now. */
  availableEndOffset(): number {
    const b = this.readLimit();
    return b.limitOffset !== Infinity ? b.limitOffset : this.reader.bounds().end;
  }

  /** How far the next record is behind availableEndOffset(): see Consumer.lag(). */
  lag(): CursorLag {
    return lagBehind(this.io, this.logId, this.nextOffset, this.availableEndOffset());
  }

  /** The producer's control block when it runs in this process (pool workers watch it), else null. */
  endSource(): EndSource | null {
    const c = this.sharedControl();
    if (c === null) return null;
    return { control: c.i32.buffer as SharedArrayBuffer, ...endSlots(this.visibility), strict: true };
  }

  /** During a pool call: every record below `offset` is done; the cursor moves there. */
  advanceTo(offset: number): void {
    this.poolDoneOffset = offset;
    if (!this.released) this.cursor?.advance(offset, undefined); // after destroy() nothing is committed
  }

  /** Reads the record at `offset` with a reader of its own (for a dead letter). */
  readOne(offset: number): Message {
    const r = new LogReader(this.io, this.logId);
    try {
      r.seek(offset);
      const m = r.read(Infinity, false);
      if (m === null || m.offset !== offset) throw new LogError(ErrorCode.LOG_CORRUPT, `record ${offset} cannot be read back`, { offset });
      return m;
    } finally {
      r.close();
    }
  }

  /** In the producer's process while it runs: its control block, else null (tail the files). */
  private sharedControl(): ControlViews | null {
    const p = localProducer(this.logId);
    if (p === undefined) return null;
    return writerPublishing(p.views) ? p.views : null;
  }

  private readLimit(): ReadLimit {
    const c = this.sharedControl();
    if (c !== null) return { limitOffset: publishedEnd(c, this.visibility), strict: true };
    if (this.visibility === 'written') return { limitOffset: Infinity, strict: false };
    return { limitOffset: readDurableHint(this.io, this.logId) ?? this.reader.nextOffset, strict: false };
  }
}
