/**
 * A record's attributes (format version 2): key, headers and dedup key, byte by byte.
 *
 * A record in the ring and in a frame body is `[u32 length word][payload]`. Bit 31 of the length word
 * (RECORD_ATTRIBUTES_FLAG) says whether the payload starts with an attribute block; bits 0-30 are the
 * payload's length. A record without attributes is stored exactly as in format version 1.
 *
 * ATTRIBUTE BLOCK (at the start of the payload, only when the flag is set)
 *   0  u8   which attributes follow: 1 key, 2 headers, 4 dedup key (other bits: damage)
 *   key        u16 key bytes, the key
 *   headers    u8 header count (at least 1), then per header:
 *                u8 name bytes (at least 1), the name (UTF-8), u16 value bytes, the value (UTF-8)
 *   dedup key  u16 bytes, the dedup key (UTF-8)
 *   the rest of the payload is the record's data
 *
 * The parts follow in the order of their bits; each is present only when its bit is set. All
 * integers are little endian.
 */
import { types } from 'node:util';
import { ErrorCode, LogError } from '../errors.js';
import { describe } from '../validate.js';
import { ATTR_DEDUP_KEY, ATTR_HEADERS, ATTR_KEY } from './record-decode.js';
export { ATTR_DEDUP_KEY, ATTR_HEADERS, ATTR_KEY, NOT_UTF8, RECORD_ATTRIBUTES_FLAG, REPEATED_HEADER, RECORD_LENGTH_MASK, decodeAttributes, type RecordAttributes } from './record-decode.js';

/** The longest key, in bytes. */
export const MAX_KEY_BYTES = 65_535;
/** The most headers one record carries. */
export const MAX_HEADERS = 255;
/** The longest header name, in UTF-8 bytes. */
export const MAX_HEADER_NAME_BYTES = 255;
/** The longest header value, in UTF-8 bytes. */
export const MAX_HEADER_VALUE_BYTES = 65_535;
/** The longest dedup key, in UTF-8 bytes. */
export const MAX_DEDUP_KEY_BYTES = 1_024;

/**
 * What `append` takes beside the data. Key, headers and data together count against
 * `maxRecordBytes`; a value of the wrong type or shape is ERR_INVALID_RECORD, one past a limit
 * ERR_RECORD_TOO_LARGE, and nothing is appended then.
 */
export interface AppendOptions {
  /** Bytes or a string (stored as UTF-8) that the application reads back as `Message.key`; up to 65,535 bytes (a detached Uint8Array: ERR_INVALID_OPTION). */
  readonly key?: Uint8Array | string;
  /**
   * String names and values, read back as `Message.headers` in the order given: at most 255 headers,
   * names of 1 to 255 UTF-8 bytes, values of up to 65,535 bytes. A plain object (prototype
   * `Object.prototype` or null): a Map or a class's instance is refused; Symbol-named properties are
   * not headers (as JSON.stringify leaves them out).
   */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * A key the producer's dedup window recognises (1 to 1,024 UTF-8 bytes): an append whose key the
   * window holds returns the earlier record's offset and appends nothing. Needs the `dedupWindow`
   * option; refused by `appendBatch` and by attached handles.
   */
  readonly dedupKey?: string;
}

function invalid(field: string, what: string): LogError {
  return new LogError(ErrorCode.INVALID_RECORD, `invalid record: "${field}" ${what}`, { option: field });
}

function tooLarge(field: string, bytes: number, limit: number, name: string): LogError {
  return new LogError(ErrorCode.RECORD_TOO_LARGE, `record's ${field} of ${bytes} bytes exceeds ${name} (${limit})`, { option: field });
}

/** Which string putString writes: named in an error only (no message is built on the way). */
const enum Field { KEY, HEADER_NAME, HEADER_VALUE, DEDUP_KEY }

function fieldTooLarge(field: Field, header: string, bytes: number, limit: number): LogError {
  switch (field) {
    case Field.KEY: return tooLarge('key', bytes, limit, 'MAX_KEY_BYTES');
    case Field.HEADER_NAME: return tooLarge(`headers name "${header.slice(0, 40)}"`, bytes, limit, 'MAX_HEADER_NAME_BYTES');
    case Field.HEADER_VALUE: return tooLarge(`headers.${header}`, bytes, limit, 'MAX_HEADER_VALUE_BYTES');
    case Field.DEDUP_KEY: return tooLarge('dedupKey', bytes, limit, 'MAX_DEDUP_KEY_BYTES');
  }
}

