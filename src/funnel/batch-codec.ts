/**
 * The bodies of APPEND and APPEND_REPLY (src/funnel/wire.ts has the frame around them).
 *
 * APPEND body
 *   0  u32  record count (at least 1)
 *   4  records, each as in a segment frame's body (src/format/record.ts): [u32 length word][payload];
 *      bit 31 of the word flags an attribute block (key, headers, dedup key) at the payload's start
 *
 * APPEND_REPLY body (the outcome of the oldest APPEND not yet answered, one per record, in order)
 *   0  u32  record count (that APPEND's)
 *   4  u8   form: 0 dense, 1 each
 *   dense: f64 first offset; record i got offset first + i
 *   each:  u8 error count, the errors (wire.ts encodeError), then per record an f64: an offset (>= 0),
 *          or -(i + 1) for the error at index i (the record was refused)
 */
import { ErrorCode, LogError } from '../errors.js';
import { AttributeEncoder, NOT_UTF8, RECORD_ATTRIBUTES_FLAG, RECORD_LENGTH_MASK, REPEATED_HEADER, decodeAttributes, type AppendOptions, type RecordAttributes } from '../format/record.js';
import { u32At } from '../format/frame.js';
import { checkedBytes, wellFormedData } from '../ring/record-checks.js';
import { FRAME_HEADER_BYTES, MessageType, decodeError, encodeError, sealFrame } from './wire.js';

/** Where an APPEND frame's first record starts: frame header, type, count. */
const RECORDS_AT = FRAME_HEADER_BYTES + 1 + 4;
const FORM_DENSE = 0;
const FORM_EACH = 1;
/** The most distinct errors one reply names; further refusals reuse one entry per code. */
const MAX_REPLY_ERRORS = 200;

/**
 * Builds APPEND frames on the client, record by record, in one buffer it reuses: `seal()` copies the
 * frame out and starts the next one.
 */
export class BatchBuilder {
  private buf: Buffer;
  private at = RECORDS_AT;
  count = 0;

  constructor(private readonly attributes: AttributeEncoder, initialBytes: number) {
    this.buf = Buffer.allocUnsafe(Math.max(initialBytes, RECORDS_AT + 64));
  }

  /** The frame's bytes so far. */
  get bytes(): number {
    return this.at;
  }

  /**
   * Encodes a record; throws ERR_INVALID_RECORD or ERR_RECORD_TOO_LARGE (past `maxRecordBytes`)
   * before anything is added: a refused record leaves the batch as it was. So does `stopped()`'s error,
   * asked once the caller's code (getters of `opts`) has run: it may have closed the handle.
   */
  add(data: Uint8Array | string, opts: AppendOptions | undefined, maxRecordBytes: number, stopped: () => Error | null): void {
    const attrLen = opts === undefined ? 0 : this.attributes.encode(opts);
    const stop = opts === undefined ? null : stopped();
    if (stop !== null) throw stop;
    const dataLen = typeof data === 'string' ? Buffer.byteLength(wellFormedData(data), 'utf8') : checkedBytes(data).byteLength;
    const len = attrLen + dataLen;
    if (len > maxRecordBytes) throw new LogError(ErrorCode.RECORD_TOO_LARGE, `record of ${len} bytes exceeds the owner's maxRecordBytes (${maxRecordBytes})`);
    this.room(4 + len);
    this.buf.writeUInt32LE(attrLen > 0 ? (len | RECORD_ATTRIBUTES_FLAG) >>> 0 : len, this.at);
    if (attrLen > 0) this.attributes.copyTo(this.buf, this.at + 4, attrLen);
    const dataAt = this.at + 4 + attrLen;
    if (typeof data === 'string') this.buf.write(data, dataAt, dataLen, 'utf8');
    else this.buf.set(data, dataAt);
    this.at += 4 + len;
    this.count++;
  }

  /** The finished frame (count, length and CRC filled in), a copy; the builder starts the next one. */
  seal(): Buffer {
    this.buf[FRAME_HEADER_BYTES] = MessageType.APPEND;
    this.buf.writeUInt32LE(this.count, FRAME_HEADER_BYTES + 1);
    const frame = sealFrame(Buffer.from(this.buf.subarray(0, this.at)));
    this.at = RECORDS_AT;
    this.count = 0;
    return frame;
  }

  private room(need: number): void {
    if (this.at + need <= this.buf.byteLength) return;
    const grown = Buffer.allocUnsafe(Math.max(this.at + need, this.buf.byteLength * 2));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }
}


