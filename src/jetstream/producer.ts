/**
 * The producer on JetStream (docs/jetstream.md). `append` is synchronous: it checks the record, gives
 * it the next offset (stream sequence - 1) and queues it; the queue is published in the background,
 * in order, pipelined (MAX_IN_FLIGHT), each publish carrying the stream's expected last sequence (a
 * record lands only right after the one before it) and published only while the lease (lease.ts)
 * is surely live, so a stale producer cannot interleave: it stops with ERR_LOG_LOCKED. `flush()`
 * resolves when every record appended before it is acknowledged. A publish that fails transiently
 * starts a resync (resync.ts): the records from the last acknowledged one to the stream's end are
 * read back and count as acknowledged when each carries this producer's token (Rl-Writer); no
 * progress within 2 x timeoutMs of the first failure stops it with ERR_IO, another producer's
 * record with ERR_LOG_LOCKED. The queue holds at most maxQueueBytes (ERR_LOG_FULL past it), or one larger record alone.
 */
import type { PubAck } from '@nats-io/jetstream';
import type { BackendProducer, BackendProducerStats } from '../backend/backend-types.js';
import { ErrorCode, LogError } from '../errors.js';
import { AttributeEncoder, type AppendOptions } from '../format/record.js';
import { DedupWindow } from '../producer/dedup-window.js';
import { appendData, recordTooLarge, reentered } from '../ring/record-checks.js';
import { noExtraArguments, signalOnly, writableOptions } from '../validate.js';
import { Lease, PRODUCER_LEASE_KEY } from './lease.js';
import { leaseWaitFailure } from './lease-wait.js';
import type { Ride } from './ride.js';
import { checkWireSize, NO_OPTIONS, producerHeaderBytes, publishHeaders, readOptions } from './record-codec.js';
import type { Session } from './session.js';
import { PublishQueue, RECORD_OVERHEAD_BYTES, waitForRoom, type Queued } from './publish-queue.js';
import { PublishStats } from './producer-stats.js';
import { FlushWaiters, flushAborted, waitFlush } from './flush-wait.js';
import { readTail } from './tail-scan.js';
import { applyStreamLimits } from './retention.js';
import { resync, transientPublishError } from './resync.js';
import { storeRefusal } from './store-refusal.js';
import { checkDedupWindow, messageLimit, notYet, type CheckedProducerOptions, type MessageLimit } from './producer-options.js';

const MAX_IN_FLIGHT = 1024; // publishes awaiting their acknowledgement at once
/** After a resync that found nothing stored, the wait before publishing again. */
const RESYNC_PAUSE_MS = 250;

export class JetStreamProducer implements BackendProducer {
  /** The records not yet acknowledged, the first `queue.sent` of them published (publish-queue.ts). */
  private readonly queue = new PublishQueue();
  private readonly counters = new PublishStats();
  private next: number;
  private acked: number;
  private failure: LogError | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;
  private destroying: Promise<void> | null = null; // no failure of the producer: its reason goes to the flushes waiting only
  private ended = false; // close() flushed (or found the producer failed), or destroy(): a later flush() is ERR_LOG_CLOSED
  private pumpScheduled = false;
  private reading = false; // while append reads a record's options (their getters run the caller's code)
  private readonly flushWaiters = new FlushWaiters();
  /** Counts resyncs: an answer to a publish of an earlier generation is ignored (see the module comment). */
  private generation = 0;
  private resyncing: Promise<void> | null = null;
  private leaseWait = false; // the pump waits for a renewal of the lease before it publishes (leaseReady)
  /** When the first publish failed since the last acknowledgement (performance.now(), ms), else null: resyncs end 2 x timeoutMs after it. */
  private doubtSince: number | null = null;
  /** When the pump began to wait for a renewal of the lease (performance.now(), ms), until the lease is live again: no part of the doubt window. */
  private leaseWaitSince: number | null = null;
  /** A record the stream refused for itself (store-refusal.ts), and the error that stops the producer once every record before it is stored. */
  private refusal: { offset: number; error: LogError } | null = null;
  private roomWaiters: Array<() => void> = [];
  private readonly encoder: AttributeEncoder;
  private readonly streamBytes: number; // the stream name's UTF-8 bytes (the Nats-Expected-Stream header of every publish)

