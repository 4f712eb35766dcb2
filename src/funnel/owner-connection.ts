/**
 * One client connection, on the owner's side: reads frames (bounded), appends each APPEND's records
 * through the producer in the order they came, answers with their offsets only after `append`
 * returned them, and runs a FLUSH as the producer's own `flush()`. Runs on the owner's thread.
 *
 * Bounds: the reader holds at most one frame plus one chunk; the connection stops reading (socket
 * pause) while its replies back up, and is closed when they stay backed up for REPLY_STALL_MS (judged
 * after the owner's own thread had a turn to hand them over: afterPoll, LAST_CHANCE_MS); a frame that
 * is not the protocol closes it at once. Only this connection is affected.
 */
import type { Socket } from 'node:net';
import { ErrorCode } from '../errors.js';
import { ReplyBuilder, checkBatch } from './batch-codec.js';
import { appendBatch } from './owner-append.js';
import { afterPoll, asLogError, type FunnelLimits, type FunnelTarget } from './owner-util.js';
import { FrameReader, HELLO_OK_BYTES, MessageType, PROTOCOL_VERSION, encodeError, encodeFrame, type Frame } from './wire.js';

export type { FunnelLimits, FunnelTarget, RunResult } from './owner-util.js';

/** How long a connection's replies may stay unread before the owner closes it. */
export const REPLY_STALL_MS = 5_000;
/** How long a new connection has to send its HELLO before the owner ends it (ERR_IO). */
export const HELLO_TIMEOUT_MS = 5_000;
/** How long replies left unread past REPLY_STALL_MS get to move before the connection is closed. */
const LAST_CHANCE_MS = 500;
/** How long an ended connection's last message (ERROR) may take to leave before the socket is destroyed. */
export const GOODBYE_MS = 1_000;
/**
 * While an APPEND holds the owner's thread (its records or pieces each may wait for ring room, up to
 * appendTimeoutMs), every client hears an ALIVE each time this long passed since the last one, and
 * after an APPEND that took this long its reply leaves at once and the other clients hear an ALIVE:
 * a client's silence bound (connectTimeoutMs plus the owner's appendTimeoutMs) covers one such wait,
 * not a batch of many, nor its batch's wait behind another's.
 */
export const SLOW_APPEND_MS = 50;
/** The most flushes of one connection the owner runs at once; past it, it stops reading that connection until one settles. */
export const MAX_PENDING_FLUSHES = 1024;

/** What the server does for its connections: the shared pause while the log is full, and the list of connections. */
export interface ConnectionHost {
  /** Whether reading is paused for every connection (the producer's appends throw ERR_LOG_FULL). */
  readonly logFull: boolean;
  /** An append threw ERR_LOG_FULL: pause every connection for a while. */
  onLogFull(): void;
  /** `c`'s APPEND held the owner's thread for SLOW_APPEND_MS or more (waiting for ring room): tell the other clients it is alive. */
  onSlowAppend(c: OwnerConnection): void;
  onClosed(c: OwnerConnection): void;
}

export class OwnerConnection {
  private readonly reader: FrameReader;
  private greeted = false;
  private readonly helloTimer: NodeJS.Timeout;
  private repliesBlocked = false;
  private stallTimer: NodeJS.Timeout | null = null;
  /** When a reply last left for the kernel (a write's callback): replies queued that long ago and still there are unread. */
  private wroteAt = performance.now();
  /** The stall timer found no progress once and looks again after LAST_CHANCE_MS (stalled()). */
  private lastChance = false;
  private readonly written = (): void => {
    this.wroteAt = performance.now();
    if (this.socket.writableLength === 0 && !this.repliesBlocked) this.clearStall();
  };
  private ended = false;
  private flushesPending = 0;
  private flushBeat: NodeJS.Timeout | null = null; // an ALIVE every SLOW_APPEND_MS while a flush waits (beatFlushes)
  /** When the APPEND being handled began, or its last ALIVE left (beat()). */
  private beatAt = 0;

