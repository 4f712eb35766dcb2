/**
 * RemoteProducer: appends from another process of the machine, through the producer that owns the
 * log (`Producer.connect`). Appends of one event-loop turn travel as one APPEND message; each
 * append's promise resolves with the offset the owner's `append` returned, and only then. Runs on
 * the caller's thread.
 *
 * Backpressure: at most `maxInFlightBytes` of APPEND messages are sent and unanswered; later batches
 * wait in this process, in order, and their appends stay pending until sent and answered.
 */
import type { Socket } from 'node:net';
import { ErrorCode, LogError } from '../errors.js';
import { AttributeEncoder, type AppendOptions } from '../format/record.js';
import { BatchBuilder, decodeReply, type Outcome } from './batch-codec.js';
import { brokenReply, openFunnelSocket, remoteError, resolveConnectOptions, type ConnectOptions, type OwnerLimits, type ResolvedConnectOptions } from './client-socket.js';
import { CLIENT_BATCH_BYTES, FrameReader, LOG_FULL_PAUSE_MS, MessageType, decodeError, encodeFrame, type Frame } from './wire.js';
import { flushAborted } from '../producer/durable-wait.js';
import { noExtraArguments, signalOnly } from '../validate.js';
import { SilenceWatch } from './silence-watch.js';

type Resolve<T> = (v: T) => void;
type Reject = (e: Error) => void;
type Outcomes = (i: number) => Outcome;

/**
 * A batch of appends: its frame once sealed, and one promise for the owner's answer. Each record's
 * promise is `answered.then(take)`: reactions run in the order they were added, so `take` hands the
 * i-th of them the i-th outcome (one promise per record, no closure per record).
 */
interface Batch {
  frame: Buffer | null;
  count: number;
  readonly answered: Promise<Outcomes>;
  readonly resolve: Resolve<Outcomes>;
  readonly reject: Reject;
  readonly take: (outcomes: Outcomes) => number;
}

type Outgoing = { kind: 'append'; batch: Batch } | { kind: 'flush'; id: number };

/** The first size of the batch buffer: a full batch and a record of 64 KiB fit without growing it. */
const INITIAL_BATCH_BYTES = CLIENT_BATCH_BYTES + 64 * 1024;

/** A producer handle in another process than the log's owner. Get one with `Producer.connect`. */
export class RemoteProducer {
  private readonly encoder = new AttributeEncoder(true);
  private readonly builder: BatchBuilder;
  private current: Batch = newBatch();
  private sealScheduled = false;
  private readonly outbox: Outgoing[] = [];
  private readonly awaiting: Batch[] = [];
  private inFlightBytes = 0;
  private readonly flushes = new Map<number, { resolve: Resolve<void>; reject: Reject }>();
  private nextFlushId = 0;
  private failure: Error | null = null;
  /** The error that ended the connection while answers were outstanding (not destroy()'s): close() rejects with it. */
  private lost: Error | null = null;
  private closing: Promise<void> | null = null;
  private drained: (() => void) | null = null;
  /** Ends the connection when the owner is silent while something waits for it (silence-watch.ts). */
  private readonly silence = new SilenceWatch(
    () => this.options.connectTimeoutMs + this.limits.appendTimeoutMs + LOG_FULL_PAUSE_MS,
    () => this.fail(new LogError(ErrorCode.IO, `the owner of ${this.options.logDir} did not answer within connectTimeoutMs (${this.options.connectTimeoutMs} ms) plus its appendTimeoutMs (${this.limits.appendTimeoutMs} ms) and ${LOG_FULL_PAUSE_MS} ms while appends or flushes waited: the connection is ended; appends not answered may or may not be in the log`)),
  );

  private constructor(
    private readonly socket: Socket,
    private readonly reader: FrameReader,
    /** The owner's limits, from its greeting. */
    readonly limits: OwnerLimits,
    private readonly options: ResolvedConnectOptions,
  ) {
    this.builder = new BatchBuilder(this.encoder, INITIAL_BATCH_BYTES);
    socket.on('data', (chunk: Buffer) => {
      this.silence.heard();
      reader.push(chunk);
      this.readFrames();
    });
    socket.on('error', () => undefined); // 'close' follows
    socket.once('close', () => this.fail(new LogError(ErrorCode.LOG_CLOSED, `the connection to the owner of ${options.logDir} closed (the owner closed, or ended this connection because its replies went unread for 5 s): appends not answered were not acknowledged`)));
    this.readFrames(); // bytes that came with the greeting
    this.refresh();
  }

  /** Connects to the owner of `options.logDir`; see `Producer.connect`. */
  static async connect(options: ConnectOptions): Promise<RemoteProducer> {
    const opts = resolveConnectOptions(options);
    const { socket, reader, limits } = await openFunnelSocket(opts);
    return new RemoteProducer(socket, reader, limits, opts);
  }

