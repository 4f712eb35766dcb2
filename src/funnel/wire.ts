/**
 * The funnel's wire protocol, byte by byte (docs/funnel.md explains it in prose): how a process on the
 * machine sends records to the producer that owns a log, over the Unix socket `<logDir>/producer.sock`.
 *
 * FRAME (both directions)
 *   0  u32  length: the bytes after this header (type and body), at least 1
 *   4  u32  CRC-32 (zlib.crc32) of those bytes
 *   8  u8   message type (MessageType)
 *   9  body
 *
 * All integers are little endian. A peer refuses a frame longer than the limit it announced (the
 * owner: HELLO_OK's maxFrameBytes) before it buffers its body, and a frame whose CRC does not match.
 */
import { crc32 } from 'node:zlib';

/** The protocol version this code speaks; HELLO carries it, the owner refuses another. */
export const PROTOCOL_VERSION = 2;
/** HELLO_OK's body: u16 version, u32 maxFrameBytes, u32 maxRecordBytes, u32 appendTimeoutMs. */
export const HELLO_OK_BYTES = 14;
/** The socket's name inside the log directory. */
export const FUNNEL_SOCKET_FILE = 'producer.sock';
export const FRAME_HEADER_BYTES = 8;
/**
 * How long every connection of an owner stops reading after an append threw ERR_LOG_FULL: silence a
 * client allows for beside connectTimeoutMs and the owner's appendTimeoutMs.
 */
export const LOG_FULL_PAUSE_MS = 100;
/**
 * A client seals its APPEND batch once it passes this size: a batch holds less than this plus one
 * record, which the owner's frame limit (its maxRecordBytes plus twice this) leaves room for.
 */
export const CLIENT_BATCH_BYTES = 1024 * 1024;

/** The message types; the direction is in the name's comment. */
export const MessageType = {
  /** client -> owner: u16 protocol version. The first message of a connection. */
  HELLO: 1,
  /** owner -> client: u16 protocol version, u32 maxFrameBytes, u32 maxRecordBytes, u32 appendTimeoutMs. */
  HELLO_OK: 2,
  /** client -> owner: u32 record count (at least 1), then each record as in a segment frame's body. */
  APPEND: 3,
  /** owner -> client: the outcome of the oldest unanswered APPEND (see batch-codec.ts). */
  APPEND_REPLY: 4,
  /** client -> owner: u32 flush id. */
  FLUSH: 5,
  /** owner -> client: u32 flush id; every record the connection sent before that FLUSH is durable. */
  FLUSH_OK: 6,
  /** owner -> client: u32 flush id, then an error (code, message). */
  FLUSH_ERR: 7,
  /** owner -> client: an error (code, message); the owner then closes the connection. */
  ERROR: 8,
  /** owner -> client: empty; the owner is alive (its thread was held by another connection's APPEND). */
  ALIVE: 9,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** A whole frame, checked: its type and its body (a view into the bytes received). */
export interface Frame {
  readonly type: number;
  readonly body: Buffer;
}

/** Builds a frame of `type` around `body` (the body is copied once). */
export function encodeFrame(type: MessageType, body: Uint8Array = EMPTY): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 1 + body.byteLength);
  out[FRAME_HEADER_BYTES] = type;
  out.set(body, FRAME_HEADER_BYTES + 1);
  sealFrame(out);
  return out;
}

/** Fills the length and CRC of a frame whose type and body are already in `frame` from byte 8. */
export function sealFrame(frame: Buffer): Buffer {
  frame.writeUInt32LE(frame.byteLength - FRAME_HEADER_BYTES, 0);
  frame.writeUInt32LE(crc32(frame.subarray(FRAME_HEADER_BYTES)), 4);
  return frame;
}

const EMPTY = new Uint8Array(0);
/** FrameReader joins chunks shorter than this as they come. */
const SMALL_CHUNK_BYTES = 16 * 1024;