  private constructor(
    private readonly session: Session,
    private readonly lease: Lease,
    endOffset: number,
    private readonly maxRecordBytes: number,
    private readonly appendTimeoutMs: number,
    private readonly dedup: DedupWindow | null,
    /** The server's max_payload or the stream's max_msg_size: a message's payload and headers together. */
    private readonly wireLimit: MessageLimit,
  ) {
    this.next = this.acked = endOffset;
    this.encoder = new AttributeEncoder(dedup !== null);
    this.streamBytes = Buffer.byteLength(session.options.stream, 'utf8');
  }

  /** Opens the producer of the stream with options `checkProducerOptions` and `producerChecks` accepted. */
  static async open(session: Session, o: CheckedProducerOptions, ride: Ride): Promise<JetStreamProducer> {
    const window = o.dedupWindow;
    const lease = await Lease.take(session, PRODUCER_LEASE_KEY, ErrorCode.LOG_LOCKED, `the producer of stream ${session.options.stream}`, ride);
    try {
      // Only the lease's holder changes the stream; the dedup window is checked against the duplicate window the stream will have, before any change. Each step rides a transient failure (ride.ts).
      const { stream } = session.options, step = <T>(what: string, op: (alive: () => void) => Promise<T>): Promise<T> => ride.run(`${what} of stream ${stream}`, op);
      const maxMsgSize = await step('setting the limits', () => applyStreamLimits(session, o.limits, async (duplicateWindowNs) => {
        if (window !== null) await checkDedupWindow(session, window, duplicateWindowNs);
      }));
      const { endOffset } = await step('reading the end', () => session.bounds());
      let dedup: DedupWindow | null = null;
      if (window !== null) {
        dedup = new DedupWindow(window);
        // The window survives a restart: rebuilt from the dedup keys (Nats-Msg-Id) of the newest records.
        for (const r of await step('reading the dedup keys', (alive) => readTail(session, window, endOffset, alive))) dedup.remember(r.key, r.offset, r.timeMs);
      }
      const wire = messageLimit(session, maxMsgSize);
      return new JetStreamProducer(session, lease, endOffset, o.maxRecordBytes ?? wire.bytes, o.appendTimeoutMs, dedup, wire);
    } catch (e) {
      await lease.release();
      throw e;
    }
  }

  get nextOffset(): number { return this.next; }
  get durableOffset(): number { return this.acked; }
  get error(): LogError | null { return this.failure; }