  /**
   * Appends one record through the owner; resolves with its offset once the owner's `append`
   * returned it. Rejects with the owner's error for a record it refused (that record only), with
   * ERR_INVALID_RECORD or ERR_RECORD_TOO_LARGE checked here first, and with ERR_LOG_CLOSED when the
   * connection ends before the owner answered, ERR_IO when the owner stayed silent for connectTimeoutMs
   * plus its appendTimeoutMs (either way the record may or may not be in the log).
   */
  append(data: Uint8Array | string, opts?: AppendOptions): Promise<number> {
    if (this.closing !== null || this.failure !== null) return Promise.reject(this.stoppedError());
    try {
      noExtraArguments('options', 'remote.append(data, opts?)', arguments.length, 2);
      this.builder.add(data, opts, this.limits.maxRecordBytes, this.stoppedNow);
    } catch (e) {
      return Promise.reject(e);
    }
    const batch = this.current;
    batch.count++;
    const p = batch.answered.then(batch.take);
    if (this.builder.bytes >= CLIENT_BATCH_BYTES) this.seal();
    else if (!this.sealScheduled) {
      this.sealScheduled = true;
      setImmediate(() => this.seal());
    }
    return p;
  }

  /**
   * Resolves when every record this handle appended before the call, and the owner accepted, is
   * durable by the owner's `flush()`. Rejects with the owner's flush error, or ERR_LOG_CLOSED when
   * the connection ends first (ERR_IO when the owner stayed silent for connectTimeoutMs plus its appendTimeoutMs). Takes the options of the owner's `flush()`: when `options.signal`
   * aborts first (or was aborted already) the call rejects at once with ERR_ABORTED, the signal's
   * reason as its `cause`; only the wait stops (the owner still flushes, its answer is dropped). Any
   * other key is ERR_INVALID_OPTION.
   */
  flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.closing !== null || this.failure !== null) return Promise.reject(this.stoppedError());
    let signal: AbortSignal | undefined;
    try {
      signal = signalOnly(options);
    } catch (e) {
      return Promise.reject(e);
    }
    if (signal?.aborted === true) return Promise.reject(flushAborted(signal));
    this.seal();
    const id = this.nextFlushId++ >>> 0;
    const p = new Promise<void>((resolve, reject) => {
      if (signal === undefined) {
        this.flushes.set(id, { resolve, reject });
        return;
      }
      const onAbort = (): void => {
        // The owner's answer still comes: the entry stays, settling nothing, so the reply is expected.
        this.flushes.set(id, { resolve: () => undefined, reject: () => undefined });
        reject(flushAborted(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const off = (): void => signal.removeEventListener('abort', onAbort);
      this.flushes.set(id, { resolve: () => { off(); resolve(); }, reject: (e) => { off(); reject(e); } });
    });
    this.outbox.push({ kind: 'flush', id });
    this.pump();
    return p;
  }

  /**
   * Sends what is waiting, waits for every answer, then ends the connection; rejects with the error
   * that ended the connection before every answer came (while close() waited, or before it was
   * called; not destroy()'s). Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  /**
   * Ends the connection at once: appends and flushes not answered reject with `err` (ERR_LOG_CLOSED
   * without one, or for a value that is not an Error, as the owner's destroy() does).
   */
  destroy(err?: Error): void {
    this.fail(err instanceof Error ? err : LogError.closed('remote producer'), true);
  }

  /** `await using`: close(). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async doClose(): Promise<void> {
    this.seal();
    if (this.pendingCount() > 0 && this.failure === null) {
      await new Promise<void>((resolve) => { this.drained = resolve; });
      if (this.failure !== null) throw this.failure; // ended (or destroyed) while close() waited
    }
    // The connection ended before every answer came (the owner went away, or did not answer within
    // connectTimeoutMs) before close() was called: what it cut off was not acknowledged.
    if (this.lost !== null) throw this.lost;
    this.failure ??= LogError.closed('remote producer');
    this.socket.end();
    this.socket.unref();
  }

  /** Closes the current batch and queues it. */
  private seal(): void {
    this.sealScheduled = false;
    if (this.current.count === 0) return;
    this.current.frame = this.builder.seal();
    this.outbox.push({ kind: 'append', batch: this.current });
    this.current = newBatch();
    this.pump();
  }

  /** Sends queued messages in order while the bytes in flight allow (always at least one batch). */
  private pump(): void {
    while (this.outbox.length > 0 && this.failure === null) {
      const m = this.outbox[0]!;
      if (m.kind === 'flush') {
        const id = Buffer.allocUnsafe(4);
        id.writeUInt32LE(m.id, 0);
        this.socket.write(encodeFrame(MessageType.FLUSH, id));
      } else {
        const bytes = m.batch.frame!.byteLength;
        if (this.inFlightBytes > 0 && this.inFlightBytes + bytes > this.options.maxInFlightBytes) break;
        this.socket.write(m.batch.frame!);
        this.inFlightBytes += bytes;
        this.awaiting.push(m.batch);
      }
      this.outbox.shift();
    }
    this.refresh();
  }

  private readFrames(): void {
    while (this.failure === null) {
      const f = this.reader.next();
      if (f === null) return;
      if (typeof f === 'string') return this.fail(brokenReply(this.options.logDir, f));
      this.onFrame(f);
    }
  }

  private onFrame(f: Frame): void {
    switch (f.type) {
      case MessageType.APPEND_REPLY: return this.onAppendReply(f.body);
      case MessageType.FLUSH_OK: return this.onFlushReply(f.body, null);
      case MessageType.FLUSH_ERR: return this.onFlushReply(f.body, decodeError(f.body, 4) ?? undefined);
      case MessageType.ALIVE: return; // the read itself reset the silence clock
      case MessageType.ERROR: {
        const e = decodeError(f.body, 0);
        return this.fail(e === null ? brokenReply(this.options.logDir, 'a malformed ERROR') : remoteError(e.code, e.message));
      }
      default: return this.fail(brokenReply(this.options.logDir, `an unexpected message type ${f.type}`));
    }
  }

  private onAppendReply(body: Buffer): void {
    const batch = this.awaiting[0];
    if (batch === undefined) return this.fail(brokenReply(this.options.logDir, 'an APPEND_REPLY for no APPEND'));
    const outcomes = decodeReply(body, batch.count);
    if (typeof outcomes === 'string') return this.fail(brokenReply(this.options.logDir, outcomes));
    this.awaiting.shift();
    this.inFlightBytes -= batch.frame!.byteLength;
    batch.frame = null;
    batch.resolve(outcomes);
    this.pump();
    this.checkDrained();
  }

  /** `error`: null for FLUSH_OK, the decoded error for FLUSH_ERR (undefined when it does not decode). */
  private onFlushReply(body: Buffer, error: { code: string; message: string } | null | undefined): void {
    const waiter = body.byteLength >= 4 ? this.flushes.get(body.readUInt32LE(0)) : undefined;
    if (waiter === undefined || error === undefined) return this.fail(brokenReply(this.options.logDir, 'a FLUSH reply for no FLUSH, or a malformed one'));
    this.flushes.delete(body.readUInt32LE(0));
    if (error === null) waiter.resolve();
    else waiter.reject(remoteError(error.code, error.message));
    this.refresh();
    this.checkDrained();
  }

  /** The connection ends: everything not answered rejects with `err`; `destroyed`: the caller's destroy(). */
  private fail(err: Error, destroyed = false): void {
    if (this.failure !== null && this.pendingCount() === 0) return;
    if (!destroyed && this.pendingCount() > 0) this.lost ??= this.failure ?? err;
    this.failure ??= err;
    const batches = [...this.awaiting.splice(0), ...this.outbox.splice(0).flatMap((m) => (m.kind === 'append' ? [m.batch] : [])), this.current];
    this.current = newBatch();
    for (const b of batches) if (b.count > 0) b.reject(err); // an empty batch's promise has no reaction to take it
    for (const f of this.flushes.values()) f.reject(err);
    this.flushes.clear();
    this.inFlightBytes = 0;
    this.socket.destroy();
    this.silence.set(false, true);
    this.checkDrained();
  }

  private pendingCount(): number {
    return this.awaiting.length + this.outbox.length + this.flushes.size + this.current.count;
  }

  private checkDrained(): void {
    if (this.drained !== null && this.pendingCount() === 0) this.drained();
  }

  /** The connection keeps the process alive only while something waits for the owner. */
  private refresh(): void {
    const waiting = this.pendingCount() > 0;
    if (waiting) this.socket.ref();
    else this.socket.unref();
    this.silence.set(waiting, this.failure !== null);
  }

  private stoppedError(): Error {
    return this.failure ?? LogError.closed('remote producer');
  }

  /** After a getter of an append's options ran: close() or destroy() it called refuse that append. */
  private readonly stoppedNow = (): Error | null => (this.closing !== null || this.failure !== null ? this.stoppedError() : null);
}

function newBatch(): Batch {
  let resolve: Resolve<Outcomes> = () => undefined;
  let reject: Reject = () => undefined;
  const answered = new Promise<Outcomes>((res, rej) => { resolve = res; reject = rej; });
  let next = 0;
  const take = (outcomes: Outcomes): number => {
    const o = outcomes(next++);
    if (typeof o === 'number') return o;
    throw remoteError(o.code, o.message);
  };
  return { frame: null, count: 0, answered, resolve, reject, take };
}
