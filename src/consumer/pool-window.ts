/**
 * The shared record window of a pool round on a log the workers cannot read themselves (a backend:
 * the JetStream stream). The coordinator's feeder (src/consumer/pool-feeder.ts) writes the records
 * into one SharedArrayBuffer in offset order; the lanes read them from it by offset, as a lane reads
 * the segment files locally, and build the same Message.
 *
 * LAYOUT
 *   slot table   WINDOW entries; record o is in slot o & (WINDOW - 1):
 *                f64 timestamp, i32 position in the arena, i32 length (the length word included)
 *   arena        a ring of bytes; each record as in a frame body: [u32 length word][payload], bit 31
 *                of the word flagging an attribute block at the start of the payload (key, headers:
 *                src/format/record.ts), bits 0-30 the payload's length; then, for a record whose
 *                headers a local record cannot carry (a JetStream record another NATS client
 *                published: more than 255, a name over 255 bytes), its headers as UTF-8 JSON (its
 *                attribute block has none): the slot's length is longer than the word's by them
 *
 * A record is written whole and contiguous (at the ring's start when it does not fit before the end).
 * The lanes never run past the committed prefix plus WINDOW (pool-lane.ts), and a record below the
 * committed prefix is done: its slot and its bytes are free. So the feeder writes record o when
 * o < committed + WINDOW and its bytes fit between the ring's head and the position of the first
 * record not committed; else it waits for the prefix to move. The records reach the lanes through
 * the end the feeder publishes (Atomics store and notify after the bytes are written).
 */
import { ErrorCode, LogError } from '../errors.js';
import { carriesAll } from '../format/header-fit.js';
import { AttributeEncoder, RECORD_ATTRIBUTES_FLAG, RECORD_LENGTH_MASK, decodeAttributes } from '../format/record.js';
import type { Message } from '../types.js';
import { WINDOW, type LaneRecordReader } from './pool-protocol.js';

const MASK = WINDOW - 1;
const TABLE_BYTES = WINDOW * 16;
/** The arena's least size. */
export const MIN_ARENA_BYTES = 8 * 1024 * 1024;

interface WindowViews {
  readonly ts: Float64Array;
  readonly pos: Int32Array;
  readonly len: Int32Array;
  readonly arena: Uint8Array;
}

function windowViews(sab: SharedArrayBuffer): WindowViews {
  return {
    ts: new Float64Array(sab, 0, WINDOW),
    pos: new Int32Array(sab, WINDOW * 8, WINDOW),
    len: new Int32Array(sab, WINDOW * 12, WINDOW),
    arena: new Uint8Array(sab, TABLE_BYTES),
  };
}

/** Record `offset` as a Message; its data, key and headers are copies (they outlive the slot). */
function messageAt(v: WindowViews, offset: number): Message {
  const i = offset & MASK;
  const at = v.pos[i]!;
  const end = at + v.len[i]!;
  const a = v.arena;
  const word = (a[at]! | (a[at + 1]! << 8) | (a[at + 2]! << 16) | (a[at + 3]! << 24)) >>> 0;
  const payload = word & RECORD_LENGTH_MASK;
  if (payload > end - at - 4) {
    throw new LogError(ErrorCode.INTERNAL, `internal invariant broken: record ${offset} in the pool's window has length ${payload}, its slot ${end - at - 4}`, { offset });
  }
  const body = a.slice(at + 4, at + 4 + payload);
  // Headers past what a local record carries follow the payload as JSON.
  const wide = at + 4 + payload < end ? JSON.parse(Buffer.from(a.buffer, a.byteOffset + at + 4 + payload, end - at - 4 - payload).toString('utf8')) as Record<string, string> : null;
  const timestamp = v.ts[i]!;
  if ((word & RECORD_ATTRIBUTES_FLAG) === 0) return { offset, data: body, timestamp, key: null, headers: wide };
  const attrs = decodeAttributes(body, 0, body.length);
  if (typeof attrs === 'string') throw new LogError(ErrorCode.INTERNAL, `internal invariant broken: record ${offset} in the pool's window: ${attrs}`, { offset });
  return { offset, data: body.subarray(attrs.dataStart), timestamp, key: attrs.key, headers: wide ?? attrs.headers };
}

