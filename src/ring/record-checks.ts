/**
 * The checks of a record's data before anything is reserved in the ring: a view whose buffer is gone,
 * and the shapes appendBatch takes. A record they refuse changes nothing.
 */
import { types } from 'node:util';
import { ErrorCode, LogError } from '../errors.js';
import { unusable, type AppendOptions, type AttributeEncoder } from '../format/record.js';
import { setOwn } from '../format/record-decode.js';
import { RECORD_HEADER_BYTES } from './layout.js';
import { describe } from '../validate.js';

/** A batch's appender reports progress once per PROGRESS_RECORDS + 1 records it measures or copies (a mask). */
export const PROGRESS_RECORDS = 63;

/** A Uint8Array (or Buffer) of this realm or another (node:vm, a test runner's context). */
export function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array || types.isUint8Array(v);
}

export { unusable };

export function detached(): LogError {
  return LogError.invalidOption('data', 'append got a Uint8Array whose buffer was transferred away (detached) or shrank below the view: its bytes can no longer be read');
}

/** ERR_INVALID_OPTION: a record's data that is neither a string nor a Uint8Array. */
export function notData(data: unknown): LogError {
  return LogError.invalidOption('data', `append takes a Uint8Array, Buffer or string, got ${describe(data)}`);
}

/** `data` checked as an append checks a Uint8Array before it takes an offset: any realm's, not a detached view. */
export function checkedBytes(data: unknown): Uint8Array {
  if (!isBytes(data)) throw notData(data);
  if (data.byteLength === 0 && unusable(data)) throw detached();
  return data;
}

/**
 * A record's data string, refused (ERR_INVALID_RECORD) when it is not well-formed UTF-16: UTF-8 has no
 * lone surrogate, so it would be stored as U+FFFD and read back as another string, with no error (a
 * key or a header is refused alike: record.ts). A string V8 holds at one byte a character has none,
 * and isWellFormed answers for it without a scan.
 */
export function wellFormedData(data: string): string {
  if (!data.isWellFormed()) {
    throw new LogError(ErrorCode.INVALID_RECORD, 'invalid record: "data" holds a lone surrogate (a string that is not well-formed UTF-16 has no UTF-8 form: it would read back as another string)', { option: 'data' });
  }
  return data;
}

/** A record's data as bytes (a string as UTF-8), checked as a local append checks it (checkedBytes). */
export function appendData(data: unknown): Uint8Array {
  return typeof data === 'string' ? Buffer.from(wellFormedData(data), 'utf8') : checkedBytes(data);
}

/**
 * One record of appendBatch: its data, or its data with key and headers.
 * @inline
 */
export type BatchRecord = Uint8Array | string | ({ readonly data: Uint8Array | string } & Omit<AppendOptions, 'dedupKey'>);

/** A batch record's data, checked; its key and headers, if any, go to `opts[i]`. */
export function splitRecord(r: unknown, i: number, opts: (AppendOptions | undefined)[]): Uint8Array | string {
  if (typeof r === 'string' || isBytes(r)) {
    opts.push(undefined);
    return typeof r === 'string' ? wellFormedData(r) : r;
  }
  if (typeof r !== 'object' || r === null || !('data' in r)) {
    throw new LogError(ErrorCode.INVALID_RECORD, `invalid record: batch record ${i} must be a string, a Uint8Array or { data, key?, headers? }, got ${describe(r)}`, { option: 'records' });
  }
  const o = r as { readonly data: unknown; readonly key?: unknown; readonly headers?: unknown };
  if ('dedupKey' in o) {
    throw new LogError(ErrorCode.INVALID_RECORD, `invalid record: batch record ${i} has a dedupKey; a dedup key is taken by append, one record at a time`, { option: 'dedupKey' });
  }
  // Read as append reads its options, each once: a key or headers from a getter of the record's
  // class or from its prototype is the record's, not dropped unseen.
  const { data, key, headers } = o;
  if (typeof data !== 'string' && !isBytes(data)) {
    throw new LogError(ErrorCode.INVALID_RECORD, `invalid record: batch record ${i}'s data must be a string or a Uint8Array, got ${describe(data)}`, { option: 'records' });
  }
  // The options the encoder checks: key and headers, and any other name, which it refuses by name
  // (defined, not assigned: `__proto__` assigned would set a prototype, and pass unseen).
  let fields: Record<string, unknown> | undefined;
  for (const name in o) {
    if (name !== 'data' && name !== 'key' && name !== 'headers') setOwn(fields ??= {}, name, undefined);
  }
  if (key !== undefined) (fields ??= {}).key = key;
  if (headers !== undefined) (fields ??= {}).headers = headers;
  opts.push(fields as AppendOptions | undefined);
  return typeof data === 'string' ? wellFormedData(data) : data;
}

/**
 * The number of records in appendBatch's array: its length, read once. An array's length is a whole
 * number from 0 to 2^32 - 1; a Proxy's get trap may answer anything, and a batch of -1, NaN, 1.5 or
 * '2' records would move the offsets by that much (or put a batch of no record in the ring).
 */
