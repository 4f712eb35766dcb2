/**
 * The consumer's side of the seam on JetStream (src/consumer/log-source.ts): an ordered consumer
 * (an ephemeral consumer the client recreates at the right sequence after a gap in delivery) pulls
 * the stream from the consumer's next offset into a bounded buffer; the RecordReader hands out of the
 * buffer, one plain array read per record. The pull pauses once BUFFER_RECORDS are buffered and goes
 * on when the reader has run dry (the consumer then fills or waits, once per batch).
 *
 * Offsets are stream sequences - 1. A delivered sequence past the one expected means records were
 * removed from the stream (a purge, the stream's own limits): the reader hands out what came before,
 * then throws ERR_POSITION_EXPIRED naming the removed range.
 */
import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import type { CursorLag } from '../types.js';
import type { LogSource, ReadLimit, RecordReader } from '../consumer/log-source.js';
import { MAX_WAIT_MS } from '../consumer/waiter.js';
import { ErrorCode, LogError } from '../errors.js';
import type { Message } from '../types.js';
import type { StreamLag } from './lag-view.js';
import { toMessage } from './record-codec.js';
import type { Session } from './session.js';

/** Records the pull buffers ahead of the consumer. */
const BUFFER_RECORDS = 4096;
/** Messages a pull asks for at once. */
const PULL_BATCH = 1024;
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
  private messages: ConsumerMessages | null = null;
  private pulling = false;
  private stopped = false;
  /** Wakes a wait or fill: a record arrived, the pull failed, or close. */
  private wake: (() => void) | null = null;
  /** Resumes a pull paused on a full buffer. */
  private resume: (() => void) | null = null;
  /** The offset after the last record delivered, or the end the stream reported. */
  private knownEnd: number;

  constructor(
    private readonly session: Session,
    private readonly reader: JsReader,
    private readonly ownsSession: boolean,
    /** The stream's state as lag() reads it (lag-view.ts). */
    private readonly lagView: StreamLag,
  ) {
    this.logId = `jetstream:${session.options.stream}`;
    this.knownEnd = reader.nextOffset;
  }

  readLimit(): ReadLimit {
    return NO_LIMIT;
  }

  async fill(reader: RecordReader, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.reader.buffered > 0 || this.reader.error !== null) return true;
    const { endOffset } = await this.session.bounds();
    this.knownEnd = Math.max(this.knownEnd, endOffset);
    if (reader.nextOffset >= endOffset || this.stopped) return false;
    this.startPull();
    const deadline = Date.now() + this.session.options.timeoutMs;
    while (this.reader.buffered === 0 && this.reader.error === null && !this.stopped && signal?.aborted !== true) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new LogError(ErrorCode.IO, `stream ${this.session.options.stream} reported records up to offset ${endOffset - 1}, and none past ${reader.nextOffset - 1} arrived within ${this.session.options.timeoutMs} ms`);
      }
      await this.arrival(Math.min(left, MAX_WAIT_MS), signal);
    }
    return this.reader.buffered > 0 || this.reader.error !== null;
  }

  async wait(_reader: RecordReader, _afterOffset: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.reader.buffered > 0 || this.reader.error !== null || this.stopped) return;
    this.startPull();
    await this.arrival(MAX_WAIT_MS, signal);
  }

  disarm(): void {
    // Each wait listens to its signal only while it waits.
  }

  stopWaiting(): void {
    this.stopped = true;
    this.notify();
  }

  availableEndOffset(): number {
    return Math.max(this.knownEnd, this.reader.nextOffset + this.reader.buffered);
  }

  lag(nextOffset: number, endOffset: number): CursorLag {
    return this.lagView.lag(nextOffset, endOffset);
  }

  endSource(): null {
    return null;
  }

  readOne(offset: number): Message {
    throw new LogError(ErrorCode.INTERNAL, `internal invariant broken: readOne(${offset}) on the JetStream backend (a pool's dead letter comes from its window)`);
  }

  /** A pool's workers read the records from a shared window: twice the largest record the server takes, at least 8 MiB. */
  poolWindowBytes(): number {
    return Math.max(8 * 1024 * 1024, 2 * (this.session.nc.info?.max_payload ?? 1024 * 1024) + 64 * 1024);
  }

  async refreshEnd(): Promise<void> {
    const { endOffset } = await this.session.bounds();
    this.knownEnd = Math.max(this.knownEnd, endOffset);
  }

  async close(): Promise<void> {
    this.lagView.stop();
    this.stopped = true;
    this.notify();
    this.resume?.();
    this.messages?.stop();
    if (this.ownsSession) await this.session.close();
  }

  /** Resolves on an arrival, close, abort, or after `ms`. */
  private arrival(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted === true || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        if (this.wake === done) this.wake = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      const before = this.wake;
      this.wake = () => { before?.(); done(); };
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Starts the pull on the first wait or fill, or resumes it when it paused on a full buffer. */
  private startPull(): void {
    if (this.resume !== null) {
      const r = this.resume;
      this.resume = null;
      r();
    }
    if (this.pulling || this.stopped) return;
    this.pulling = true;
    void this.pull().catch((e: unknown) => {
      this.reader.error ??= e instanceof LogError ? e : new LogError(ErrorCode.IO, `reading stream ${this.session.options.stream} failed: ${(e as Error).message}`, {}, { cause: e });
      this.notify();
    });
  }

  private async pull(): Promise<void> {
    const { stream, subject } = this.session.options;
    let expected = this.reader.nextOffset;
    const c = await this.session.js.consumers.get(stream, {
      deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: expected + 1, filter_subjects: subject,
    });
    if (this.stopped) return;
    this.messages = await c.consume({ max_messages: PULL_BATCH });
    for await (const m of this.messages) {
      if (this.stopped) break;
      const msg = toMessage(m);
      if (msg.offset !== expected) {
        if (msg.offset < expected) continue; // redelivered after a reset of the ordered consumer
        this.reader.error = LogError.expired(expected, msg.offset, `offsets ${expected} to ${msg.offset - 1} of stream ${stream}`);
        this.notify();
        break;
      }
      expected++;
      this.knownEnd = Math.max(this.knownEnd, expected);
      this.reader.push(msg);
      this.lagView.arrived(msg, m.info.pending);
      this.notify();
      if (this.reader.buffered >= BUFFER_RECORDS) await new Promise<void>((resolve) => { this.resume = resolve; });
    }
    this.messages.stop();
  }
}
