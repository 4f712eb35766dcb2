/**
 * Reading a record's attribute block (format version 2; the layout is in record.ts and docs/format.md):
 * its bits, its shape and its values. Used by readers, the frame check, the dedup window's rebuild and
 * the funnel's batches; the encoder (record.ts) takes its bit values from here.
 */
import { isUtf8 } from 'node:buffer';

/** Bit 31 of a record's length word: its payload starts with an attribute block. */
export const RECORD_ATTRIBUTES_FLAG = 0x8000_0000;
/** Bits 0-30 of a record's length word: the payload's length. */
export const RECORD_LENGTH_MASK = 0x7fff_ffff;

/** The attribute bits of a block's first byte. */
export const ATTR_KEY = 1;
export const ATTR_HEADERS = 2;
export const ATTR_DEDUP_KEY = 4;
const KNOWN_ATTRS = ATTR_KEY | ATTR_HEADERS | ATTR_DEDUP_KEY;

/** The attributes of a stored record, as decoded. */
export interface RecordAttributes {
  key: Uint8Array | null;
  headers: Record<string, string> | null;
  dedupKey: string | null;
  /** Where the data starts in the buffer decoded. */
  dataStart: number;
}

function u16At(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

/** decodeAttributes' answer, with `strictUtf8`, for a header or dedup key that is not valid UTF-8. */
export const NOT_UTF8 = 'record header or dedup key is not valid UTF-8';
/** decodeAttributes' answer, with `strictUtf8`, for a block that names a header twice (read, one value would be lost). */
export const REPEATED_HEADER = 'record names a header twice';

function readString(b: Uint8Array, at: number, n: number): string {
  return Buffer.from(b.buffer, b.byteOffset + at, n).toString('utf8');
}

/** What decodeAttributes answers for a block of a good shape when asked for the shape only. */
const SHAPE_OK: RecordAttributes = Object.freeze({ key: null, headers: null, dedupKey: null, dataStart: 0 });

/**
 * Decodes the attribute block of a payload held in `b` from `at` to `end` (the flag was set).
 * Returns a reason string when the block does not fit the payload or names an unknown attribute;
 * with `strictUtf8`, NOT_UTF8 when a header name or value or the dedup key is not valid UTF-8 (read
 * without it, such bytes read as U+FFFD, which re-encode longer), and REPEATED_HEADER when a header
 * name comes twice (the funnel's batches: the owner's append can take neither). With `shapeOnly`, nothing is
 * decoded: the answer is a reason string, or SHAPE_OK (the frame check's use).
 */
export function decodeAttributes(b: Uint8Array, at: number, end: number, strictUtf8 = false, shapeOnly = false): RecordAttributes | string {
  if (at >= end) return 'record attribute block is empty';
  const flags = b[at]!;
  if ((flags & ~KNOWN_ATTRS) !== 0 || flags === 0) return `record names unknown attributes (0x${flags.toString(16)})`;
  let p = at + 1;
  let key: Uint8Array | null = null;
  let headers: Record<string, string> | null = null;
  let dedupKey: string | null = null;
  if ((flags & ATTR_KEY) !== 0) {
    if (p + 2 > end) return 'record key length overruns the record';
    const n = u16At(b, p);
    p += 2;
    if (p + n > end) return 'record key overruns the record';
    if (!shapeOnly) key = b.subarray(p, p + n);
    p += n;
  }
  if ((flags & ATTR_HEADERS) !== 0) {
    if (p + 1 > end) return 'record header count overruns the record';
    const count = b[p++]!;
    if (count === 0) return 'record has a header block with no header';
    headers = {};
    for (let i = 0; i < count; i++) {
      if (p + 1 > end) return 'record header overruns the record';
      const nameBytes = b[p++]!;
      if (nameBytes === 0 || p + nameBytes + 2 > end) return 'record header name overruns the record';
      if (strictUtf8 && !isUtf8(b.subarray(p, p + nameBytes))) return NOT_UTF8;
      const namePosition = p;
      p += nameBytes;
      const valueBytes = u16At(b, p);
      p += 2;
      if (p + valueBytes > end) return 'record header value overruns the record';
      if (strictUtf8 && !isUtf8(b.subarray(p, p + valueBytes))) return NOT_UTF8;
      if (!shapeOnly) {
        const name = readString(b, namePosition, nameBytes);
        if (strictUtf8 && Object.hasOwn(headers, name)) return REPEATED_HEADER;
        const value = readString(b, p, valueBytes);
        setOwn(headers, name, value);
      }
      p += valueBytes;
    }
  }
  if ((flags & ATTR_DEDUP_KEY) !== 0) {
    if (p + 2 > end) return 'record dedup key length overruns the record';
    const n = u16At(b, p);
    p += 2;
    if (p + n > end) return 'record dedup key overruns the record';
    if (strictUtf8 && !isUtf8(b.subarray(p, p + n))) return NOT_UTF8;
    if (!shapeOnly) dedupKey = readString(b, p, n);
    p += n;
  }
  return shapeOnly ? SHAPE_OK : { key, headers, dedupKey, dataStart: p };
}

/**
 * Sets `name` as an own enumerable property of `o`: an assignment to `__proto__` would set the
 * object's prototype instead (or nothing), and a header or an option of that name would be lost
 * without a word.
 */
export function setOwn(o: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') Object.defineProperty(o, name, { value, enumerable: true, writable: true, configurable: true });
  else o[name] = value;
}