/** An APPEND body that checkBatch accepted. */
export interface BatchCheck {
  /** Its records. */
  readonly count: number;
  /**
   * Whether its records can go into the ring as they are (RingAppender.appendRun): none carries a
   * dedup key, none is longer than maxRecordBytes, and their header names and values are UTF-8, each
   * name once. Else each is appended on its own (a record whose dedup key or header is not UTF-8, or
   * that names a header twice, is refused then).
   */
  readonly run: boolean;
}

/**
 * Checks an APPEND body's structure before any record of it is appended: a count of at least 1,
 * each record's length inside the body, attribute blocks that decode, nothing left over. Returns the
 * record count and whether the records can go in as one run, or the reason the body is not one.
 */
export function checkBatch(body: Buffer, maxRecordBytes: number): BatchCheck | string {
  if (body.byteLength < 4) return 'an APPEND without its record count';
  const count = body.readUInt32LE(0);
  if (count === 0) return 'an APPEND of no record';
  let p = 4;
  let run = true;
  for (let i = 0; i < count; i++) {
    if (p + 4 > body.byteLength) return `an APPEND whose record ${i} overruns it`;
    const word = u32At(body, p);
    const end = p + 4 + (word & RECORD_LENGTH_MASK);
    if (end > body.byteLength) return `an APPEND whose record ${i} overruns it`;
    if (end - p - 4 > maxRecordBytes) run = false;
    if ((word & RECORD_ATTRIBUTES_FLAG) !== 0) {
      // Strict: a header or dedup key that is not UTF-8, or a header named twice, is refused
      // (forEachRecord); the rest of the block is checked all the same, and the batch goes record by record.
      let attrs = decodeAttributes(body, p + 4, end, true);
      if (attrs === NOT_UTF8 || attrs === REPEATED_HEADER) {
        run = false;
        attrs = decodeAttributes(body, p + 4, end); // the rest of the block is checked all the same
      }
      if (typeof attrs === 'string') return `an APPEND whose record ${i} is malformed (${attrs})`;
      if (attrs.dedupKey !== null) run = false;
    }
    p = end;
  }
  return p === body.byteLength ? { count, run } : 'an APPEND with bytes after its last record';
}

/**
 * The refusal of a record whose dedup key or header name or value is not UTF-8. Read leniently, such
 * bytes would become U+FFFD: two distinct dedup keys would be one (the second record answered with
 * the first one's offset and never stored), two header names one (a header lost), a value another.
 */
export function notUtf8Record(): LogError {
  return new LogError(ErrorCode.INVALID_RECORD, 'invalid record: its dedup key or a header name or value is not valid UTF-8 (the funnel carries them as UTF-8 bytes)');
}

/**
 * The refusal of a record whose attribute block names a header twice: the owner's append takes headers
 * as an object, so one of the values would be lost (read back, the block gives the last one only).
 */
export function repeatedHeaderRecord(): LogError {
  return new LogError(ErrorCode.INVALID_RECORD, 'invalid record: it names a header twice (a record holds one value per header name)');
}

/**
 * Calls `fn` with each record of a body that checkBatch accepted: its data (a view) and its options,
 * or the error that refuses it (`invalid`: a dedup key or header that is not UTF-8, a header named twice;
 * `opts` undefined then).
 */
export function forEachRecord(body: Buffer, fn: (data: Uint8Array, opts: AppendOptions | undefined, invalid?: LogError) => void): void {
  const count = body.readUInt32LE(0);
  let p = 4;
  for (let i = 0; i < count; i++) {
    const word = u32At(body, p);
    const end = p + 4 + (word & RECORD_LENGTH_MASK);
    if ((word & RECORD_ATTRIBUTES_FLAG) === 0) {
      fn(new Uint8Array(body.buffer, body.byteOffset + p + 4, end - p - 4), undefined);
    } else {
      const a = decodeAttributes(body, p + 4, end, true);
      // A string other than NOT_UTF8 and REPEATED_HEADER: checkBatch refused the body already.
      if (a === NOT_UTF8) fn(NO_DATA, undefined, notUtf8Record());
      else if (a === REPEATED_HEADER) fn(NO_DATA, undefined, repeatedHeaderRecord());
      else if (typeof a !== 'string') fn(new Uint8Array(body.buffer, body.byteOffset + a.dataStart, end - a.dataStart), optionsOf(a));
    }
    p = end;
  }
}