  constructor(
    private readonly socket: Socket,
    private readonly target: FunnelTarget,
    private readonly limits: FunnelLimits,
    private readonly host: ConnectionHost,
  ) {
    this.reader = new FrameReader(limits.maxFrameBytes);
    // A connection that never greets would hold one of the owner's slots for as long as it stays open.
    this.helloTimer = setTimeout(afterPoll(() => { if (!this.greeted) this.end(ErrorCode.IO, `no HELLO within ${HELLO_TIMEOUT_MS} ms`); }), HELLO_TIMEOUT_MS).unref();
    socket.unref();
    socket.on('data', (chunk: Buffer) => {
      if (this.ended) return; // what an ended connection sends is dropped, never buffered
      this.reader.push(chunk);
      this.readFrames();
    });
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => undefined); // 'close' follows; the client's own side reports it
    socket.once('close', () => {
      clearTimeout(this.helloTimer);
      this.ended = true;
      this.clearStall();
      this.beatFlushes(false);
      host.onClosed(this);
    });
  }

  /** Reads again once nothing blocks it (replies drained, the log no longer full). */
  resume(): void {
    if (!this.mayRead()) return;
    this.socket.resume();
    this.readFrames();
  }

  /** Ends the connection with an ERROR message (the client rejects what it waits for with `code`). */
  end(code: string, message: string): void {
    if (this.ended) return;
    this.ended = true;
    this.clearStall();
    this.beatFlushes(false);
    this.socket.pause();
    this.reader.drop();
    const frame = encodeFrame(MessageType.ERROR, encodeError(code, message));
    // A client that does not read would never let the goodbye through: it is dropped at once, or
    // after GOODBYE_MS when its replies were not backed up yet.
    if (this.repliesBlocked) return void this.socket.destroy();
    this.socket.end(frame, () => this.socket.destroy());
    setTimeout(() => this.socket.destroy(), GOODBYE_MS).unref();
  }

  /** Handles every whole frame buffered; the replies of one pass leave in one write (cork). */
  private readFrames(): void {
    this.socket.cork();
    try {
      this.handleFrames();
    } finally {
      this.socket.uncork();
    }
  }

  private handleFrames(): void {
    while (this.mayRead()) {
      const f = this.reader.next();
      if (f === null) return;
      if (typeof f === 'string') return this.violation(f);
      this.handle(f);
    }
    if (!this.ended) this.socket.pause();
  }

  /**
   * Whether frames may be handled now: not ended, replies not backed up, the log not full, flushes
   * under their bound. The log-full pause holds back appends, not a greeting: a HELLO left unread
   * through it would be judged as one never sent (HELLO_TIMEOUT_MS).
   */
  private mayRead(): boolean {
    return !this.ended && !this.repliesBlocked && (!this.host.logFull || !this.greeted) && this.flushesPending < MAX_PENDING_FLUSHES;
  }

  private handle(f: Frame): void {
    if (!this.greeted && f.type !== MessageType.HELLO) return this.violation(`message type ${f.type} before HELLO`);
    switch (f.type) {
      case MessageType.HELLO: return this.hello(f.body);
      case MessageType.APPEND: return this.append(f.body);
      case MessageType.FLUSH: return this.flush(f.body);
      default: return this.violation(`an unknown message type ${f.type}`);
    }
  }

  private hello(body: Buffer): void {
    if (this.greeted || body.byteLength !== 2) return this.violation('a malformed or second HELLO');
    const version = body.readUInt16LE(0);
    if (version !== PROTOCOL_VERSION) {
      return this.end(ErrorCode.UNSUPPORTED_FORMAT, `the owner speaks funnel protocol ${PROTOCOL_VERSION}, the client ${version}: use the same reactive-log version on both sides`);
    }
    this.greeted = true;
    clearTimeout(this.helloTimer);
    const reply = Buffer.allocUnsafe(HELLO_OK_BYTES);
    reply.writeUInt16LE(PROTOCOL_VERSION, 0);
    reply.writeUInt32LE(this.limits.maxFrameBytes, 2);
    reply.writeUInt32LE(this.limits.maxRecordBytes, 6);
    reply.writeUInt32LE(this.limits.appendTimeoutMs, 10);
    this.send(encodeFrame(MessageType.HELLO_OK, reply));
  }

  /** Appends every record of the batch in order; the reply names each one's offset or error. */
  private append(body: Buffer): void {
    const check = checkBatch(body, this.limits.maxRecordBytes);
    if (typeof check === 'string') return this.violation(check);
    const reply = new ReplyBuilder(check.count);
    const t0 = performance.now();
    this.beatAt = t0;
    const stopped = appendBatch(this.target, body, reply, check.run, this.beat);
    this.send(reply.encode());
    if (stopped?.code === ErrorCode.LOG_FULL) this.host.onLogFull();
    if (performance.now() - t0 < SLOW_APPEND_MS) return;
    this.socket.uncork(); // the reply leaves now, not after the next batches of this pass
    this.socket.cork();
    this.host.onSlowAppend(this);
  }

  /**
   * Between the records (or pieces) of an APPEND: once it held the thread SLOW_APPEND_MS since the
   * last word, every client, this one included, hears that the owner is alive, at once (uncorked).
   */
  private readonly beat = (): void => {
    const now = performance.now();
    if (now - this.beatAt < SLOW_APPEND_MS) return;
    this.beatAt = now;
    this.send(ALIVE_FRAME);
    this.socket.uncork();
    this.socket.cork();
    this.host.onSlowAppend(this);
  };

  /** Tells the client the owner is alive (its thread was held by another connection's APPEND). */
  alive(): void {
    if (this.greeted) this.send(ALIVE_FRAME);
  }

  private flush(body: Buffer): void {
    if (body.byteLength !== 4) return this.violation('a malformed FLUSH');
    const id = Buffer.from(body); // the frame's bytes are not ours past this call
    this.flushesPending++;
    this.beatFlushes(true);
    this.target.flush().then(
      () => this.flushSettled(encodeFrame(MessageType.FLUSH_OK, id)),
      (e: unknown) => {
        const err = asLogError(e);
        this.flushSettled(encodeFrame(MessageType.FLUSH_ERR, Buffer.concat([id, encodeError(err.code, err.message)])));
      },
    );
  }

  private flushSettled(reply: Buffer): void {
    this.flushesPending--;
    this.send(reply);
    this.beatFlushes(this.flushesPending > 0);
    this.resume();
  }

  /** While a flush waits (retention may hold the writer back long, each record written starting its bound again), an ALIVE every SLOW_APPEND_MS. */
  private beatFlushes(on: boolean): void {
    if (on && !this.ended) this.flushBeat ??= setInterval(() => this.send(ALIVE_FRAME), SLOW_APPEND_MS).unref();
    else if (this.flushBeat !== null) {
      clearInterval(this.flushBeat);
      this.flushBeat = null;
    }
  }

  /**
   * Writes a reply. While replies wait in the socket, a timer looks at whether any left for the kernel
   * within REPLY_STALL_MS (stalled()); past the socket's high-water mark, reading this client's frames
   * also stops until they drain.
   */
  private send(frame: Buffer): void {
    if (this.ended) return;
    if (!this.socket.write(frame, this.written)) {
      // The client reads its replies slower than it sends: stop reading its frames until they drain.
      this.repliesBlocked = true;
      this.socket.pause();
    }
    if (this.socket.writableLength > 0 && this.stallTimer === null) this.armStall(REPLY_STALL_MS);
  }

  private onDrain(): void {
    this.repliesBlocked = false;
    this.clearStall();
    this.resume();
  }

  private armStall(ms: number): void {
    this.stallTimer = setTimeout(() => this.stalled(), ms).unref();
  }

  private stalled(): void {
    this.stallTimer = null;
    if (this.socket.writableLength === 0 && !this.repliesBlocked) return;
    const quietMs = performance.now() - this.wroteAt;
    if (quietMs < REPLY_STALL_MS) {
      this.lastChance = false;
      this.armStall(REPLY_STALL_MS - quietMs);
      return;
    }
    // Replies queued while the owner's own thread was busy (its work, an append waiting for ring
    // room) are handed to the kernel, and their writes complete, only in the turns after this timer:
    // the client is judged once they had LAST_CHANCE_MS to move.
    if (!this.lastChance) {
      this.lastChance = true;
      this.armStall(LAST_CHANCE_MS);
      return;
    }
    this.end(ErrorCode.IO, `the client left its replies unread for ${REPLY_STALL_MS} ms: the owner closed the connection`);
  }

  private clearStall(): void {
    if (this.stallTimer !== null) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    this.lastChance = false;
  }

  /** Bytes that are not the protocol: an ERROR naming why, then the connection is closed. */
  private violation(why: string): void {
    this.end(ErrorCode.IO, `the owner closed the funnel connection: it received ${why}`);
  }
}

const ALIVE_FRAME = encodeFrame(MessageType.ALIVE);