function notWellFormed(field: Field, header: string): LogError {
  const what = 'holds a lone surrogate (a string that is not well-formed UTF-16 has no UTF-8 form)';
  switch (field) {
    case Field.KEY: return invalid('key', what);
    case Field.HEADER_NAME: return invalid('headers', `name "${header.slice(0, 40)}" ${what}`);
    case Field.HEADER_VALUE: return invalid(`headers.${header}`, what);
    case Field.DEDUP_KEY: return invalid('dedupKey', what);
  }
}

/** Thrown inside encodeInto when the block outgrows the target's room; never leaves the encoder. */
const NO_ROOM: unique symbol = Symbol('no room');
const { hasOwnProperty } = Object.prototype;

/** The target of the copy that checks an empty Uint8Array (see unusable()). */
const NO_BYTES = new Uint8Array(0);

/**
 * True when `bytes` cannot be read: its buffer was transferred away (detached), or a resizable buffer
 * shrank below the view. Both read as byteLength 0, and copying them throws a TypeError, so only an
 * empty view is checked: a record with bytes never pays for it.
 */
export function unusable(bytes: Uint8Array): boolean {
  try {
    NO_BYTES.set(bytes); // the same check a copy makes, on a target of zero bytes
    return false;
  } catch {
    return true;
  }
}

/** Object.prototype of another realm (node:vm, a test runner's context): a plain object made there has it. */
export function isObjectPrototype(proto: unknown): boolean {
  if (typeof proto !== 'object' || proto === null || Object.getPrototypeOf(proto) !== null) return false;
  const ctor: unknown = (proto as { constructor?: unknown }).constructor;
  return typeof ctor === 'function' && ctor.name === 'Object' && (ctor as { prototype?: unknown }).prototype === proto;
}

/** Headers that are an object but not a plain one (a Map, a Date, a class's instance). */
function notPlain(headers: object): LogError {
  const ctor: unknown = (Object.getPrototypeOf(headers) as { constructor?: unknown }).constructor;
  const name = typeof ctor === 'function' ? ctor.name : '';
  const what = name !== '' && name !== 'Object' ? `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}` : 'an object with another prototype';
  const hint = types.isMap(headers) ? ' (Object.fromEntries(map) makes one of a Map)' : '';
  return invalid('headers', `must be a plain object (prototype Object.prototype or null) of string values, got ${what}${hint}`);
}

/**
 * Encodes append options into an attribute block: into a buffer it reuses (`encode`), or straight into
 * the ring's free space (`encodeInto`). Checks every field as it goes; runs on the producer's thread.
 */
export class AttributeEncoder {
  /** A plain Uint8Array and its length in a field: a Buffer's methods and byteLength cost more per short field. */
  private scratch = new Uint8Array(256);
  private capacity = 256;
  /** A Buffer over `scratch`, made when a string is not ASCII (Buffer.write encodes it). */
  private scratchBuffer: Buffer | null = null;
  /** Where the block goes: `scratch`, or encodeInto's target (and as a Buffer, for strings that are not ASCII) while it runs. */
  private out: Uint8Array = this.scratch;
  private outBuffer: Buffer | null = null;
  /** The end of the room encodeInto was given; `capacity` for `scratch`. */
  private end = 256;
  private busy = false; // an encoding runs (enter())

  /** The dedup key the last block holds (undefined: none), as read from the options while encoding. */
  dedupKey: string | undefined = undefined;

  /** `dedupKeys`: whether the producer has a dedup window; without one a dedup key is refused. */
  constructor(private readonly dedupKeys = false) {}

  /** The block `encode` built, valid until the next call. */
  get bytes(): Uint8Array {
    return this.scratch;
  }