const NO_DATA = new Uint8Array(0);

/** The append options of a decoded attribute block. */
function optionsOf(a: RecordAttributes): AppendOptions {
  const opts: { key?: Uint8Array; headers?: Record<string, string>; dedupKey?: string } = {};
  if (a.key !== null) opts.key = a.key;
  if (a.headers !== null) opts.headers = a.headers;
  if (a.dedupKey !== null) opts.dedupKey = a.dedupKey;
  return opts;
}

/** Collects the outcome of each record of one APPEND on the owner, and encodes the reply. */
export class ReplyBuilder {
  private readonly outcomes: Float64Array;
  private readonly errors: Array<{ code: string; message: string }> = [];
  private readonly errorIndex = new Map<string, number>();
  private n = 0;
  private dense = true;

  constructor(readonly count: number) {
    this.outcomes = new Float64Array(count);
  }

  accepted(offset: number): void {
    if (this.n > 0 && offset !== this.outcomes[this.n - 1]! + 1) this.dense = false;
    this.outcomes[this.n++] = offset;
  }

  refused(code: string, message: string): void {
    this.dense = false;
    this.outcomes[this.n++] = -(this.indexOf(code, message) + 1);
  }

  /** The APPEND_REPLY frame. */
  encode(): Buffer {
    const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 1 + 5);
    head.writeUInt32LE(this.count, FRAME_HEADER_BYTES + 1);
    if (this.dense && this.n === this.count) {
      head[FRAME_HEADER_BYTES + 5] = FORM_DENSE;
      const first = Buffer.allocUnsafe(8);
      first.writeDoubleLE(this.outcomes[0]!, 0);
      return frameOf(head, [first]);
    }
    head[FRAME_HEADER_BYTES + 5] = FORM_EACH;
    const parts = [Buffer.from([this.errors.length]), ...this.errors.map((e) => encodeError(e.code, e.message))];
    parts.push(Buffer.from(this.outcomes.buffer, this.outcomes.byteOffset, this.outcomes.byteLength));
    return frameOf(head, parts);
  }

  private indexOf(code: string, message: string): number {
    const full = this.errors.length >= MAX_REPLY_ERRORS;
    const key = full ? code : `${code}\0${message}`;
    let i = this.errorIndex.get(key);
    if (i === undefined) {
      i = this.errors.length;
      this.errors.push({ code, message: full ? `${message} (and more refusals of this code in the batch)` : message });
      this.errorIndex.set(key, i);
    }
    return i;
  }
}

/** Joins a frame head (header, type and fixed fields) and body parts, and seals it. */
function frameOf(head: Buffer, parts: Buffer[]): Buffer {
  const out = Buffer.concat([head, ...parts]);
  out[FRAME_HEADER_BYTES] = MessageType.APPEND_REPLY;
  return sealFrame(out);
}

/** One record's outcome on the client: its offset, or the error the owner refused it with. */
export type Outcome = number | { code: string; message: string };

/** Decodes an APPEND_REPLY body into per-record outcomes; a reason string when it is malformed or counts `expected` records wrong. */
export function decodeReply(body: Buffer, expected: number): ((i: number) => Outcome) | string {
  if (body.byteLength < 5) return 'a short APPEND_REPLY';
  const count = body.readUInt32LE(0);
  if (count !== expected) return `an APPEND_REPLY for ${count} records, where ${expected} were sent`;
  if (body[4] === FORM_DENSE) {
    if (body.byteLength !== 13) return 'a dense APPEND_REPLY of the wrong size';
    const first = body.readDoubleLE(5);
    return (i) => first + i;
  }
  if (body[4] !== FORM_EACH || body.byteLength < 6) return 'an APPEND_REPLY of an unknown form';
  const errors: Array<{ code: string; message: string }> = [];
  let p = 6;
  for (let i = 0; i < body[5]!; i++) {
    const e = decodeError(body, p);
    if (e === null) return 'an APPEND_REPLY whose errors overrun it';
    errors.push({ code: e.code, message: e.message });
    p = e.end;
  }
  if (body.byteLength - p !== count * 8) return 'an APPEND_REPLY whose outcomes do not match its count';
  return (i) => {
    const v = body.readDoubleLE(p + i * 8);
    return v >= 0 ? v : errors[-v - 1] ?? { code: ErrorCode.INTERNAL, message: 'the owner named an error it did not send' };
  };
}
