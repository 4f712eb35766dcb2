/**
 * The consumer's side of the seam on JetStream (src/consumer/log-source.ts): the pull (pull.ts)
 * fills a bounded buffer from the consumer's next offset, riding out a transient outage; the
 * RecordReader hands out of the buffer, one plain array read per record. The pull pauses once the
 * buffer is full and goes on when the reader has run dry (the consumer then fills or waits, once per
 * batch). A fill reads the stream's bounds, riding out an outage the same way (ride.ts); when the
 * stream reports deleted messages, it checks that the record at the reader's offset is stored
 * (messages deleted at the stream's end would be owed and never come: ERR_POSITION_EXPIRED, see pull.ts).
 */
import type { StreamInfo } from '@nats-io/jetstream';
import type { CursorLag } from '../types.js';
import type { LogSource, ReadLimit, RecordReader } from '../consumer/log-source.js';
import { MAX_WAIT_MS } from '../consumer/waiter.js';
import { ErrorCode, LogError } from '../errors.js';
import type { Message } from '../types.js';
import type { StreamLag } from './lag-view.js';
import { BUFFER_RECORDS, Pull } from './pull.js';
import { type Outage, Ride } from './ride.js';
import { boundsOf, type Session } from './session.js';

const NO_LIMIT: ReadLimit = { limitOffset: Infinity, strict: false };

/** Hands out the buffered records in order (see the module comment). */
export class JsReader implements RecordReader {
  buffer: Message[] = [];
  head = 0;
  /** Thrown once the records before it are handed out (a gap, a failed pull). */
  error: LogError | null = null;
  private next: number;

  constructor(startOffset: number) {
    this.next = startOffset;
  }

  get nextOffset(): number {
    return this.next;
  }

  /** Records buffered and not handed out. */
  get buffered(): number {
    return this.buffer.length - this.head;
  }

  read(limitOffset: number): Message | null {
    if (this.head < this.buffer.length) {
      const m = this.buffer[this.head]!;
      if (m.offset >= limitOffset) return null;
      this.head++;
      this.next = m.offset + 1;
      return m;
    }
    if (this.error !== null) throw this.error;
    return null;
  }

  /** The pull failed: thrown once the records before it are handed out. */
  fail(e: LogError): void {
    this.error ??= e;
  }

  /** Appends records the pull delivered; compacts what was handed out. */
  push(m: Message): void {
    if (this.head > 0 && this.head === this.buffer.length) {
      this.buffer = [];
      this.head = 0;
    } else if (this.head >= BUFFER_RECORDS) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
    this.buffer.push(m);
  }

  /** Takes back the last records handed out (a pool round gives back what it read past the records done). */
  unread(records: readonly Message[]): void {
    if (records.length === 0) return;
    if (records[records.length - 1]!.offset + 1 !== this.next) {
      throw new LogError(ErrorCode.INTERNAL, `internal invariant broken: records given back up to ${records[records.length - 1]!.offset}, the reader is at ${this.next}`);
    }
    this.buffer = [...records, ...this.buffer.slice(this.head)];
    this.head = 0;
    this.next = records[0]!.offset;
  }

  seek(offset: number): void {
    // Only a pool call seeks, to where its round gave the records back (unread).
    if (offset !== this.nextOffset) throw new LogError(ErrorCode.INTERNAL, `internal invariant broken: the JetStream reader cannot seek (from ${this.nextOffset} to ${offset})`);
  }

  close(): void {
    this.buffer = [];
    this.head = 0;
  }
}

export class JsSource implements LogSource {
  readonly synchronous = false;
  readonly supportsPools = true;
  readonly logId: string;
  private stopped = false;
  /** The waits and fills to wake: a record arrived, the pull failed, or close. Each one leaves it when it ends. */
  private readonly waiters = new Set<() => void>();
  /** The offset after the last record delivered, or the end the stream reported. */
  private knownEnd: number;
  private readonly pull: Pull;
  /** The fills' reads of the stream's bounds. */
  private readonly ride: Ride;

  /** The creation time of the stream the consumer opened on: a stream of the name created again is another log. */
  get incarnation(): string | null {
    return this.session.streamCreated;
  }

  constructor(
    private readonly session: Session,
    private readonly reader: JsReader,
    private readonly ownsSession: boolean,
    /** The stream's state as lag() reads it (lag-view.ts). */
    private readonly lagView: StreamLag,
    /** The consumer's outage (ride.ts): a read that gives up past its bound marks it for the commits. */
    private readonly outage: Outage,
  ) {
    this.logId = `jetstream:${session.options.stream}`;
    this.knownEnd = reader.nextOffset;
    this.pull = new Pull(session, reader, reader.nextOffset, () => this.notify(), (m, pending) => lagView.arrived(m, pending), () => this.waiters.size > 0, outage);
    this.ride = new Ride(session.options.timeoutMs, 'consumer', undefined, { outage });
  }

  readLimit(): ReadLimit {
    return NO_LIMIT;
  }