  /** Copies the first `n` bytes of the block `encode` built to `target` at `at` (no view is made for a short block). */
  copyTo(target: Uint8Array, at: number, n: number): void {
    const b = this.scratch;
    if (n > SHORT_COPY_BYTES) {
      target.set(b.subarray(0, n), at);
      return;
    }
    for (let i = 0; i < n; i++) target[at + i] = b[i]!;
  }

  /** Encodes `opts` into the reused buffer (`bytes`); returns the block's length, 0 when the record has no attribute. */
  encode(opts: AppendOptions): number {
    this.enter();
    this.out = this.scratch;
    this.outBuffer = null;
    this.end = this.capacity;
    try {
      return this.put(opts, 0);
    } finally {
      this.busy = false;
    }
  }

  /**
   * Encodes `opts` straight into `target[at, end)`: the same checks and bytes as `encode`. Returns
   * the block's length (0: no attribute, nothing written), or -1 when the block would pass `end`
   * (what it wrote then means nothing, and not every field has been checked: `encode` them).
   */
  encodeInto(opts: AppendOptions, target: Buffer, at: number, end: number): number {
    this.enter();
    this.out = target;
    this.outBuffer = target;
    this.end = end;
    try {
      return this.put(opts, at);
    } catch (e) {
      if (e === NO_ROOM) return -1;
      throw e;
    } finally {
      this.busy = false;
    }
  }

  /** Refuses an encoding started while another runs (from a getter of its options): it would write over that block. */
  private enter(): void {
    if (this.busy) throw invalid('options', 'were being read for another append of this handle (an append from a getter): nothing was appended');
    this.busy = true;
  }

  /** The block of `opts` at `out[base]`; returns its length, 0 when the record has no attribute. */
  private put(opts: AppendOptions, base: number): number {
    if (typeof opts !== 'object' || opts === null) throw invalid('options', `must be an object, got ${describe(opts)}`);
    let flags = 0;
    let at = base + 1;
    for (const name in opts) {
      if (name !== 'key' && name !== 'headers' && name !== 'dedupKey') throw invalid(name, 'is not a record field (key, headers, dedupKey)');
    }
    const { key, headers, dedupKey } = opts;
    this.dedupKey = undefined;
    if (key !== undefined) {
      flags |= ATTR_KEY;
      at = this.putKey(key, at);
    }
    if (headers !== undefined) {
      const next = this.putHeaders(headers, at);
      if (next !== at) flags |= ATTR_HEADERS;
      at = next;
    }
    if (dedupKey !== undefined) {
      if (!this.dedupKeys) throw invalid('dedupKey', 'needs a producer opened with the dedupWindow option');
      if (typeof dedupKey !== 'string') throw invalid('dedupKey', `must be a string, got ${describe(dedupKey)}`);
      if (dedupKey.length === 0) throw invalid('dedupKey', 'must not be empty');
      flags |= ATTR_DEDUP_KEY;
      at = this.putString(dedupKey, at, 2, MAX_DEDUP_KEY_BYTES, Field.DEDUP_KEY, '');
      this.dedupKey = dedupKey;
    }
    if (flags === 0) return 0;
    this.out[base] = flags; // within the room: a part was written after it
    return at - base;
  }

  private putKey(key: Uint8Array | string, at: number): number {
    if (typeof key === 'string') return this.putString(key, at, 2, MAX_KEY_BYTES, Field.KEY, '');
    if (!(key instanceof Uint8Array) && !types.isUint8Array(key)) throw invalid('key', `must be a Uint8Array or a string, got ${describe(key)}`);
    // As for the data (ERR_INVALID_OPTION): a view whose buffer is gone reads as 0 bytes, and copying it throws a TypeError.
    if (key.byteLength === 0 && unusable(key)) throw LogError.invalidOption('key', 'is a Uint8Array whose buffer was transferred away (detached) or shrank below the view: its bytes can no longer be read');
    if (key.byteLength > MAX_KEY_BYTES) throw tooLarge('key', key.byteLength, MAX_KEY_BYTES, 'MAX_KEY_BYTES');
    this.room(at + 2 + key.byteLength);
    putU16(this.out, key.byteLength, at);
    this.out.set(key, at + 2);
    return at + 2 + key.byteLength;
  }