  append(data: Uint8Array | string, given?: AppendOptions): number {
    if (this.reading) throw reentered(); // from a getter of another append's options: refused, as locally
    this.checkOpen();
    const bytes = appendData(data); // as locally: a Uint8Array of any realm, a string; not a detached view
    let read = NO_OPTIONS;
    if (given !== undefined) {
      this.reading = true; // the options' getters run the caller's code
      try { read = readOptions(this.encoder, given); } finally { this.reading = false; }
      this.checkOpen(); // a getter that closed the producer: no offset for a record never sent
    }
    const { opts, attrBytes, headers } = read;
    const dedupKey = opts?.dedupKey;
    const size = bytes.byteLength + attrBytes;
    if (size > this.maxRecordBytes) throw recordTooLarge(size, this.maxRecordBytes);
    checkWireSize(bytes.byteLength, opts, producerHeaderBytes(this.streamBytes, this.lease.token.length), this.wireLimit.bytes, this.wireLimit.what);
    if (dedupKey !== undefined && this.dedup !== null) {
      const earlier = this.dedup.lookup(dedupKey, this.next);
      if (earlier !== undefined) return earlier;
    }
    const cost = size + RECORD_OVERHEAD_BYTES;
    if (this.queue.bytes + cost > this.session.options.maxQueueBytes && this.queue.length > 0) {
      throw new LogError(ErrorCode.LOG_FULL, `the producer's queue holds ${this.queue.bytes} bytes not yet acknowledged by stream ${this.session.options.stream} (maxQueueBytes ${this.session.options.maxQueueBytes}): await producer.writable() or flush()`);
    }
    // A copy, as the caller may reuse its buffer (a slice() is a view), made before the offset is taken.
    const copy = typeof data === 'string' ? bytes : new Uint8Array(bytes);
    const offset = this.next++;
    this.queue.push({ offset, data: copy, headers, dedupKey, bytes: cost });
    if (dedupKey !== undefined) this.dedup?.remember(dedupKey, offset);
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      queueMicrotask(this.pump);
    }
    return offset;
  }

  /** Resolves when the queue has room for `bytes` more; ERR_LOG_FULL after appendTimeoutMs, ERR_ABORTED when `signal` aborts first. */
  async writable(options: { bytes?: number; signal?: AbortSignal } = {}): Promise<void> {
    const { bytes, signal } = writableOptions(options, this.maxRecordBytes);
    this.checkOpen();
    const need = bytes + RECORD_OVERHEAD_BYTES;
    await waitForRoom(() => this.queue.bytes + need > this.session.options.maxQueueBytes && this.queue.length > 0, () => this.stoppedBy(), this.roomWaiters, this.appendTimeoutMs, signal);
  }

  /** What ends an append or a wait for room: the failure, else ERR_LOG_CLOSED once closed; else null. */
  private stoppedBy(): LogError | null { return this.failure ?? (this.closed ? LogError.closed('producer') : null); }
  private checkOpen(): void { if (this.failure !== null || this.closed) throw this.stoppedBy()!; }

  /** Not supported on JetStream yet (an atomic batch needs nats-server 2.12), nor is share(): ERR_INVALID_OPTION. */
  appendBatch(): never { throw notYet('appendBatch'); }
  share(): never { throw notYet('share'); }

  /** The counters since the open and the queue now (producer-stats.ts; docs/jetstream.md); nothing in flight once it failed or was destroyed. */
  stats(): BackendProducerStats {
    noExtraArguments('options', 'producer.stats() (it takes no options)', arguments.length, 0);
    const { queue } = this;
    return this.counters.read({ acknowledgedOffset: this.acked, inFlight: this.failure === null && this.destroying === null ? queue.sent : 0, queuedRecords: queue.length, queuedBytes: queue.bytes, maxQueueBytes: this.session.options.maxQueueBytes });
  }

  flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    let signal: AbortSignal | undefined;
    try { signal = signalOnly(options); } catch (e) { return Promise.reject(e as Error); }
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.ended) return Promise.reject(LogError.closed('producer'));
    if (signal?.aborted === true) return Promise.reject(flushAborted(signal));
    const target = this.next;
    if (this.acked >= target) return Promise.resolve();
    return waitFlush(signal, (w) => this.flushWaiters.add(target, w));
  }

  close(): Promise<void> {
    this.closing ??= this.destroying ?? this.shutDown();
    return this.closing;
  }

  /** As locally (shutdown.ts): the flushes waiting reject with `err`, every later call with ERR_LOG_CLOSED. */
  destroy(err?: Error): Promise<void> {
    this.destroying ??= (async () => {
      this.closed = this.ended = true;
      this.generation++; // the answers of publishes in flight (rejected by the session's close) count for nothing
      this.flushWaiters.rejectAll(err ?? LogError.closed('producer'));
      for (const w of this.roomWaiters.splice(0)) w();
      await this.lease.release();
      await this.session.close();
    })();
    return this.destroying;
  }

  async [Symbol.asyncDispose](): Promise<void> { await this.close(); }

  private async shutDown(): Promise<void> {
    this.closed = true;
    for (const w of this.roomWaiters.splice(0)) w(); // a writable() waiting for room ends: ERR_LOG_CLOSED
    try {
      if (this.failure === null) await this.flush();
    } finally {
      this.ended = true;
      await this.lease.release();
      await this.session.close();
    }
    if (this.failure !== null && this.failure.code !== ErrorCode.LOG_CLOSED) throw this.failure;
  }

  private readonly pump = (): void => {
    this.pumpScheduled = false;
    const stream = this.session.options.stream;
    const subject = this.session.options.subject;
    const generation = this.generation;
    const { queue, counters } = this;
    if (this.failure !== null || this.destroying !== null || this.resyncing !== null || this.leaseWait || queue.sent >= queue.length || !this.leaseReady()) return;
    while (queue.sent < queue.length && queue.sent < MAX_IN_FLIGHT) {
      const r = queue.nextToSend();
      counters.published();
      const sentAt = performance.now();
      // The fence, the dedup key and the writer (read back by a resync) head the header block.
      const headers = publishHeaders(r.offset, stream, r.dedupKey, this.lease.token, r.headers);
      this.session.js.publish(subject, r.data, { headers, timeout: this.session.options.timeoutMs }).then(
        (ack) => { if (generation === this.generation) this.onAck(r, ack, sentAt); },
        (e: unknown) => { if (generation === this.generation) this.onPublishError(r, e, sentAt); },
      );
    }
  };

  /**
   * Whether the lease is surely live (lease.ts): a publish sent once it may have expired could land
   * before the records of a producer that took it over, unseen by the fence. Else it is renewed first
   * (then the pump runs again), until it stops (lease-wait.ts: ERR_LOG_LOCKED, ERR_IO, ERR_DISK_FULL).
   * A wait that ended with a renewal leaves the doubt window alone: a publish failing after it gets a
   * resync of 2 x timeoutMs.
   */
  private leaseReady(): boolean {
    const { lease } = this;
    const { stream, timeoutMs } = this.session.options;
    if (lease.live) {
      this.leaseWaitSince = null;
      return true;
    }
    const waitSince = this.leaseWaitSince ??= performance.now();
    const failure = leaseWaitFailure(lease, { stream, timeoutMs, since: Math.min(waitSince, this.doubtSince ?? Infinity), acked: this.acked });
    if (failure !== null) {
      this.fail(failure);
    } else {
      this.leaseWait = true;
      void lease.renewSoon().then(() => { this.leaseWait = false; this.pump(); });
    }
    return false;
  }

  private onAck(r: Queued, ack: PubAck, sentAt: number): void {
    // An answer a later one overtook (two servers of a cluster, a leader change) counts nothing more.
    if (this.failure !== null || r.offset < this.acked) return;
    if (ack.duplicate && ack.seq !== r.offset + 1 && r.dedupKey !== undefined) {
      // The stream remembers a key the producer's window does not (docs/jetstream.md): as locally,
      // a key that left the window makes a new record, published again without the key.
      r.dedupKey = undefined;
      this.startResync(r, new Error(`the stream took record ${r.offset} for a duplicate of stream sequence ${ack.seq}`));
      return;
    }
    // A duplicate at the record's own sequence is a dedupKey record published again by a resync.
    if (ack.seq !== r.offset + 1 || (ack.duplicate && r.dedupKey === undefined)) {
      this.fail(new LogError(ErrorCode.INTERNAL,
        `record ${r.offset} was ${ack.duplicate ? `a duplicate of stream sequence ${ack.seq} (its dedupKey is in the stream's duplicate_window, not in the producer's dedupWindow)` : `stored at stream sequence ${ack.seq}`}: offsets and stream sequences no longer match`,
        { offset: r.offset }));
      return;
    }
    // One whose answer was lost or comes late is acknowledged by the next (each publish lands only
    // right after the one before it).
    this.counters.ackLatency(performance.now() - sentAt);
    this.queue.sent -= r.offset + 1 - this.acked;
    this.doubtSince = null;
    this.ackThrough(r.offset + 1);
  }

  /** Records below `end` are stored: they leave the queue, and the waits they end resolve. */
  private ackThrough(end: number): void {
    while (this.acked < end) {
      this.counters.acknowledged(this.queue.shift());
      this.acked++;
    }
    this.queue.compact();
    this.flushWaiters.settleThrough(this.acked);
    if (this.roomWaiters.length > 0) for (const w of this.roomWaiters.splice(0)) w();
    if (!this.pumpScheduled && this.queue.sent < this.queue.length) {
      this.pumpScheduled = true;
      queueMicrotask(this.pump);
    }
  }

  /**
   * A publish that may succeed again starts a resync (see the module comment; the publishes in flight
   * are dropped); a record the stream refused for itself (store-refusal.ts) stops the producer at it,
   * once the records before it are known stored; any other failure (a permission) is final: ERR_IO.
   */
  private onPublishError(r: Queued, e: unknown, sentAt: number): void {
    if (this.failure !== null || this.resyncing !== null || r.offset < this.acked) return; // a lost answer of a stored record
    const stream = this.session.options.stream;
    const refused = storeRefusal(e, r.offset, stream, this.acked + this.queue.sent); // the records published so far
    if (refused !== null && r.offset === this.acked) return this.fail(refused);
    // Records before it not yet answered: a resync confirms they are stored first.
    if (refused !== null) this.refusal = { offset: r.offset, error: refused };
    else if (!transientPublishError(e)) {
      this.fail(new LogError(ErrorCode.IO, `publishing record ${r.offset} to stream ${stream} failed: ${(e as Error)?.message ?? String(e)}; records from ${this.acked} on may or may not be stored`, { offset: r.offset }, { cause: e }));
      return;
    }
    this.startResync(r, e, sentAt);
  }

  /** Reads back the records in doubt from the first not acknowledged (resync.ts), then publishes on from the stream's end. */
  private startResync(r: Queued, e: unknown, sentAt?: number): void {
    this.generation++;
    this.queue.sent = 0;
    this.counters.resynced();
    this.doubtSince ??= performance.now(); // elapsed time: a wall clock stepped neither ends the window early nor stretches it
    const { acked, next } = this;
    this.resyncing = resync(this.session, {
      acked, next, token: this.lease.token, failedOffset: r.offset, cause: e, sentAt, refused: this.refusal?.offset,
      deadline: this.doubtSince + 2 * this.session.options.timeoutMs, done: () => this.failure !== null || this.destroying !== null, stillHeld: () => this.lease.stillHeld(),
    }).then(
      (end) => {
        this.resyncing = null;
        if (this.failure !== null) return;
        if (end > acked) this.doubtSince = null; // progress: a later failure gets a window of its own
        else this.pumpScheduled = true; // the pause below holds every publish: ackThrough and appends schedule none
        this.ackThrough(end);
        const { refusal } = this;
        this.refusal = null;
        if (refusal !== null && end === refusal.offset) return this.fail(refusal.error); // past it: an earlier try of it landed
        // Nothing stored since: the stream answers but the publishes failed; the next try waits a little.
        if (end > acked) this.pump();
        else setTimeout(this.pump, RESYNC_PAUSE_MS);
      },
      (err: LogError) => { this.resyncing = null; this.fail(err); },
    );
  }

  private fail(e: LogError): void {
    if (this.failure !== null || this.destroying !== null) return; // a destroyed producer did not fail
    this.failure = e;
    this.flushWaiters.rejectAll(e);
    for (const w of this.roomWaiters.splice(0)) w();
  }
}