  /** Reads the stream's end; when records are past the reader, waits until one arrives, the pull fails, or close. */
  async fill(reader: RecordReader, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.reader.buffered > 0 || this.reader.error !== null) return true;
    // Records below an end the stream reported are owed by the pull: only past it is the end read again.
    if (reader.nextOffset >= this.knownEnd) {
      let info: StreamInfo;
      try {
        info = await this.readState();
      } catch (e) {
        if (this.stopped) return false; // close() or destroy() ended the read: the call ends as at the log's end
        throw e;
      }
      await this.endRead(info);
      if (this.reader.error !== null) return true;
    }
    if (reader.nextOffset >= this.knownEnd || this.stopped) return false;
    this.pull.owedEnd = Math.max(this.pull.owedEnd, this.knownEnd);
    // The pull delivers, or fails within its bound (pull.ts): this wait needs none of its own.
    while (this.reader.buffered === 0 && this.reader.error === null && !this.stopped && signal?.aborted !== true) {
      this.pull.start(); // again when it ended between two waits (an outage past its bound while nobody waited: pull.ts)
      await this.arrival(MAX_WAIT_MS, signal);
    }
    return this.reader.buffered > 0 || this.reader.error !== null;
  }

  async wait(_reader: RecordReader, _afterOffset: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.reader.buffered > 0 || this.reader.error !== null || this.stopped) return;
    // The records below the stream's end the lag view knows are owed too: messages deleted at the
    // stream's end are then found (pull.ts), not waited for until a record is appended after them.
    this.pull.owedEnd = Math.max(this.pull.owedEnd, this.lagView.endOffset);
    this.pull.start();
    await this.arrival(MAX_WAIT_MS, signal);
  }

  /** A call or iteration starts: an outage a call before it gave up in is not its own (ride.ts). */
  callStarts(): void {
    this.outage.clear();
  }

  disarm(): void {
    // Each wait listens to its signal only while it waits.
  }

  stopWaiting(): void {
    this.stopped = true;
    this.ride.stop();
    this.pull.stop();
    this.notify();
  }

  availableEndOffset(): number {
    return Math.max(this.knownEnd, this.pull.deliveredEnd, this.reader.nextOffset + this.reader.buffered);
  }

  lag(nextOffset: number, endOffset: number): CursorLag {
    return this.lagView.lag(nextOffset, endOffset);
  }

  endSource(): null {
    return null;
  }

  /** A pool's workers read the records from a shared window: twice the largest record the server takes, at least 8 MiB. */
  poolWindowBytes(): number {
    return Math.max(8 * 1024 * 1024, 2 * (this.session.nc.info?.max_payload ?? 1024 * 1024) + 64 * 1024);
  }

  /** Reads the stream's end (a nonblocking call starts), riding out an outage as a fill does. */
  async refreshEnd(): Promise<void> {
    const info = await this.readState();
    // A stream created again, nothing of the earlier one buffered: the call fails now (its end may lie below the reader's offset).
    const recreated = this.reader.buffered === 0 ? this.session.recreated(info.created, this.reader.nextOffset) : null;
    if (recreated !== null) throw recreated;
    await this.endRead(info);
  }

  /**
   * One read of the stream's state, riding out an outage within a bound of its own: a read that
   * failed past its bound (its call failed with ERR_IO) leaves none spent for the next call's.
   */
  private readState(): Promise<StreamInfo> {
    this.ride.progress();
    return this.ride.run(`reading the state of stream ${this.session.options.stream}`, () => this.session.streamInfo());
  }

  /**
   * The stream's end read: records up to it are owed by the pull. Messages deleted at the stream's
   * end would be owed and never come: when the stream reports deleted messages, the record at the
   * reader's offset is checked first (deleted-range.ts), and the reader fails when it is gone. A
   * stream deleted and created again under the name since the open fails the reader with
   * ERR_POSITION_EXPIRED: its offsets start over, and its end (maybe below the reader) says nothing
   * of the records the consumer was reading.
   */
  private async endRead({ state, created }: StreamInfo): Promise<void> {
    const recreated = this.session.recreated(created, this.availableEndOffset());
    if (recreated !== null) return this.reader.fail(recreated);
    this.knownEnd = Math.max(this.knownEnd, boundsOf(state).endOffset);
    if (state.num_deleted === 0 || this.reader.buffered > 0 || this.reader.nextOffset >= this.knownEnd) return;
    const deleted = await this.pull.deletedAt(this.knownEnd);
    if (deleted !== null) this.reader.fail(deleted);
  }

  async close(): Promise<void> {
    this.lagView.stop();
    this.stopWaiting();
    await this.pull.quiesce(); // the pull's consumer deleted before the connection closes
    if (this.ownsSession) await this.session.close();
  }

  /** Resolves on an arrival, close, abort, or after `ms`. */
  private arrival(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted === true || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }

  private notify(): void {
    if (this.waiters.size === 0) return; // each record delivered notifies
    for (const done of [...this.waiters]) done();
  }
}