/** The window's writer, on the coordinator's thread (the feeder's). */
export class WindowWriter {
  readonly buffer: SharedArrayBuffer;
  private readonly v: WindowViews;
  /** Where the next record goes in the arena. */
  private head = 0;
  private readonly encoder = new AttributeEncoder(false);

  /** `arenaBytes`: the ring's size; the window takes that plus WINDOW x 16 bytes of slots. */
  constructor(arenaBytes: number) {
    this.buffer = new SharedArrayBuffer(TABLE_BYTES + arenaBytes);
    this.v = windowViews(this.buffer);
  }

  /**
   * Writes `msg` (the record at `fedEnd`, the first one not written) when its slot and its bytes are
   * free: records below `committed` are done. False when it must wait for the committed prefix to
   * move. ERR_RECORD_TOO_LARGE for a record larger than the whole arena.
   */
  put(msg: Message, committed: number, fedEnd: number): boolean {
    if (fedEnd - committed >= WINDOW) return false;
    const { key } = msg;
    // Headers a local record cannot carry go after the payload as JSON, all of them (messageAt).
    const wide = msg.headers !== null && !carriesAll(msg.headers) ? Buffer.from(JSON.stringify(msg.headers)) : null;
    const headers = wide === null ? msg.headers : null;
    const attrBytes = key !== null || headers !== null
      ? this.encoder.encode(key !== null && headers !== null ? { key, headers } : key !== null ? { key } : { headers: headers! })
      : 0;
    const payload = attrBytes + msg.data.length;
    const n = 4 + payload + (wide === null ? 0 : wide.byteLength);
    const a = this.v.arena;
    if (n > a.length) {
      throw new LogError(ErrorCode.RECORD_TOO_LARGE, `record ${msg.offset} of ${payload} bytes is larger than the pool's record window (${a.length} bytes)`, { offset: msg.offset });
    }
    const at = this.place(n, committed, fedEnd);
    if (at < 0) return false;
    const word = (payload | (attrBytes > 0 ? RECORD_ATTRIBUTES_FLAG : 0)) >>> 0;
    a[at] = word & 0xff;
    a[at + 1] = (word >>> 8) & 0xff;
    a[at + 2] = (word >>> 16) & 0xff;
    a[at + 3] = word >>> 24;
    if (attrBytes > 0) this.encoder.copyTo(a, at + 4, attrBytes);
    a.set(msg.data, at + 4 + attrBytes);
    if (wide !== null) a.set(wide, at + 4 + payload);
    const i = msg.offset & MASK;
    this.v.pos[i] = at;
    this.v.len[i] = n;
    this.v.ts[i] = msg.timestamp;
    this.head = at + n;
    return true;
  }

  /** Record `offset` (written, not yet committed), read back on this thread (a dead letter, a give-back). */
  message(offset: number): Message {
    return messageAt(this.v, offset);
  }

  /** Where `n` bytes go, or -1 while the records not committed hold the room. */
  private place(n: number, committed: number, fedEnd: number): number {
    if (committed >= fedEnd) return 0; // every record written is done: the ring is empty
    const tail = this.v.pos[committed & MASK]!;
    if (this.head > tail) {
      if (this.head + n <= this.v.arena.length) return this.head;
      return n < tail ? 0 : -1;
    }
    return this.head + n < tail ? this.head : -1;
  }
}

/**
 * A lane's reader of the window (workers/pool-worker.ts): the surface of LaneReader, by offset. It
 * reads only records the feeder published (below the end the lane waited for), so it never blocks.
 */
export class WindowReader implements LaneRecordReader {
  private next = 0;
  private readonly v: WindowViews;

  constructor(window: SharedArrayBuffer) {
    this.v = windowViews(window);
  }

  get nextOffset(): number {
    return this.next;
  }

  read(limit: number): Message | null {
    if (this.next >= limit) return null;
    const m = messageAt(this.v, this.next);
    this.next++;
    return m;
  }

  skipTo(offset: number): boolean {
    this.next = offset;
    return true;
  }

  seek(offset: number): void {
    this.next = offset;
  }

  hint(): null {
    return null;
  }

  jumpTo(): boolean {
    return false;
  }
}