export function batchLength(records: readonly unknown[]): number {
  const n: unknown = records.length;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffff_ffff) {
    throw LogError.invalidOption('records', `appendBatch takes an array whose length is a whole number of records, got a length of ${describe(n)}`);
  }
  return n;
}

/** A batch record's data length in bytes; a detached Uint8Array is refused as append refuses it. */
export function dataBytes(data: Uint8Array | string, i: number): number {
  if (typeof data === 'string') return Buffer.byteLength(data, 'utf8');
  if (data.byteLength === 0 && unusable(data)) {
    throw LogError.invalidOption('records', `batch record ${i} is a Uint8Array whose buffer was transferred away (detached) or shrank below the view`);
  }
  return data.byteLength;
}

/** An append made while another append of the same handle reads its options (from a getter): refused. */
export function reentered(): LogError {
  return new LogError(ErrorCode.INVALID_RECORD, 'invalid record: append was called while another append of this handle was reading its record\'s options or batch records (from a getter): nothing was appended', { option: 'options' });
}

/** A dedup key that the window looked up and the one encoded differ (a getter that answers otherwise). */
export function changedDedupKey(): LogError {
  return new LogError(ErrorCode.INVALID_RECORD, 'invalid record: "dedupKey" changed between two reads (a getter that answers otherwise): nothing was appended', { option: 'dedupKey' });
}

/** A batch record whose options encode to another length when read a second time (a getter that answers otherwise). */
export function changedOptions(i: number): LogError {
  return new LogError(ErrorCode.INVALID_RECORD, `invalid record: batch record ${i}'s key or headers changed between two reads (a getter that answers otherwise): nothing was appended`, { option: 'records' });
}

/** A batch record whose data's buffer a getter resized or detached after the batch was measured. */
export function resizedData(i: number): LogError {
  return new LogError(ErrorCode.INVALID_RECORD, `invalid record: batch record ${i}'s data changed size between measuring and copying the batch (a getter of a record's headers resized or detached its buffer): nothing was appended`, { option: 'records' });
}

/** A record past maxRecordBytes (`what`: which record). */
export function recordTooLarge(len: number, maxRecordBytes: number, what = 'record'): LogError {
  return new LogError(ErrorCode.RECORD_TOO_LARGE, `${what} of ${len} bytes exceeds maxRecordBytes (${maxRecordBytes})`);
}

/**
 * Checks and measures the first `n` of appendBatch's records (as many as the array held when the call
 * began: a getter may push records onto it or cut it short meanwhile, and the batch must hold as many
 * records as the offsets it takes) before anything is reserved: their data into `data`, key and
 * headers into `opts`, attribute and payload bytes into `sizes` (two per record). Returns the bytes
 * the records take in the ring, their length words included. Calls `progress` every PROGRESS_RECORDS + 1
 * records, and after each record given as an object (its getters ran): a long batch holds the append
 * lock for long (APPEND.PROGRESS, append-lock.ts).
 */
export function measureBatch(records: readonly BatchRecord[], n: number, attributes: AttributeEncoder, maxRecordBytes: number,
  data: (Uint8Array | string)[], opts: (AppendOptions | undefined)[], sizes: number[], progress: () => void): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    data.push(splitRecord(r, i, opts));
    const attrLen = opts[i] === undefined ? 0 : attributes.encode(opts[i]!);
    const len = attrLen + dataBytes(data[i]!, i);
    if (len > maxRecordBytes) throw recordTooLarge(len, maxRecordBytes, `record ${i} of the batch`);
    sizes.push(attrLen, len);
    total += RECORD_HEADER_BYTES + len;
    // A record object's getters and its options' run the caller's code, which may take long: each such record is progress.
    if ((i & PROGRESS_RECORDS) === PROGRESS_RECORDS || (typeof r === 'object' && r !== null && !isBytes(r))) progress();
  }
  return total;
}

/**
 * A record checked as append checks it, with nothing reserved or copied: the options' shape and
 * limits (the encoder's errors), data that is neither bytes nor a string (ERR_INVALID_OPTION), and
 * the whole payload against maxRecordBytes. A dedup hit answers only a call that would be valid.
 */
export function checkRecord(attributes: AttributeEncoder, data: unknown, opts: AppendOptions | undefined, maxRecordBytes: number): void {
  const attrLen = opts === undefined ? 0 : attributes.encode(opts);
  let len: number;
  if (typeof data === 'string') {
    len = Buffer.byteLength(wellFormedData(data), 'utf8');
  } else if (isBytes(data)) {
    if (data.byteLength === 0 && unusable(data)) throw detached();
    len = data.byteLength;
  } else {
    throw notData(data);
  }
  if (attrLen + len > maxRecordBytes) throw recordTooLarge(attrLen + len, maxRecordBytes);
}

/** What an attached handle adds to its appender's checks (src/producer/attached-producer.ts). */
export interface AppenderHooks {
  /** After a record's getters ran (`waiting` false) and in each slice of a wait for ring space (true): throws when the handle closed; waiting, fails the log when its writer is gone. */
  check(waiting: boolean): void;
}