  /** Returns `at` unchanged for an empty headers object (the record then carries no headers). */
  private putHeaders(headers: Readonly<Record<string, string>>, at: number): number {
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
      throw invalid('headers', `must be an object of string values, got ${describe(headers)}`);
    }
    // Only a plain object's own enumerable string-named properties are headers: anything else would be dropped unseen.
    const proto: unknown = Object.getPrototypeOf(headers);
    if (proto !== Object.prototype && proto !== null && !isObjectPrototype(proto)) throw notPlain(headers);
    let count = 0;
    let p = at + 1; // the count goes at `at`: within the room once a header was written after it
    for (const name in headers) {
      // hasOwnProperty, not Object.hasOwn: V8 turns this for-in pattern into an enum-cache check (3x faster here).
      if (!hasOwnProperty.call(headers, name)) continue;
      if (++count > MAX_HEADERS) {
        throw new LogError(ErrorCode.RECORD_TOO_LARGE, `record has ${Object.keys(headers).length} headers, more than MAX_HEADERS (${MAX_HEADERS})`, { option: 'headers' });
      }
      const value = headers[name];
      if (typeof value !== 'string') throw invalid(`headers.${name}`, `must be a string, got ${describe(value)}`);
      if (name.length === 0) throw invalid('headers', 'has an empty name');
      p = this.putString(name, p, 1, MAX_HEADER_NAME_BYTES, Field.HEADER_NAME, name);
      p = this.putString(value, p, 2, MAX_HEADER_VALUE_BYTES, Field.HEADER_VALUE, name);
    }
    if (count === 0) return at;
    this.out[at] = count;
    return p;
  }

  /** Writes `[u8 or u16 length][UTF-8 bytes]` at `at`; returns the position after it. */
  private putString(s: string, at: number, lengthBytes: 1 | 2, limit: number, field: Field, header: string): number {
    if (s.length > limit) throw fieldTooLarge(field, header, Buffer.byteLength(s, 'utf8'), limit); // never fewer bytes than UTF-16 units
    this.room(at + lengthBytes + s.length * 3);
    const out = this.out;
    let n = s.length <= ASCII_LOOP_UNITS ? writeAscii(out, s, at + lengthBytes) : -1;
    if (n < 0) {
      // UTF-8 has no lone surrogate: written as U+FFFD, the string would read back as another one
      // (and a dedup key rebuilt from the log would no longer match the key appended).
      if (!s.isWellFormed()) throw notWellFormed(field, header);
      n = this.utf8Buffer().write(s, at + lengthBytes, 'utf8');
    }
    if (n > limit) throw fieldTooLarge(field, header, n, limit);
    if (lengthBytes === 1) out[at] = n;
    else putU16(out, n, at);
    return at + lengthBytes + n;
  }

  private utf8Buffer(): Buffer {
    if (this.outBuffer !== null) return this.outBuffer;
    this.scratchBuffer ??= Buffer.from(this.scratch.buffer, this.scratch.byteOffset, this.scratch.byteLength);
    return this.scratchBuffer;
  }

  /** Makes sure `out` holds `need` bytes: grows `scratch`, or gives up an encodeInto (NO_ROOM). */
  private room(need: number): void {
    if (need <= this.end) return;
    if (this.out !== this.scratch) throw NO_ROOM;
    const grown = new Uint8Array(Math.max(need, this.capacity * 2));
    grown.set(this.scratch);
    this.scratch = grown;
    this.out = grown;
    this.capacity = grown.length;
    this.end = grown.length;
    this.scratchBuffer = null;
  }
}

/** Strings up to this many UTF-16 units are tried as ASCII in a loop: Buffer.write costs more than the loop for short ones. */
const ASCII_LOOP_UNITS = 64;
/** Blocks up to this many bytes are copied into the ring in a loop (Buffer.copy costs more for them). */
const SHORT_COPY_BYTES = 64;

/** Writes `s` at `at` byte by byte if it is ASCII and returns its length; -1 (a part written) if it is not. */
function writeAscii(b: Uint8Array, s: string, at: number): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return -1;
    b[at + i] = c;
  }
  return n;
}

function putU16(b: Uint8Array, v: number, at: number): void {
  b[at] = v & 0xff;
  b[at + 1] = v >>> 8;
}