/**
 * Cuts a byte stream into checked frames. Holds at most one frame's bytes plus one chunk: a frame
 * longer than `maxFrameBytes` is refused from its header, before its body is buffered.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private maxFrameBytes: number) {}

  /** Sets the longest frame taken from now on (a client learns the owner's limits after the first frame). */
  limit(maxFrameBytes: number): void {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** The bytes held, waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Drops every byte held (a connection that ended). */
  drop(): void {
    this.chunks = [];
    this.buffered = 0;
  }

  push(chunk: Buffer): void {
    if (chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    this.joinSmall();
  }

  /**
   * Joins the last two chunks while both are small and the one before is at most twice the last: a
   * peer that sends a frame a few bytes at a time (each read then a Buffer of its own, some 200 bytes
   * of memory per piece) leaves a few chunks per SMALL_CHUNK_BYTES held, not one per piece.
   */
  private joinSmall(): void {
    const c = this.chunks;
    while (c.length >= 2) {
      const a = c[c.length - 2]!;
      const b = c[c.length - 1]!;
      if (a.byteLength >= SMALL_CHUNK_BYTES || b.byteLength >= SMALL_CHUNK_BYTES || a.byteLength > 2 * b.byteLength) return;
      c.splice(c.length - 2, 2, Buffer.concat([a, b], a.byteLength + b.byteLength));
    }
  }

  /** The next whole frame, null when more bytes are needed, or a reason string for bytes that are not a frame. */
  next(): Frame | null | string {
    if (this.buffered < FRAME_HEADER_BYTES) return null;
    const head = this.peek(FRAME_HEADER_BYTES);
    const length = head.readUInt32LE(0);
    if (length < 1 || length > this.maxFrameBytes) return `a frame of ${length} bytes (the limit is ${this.maxFrameBytes})`;
    if (this.buffered < FRAME_HEADER_BYTES + length) return null;
    const whole = this.take(FRAME_HEADER_BYTES + length);
    const content = whole.subarray(FRAME_HEADER_BYTES);
    if (crc32(content) !== head.readUInt32LE(4)) return 'a frame whose CRC does not match its bytes';
    return { type: content[0]!, body: content.subarray(1) };
  }

  /** The first `n` buffered bytes, without consuming them. */
  private peek(n: number): Buffer {
    if (this.chunks[0]!.byteLength < n) this.merge(n);
    return this.chunks[0]!.subarray(0, n);
  }

  /** Consumes the first `n` buffered bytes (n <= buffered). */
  private take(n: number): Buffer {
    if (this.chunks[0]!.byteLength < n) this.merge(n);
    const first = this.chunks[0]!;
    const out = first.subarray(0, n);
    if (first.byteLength === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }

  /**
   * Joins the leading chunks into one of exactly `n` bytes: one copy per frame that spans chunks. The
   * bytes past `n` stay a view of the read chunk they came in, not of the joined buffer, which would
   * keep a frame already handed out in memory while the next one arrives.
   */
  private merge(n: number): void {
    let count = 0;
    let bytes = 0;
    while (bytes < n) bytes += this.chunks[count++]!.byteLength;
    const last = this.chunks[count - 1]!;
    const over = bytes - n;
    const parts = this.chunks.slice(0, count);
    if (over > 0) parts[count - 1] = last.subarray(0, last.byteLength - over);
    const joined = Buffer.concat(parts, n);
    if (over > 0) this.chunks.splice(0, count, joined, last.subarray(last.byteLength - over));
    else this.chunks.splice(0, count, joined);
  }
}

/** Writes an error (code, message) as `[u8 code bytes][code][u16 message bytes][message]`, the message cut to MAX_ERROR_MESSAGE_BYTES. */
export function encodeError(code: string, message: string): Buffer {
  const c = Buffer.from(code.slice(0, 64), 'utf8');
  const m = Buffer.from(message, 'utf8').subarray(0, MAX_ERROR_MESSAGE_BYTES);
  const out = Buffer.allocUnsafe(1 + c.byteLength + 2 + m.byteLength);
  out[0] = c.byteLength;
  c.copy(out, 1);
  out.writeUInt16LE(m.byteLength, 1 + c.byteLength);
  m.copy(out, 3 + c.byteLength);
  return out;
}

/** The longest error message carried, in bytes. */
export const MAX_ERROR_MESSAGE_BYTES = 1024;

/** Reads an error written by encodeError at `at`; returns it and the position after it, or null when it overruns `b`. */
export function decodeError(b: Buffer, at: number): { code: string; message: string; end: number } | null {
  if (at + 1 > b.byteLength) return null;
  const codeBytes = b[at]!;
  if (at + 1 + codeBytes + 2 > b.byteLength) return null;
  const code = b.toString('utf8', at + 1, at + 1 + codeBytes);
  const messageBytes = b.readUInt16LE(at + 1 + codeBytes);
  const start = at + 3 + codeBytes;
  if (start + messageBytes > b.byteLength) return null;
  return { code, message: b.toString('utf8', start, start + messageBytes), end: start + messageBytes };
}
