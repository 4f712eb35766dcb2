/**
 * A record as a NATS message: the data is the payload; the key travels in the `Rl-Key` header
 * (base64), the user's headers as NATS headers of their own names, the dedup key as `Nats-Msg-Id`.
 * Header names starting with `Nats-` or `Rl-` are the engine's and the library's, refused in
 * append (ERR_INVALID_RECORD); so are names NATS headers cannot carry.
 *
 * nats.js trims a header value when it sets it and when it decodes it (JS trim: spaces, tabs, NBSP,
 * U+2028 and the like) and refuses a CR or LF in one. A value it would change travels in base64,
 * its name listed in the `Rl-Hb64` header (space-separated); a dedup key it would change travels as
 * `rl-b64:` and its base64 (as does a key that starts with `rl-b64:`), decoded by the tail scan.
 */
import type { MsgHdrs } from '@nats-io/transport-node';
import type { JsMsg } from '@nats-io/jetstream';
import { ErrorCode, LogError } from '../errors.js';
import { isObjectPrototype, type AppendOptions, type AttributeEncoder } from '../format/record.js';
import { setOwn } from '../format/record-decode.js';
import type { Message } from '../types.js';
import { nats } from './nats.js';

export const KEY_HEADER = 'Rl-Key';
/** The header that names the producer holding that published a record (read back by a resync, resync.ts). */
export const WRITER_HEADER = 'Rl-Writer';
/** The names of the headers whose values travel in base64. */
export const B64_HEADER = 'Rl-Hb64';
/** The start of a Nats-Msg-Id that holds a dedup key in base64. */
const MSG_ID_B64 = 'rl-b64:';
const RESERVED = /^(nats-|rl-)/i;
/** A NATS header name: printable ASCII without ':' or space. */
const HEADER_NAME = /^[!-9;-~]+$/;

function invalid(field: string, what: string): LogError {
  return new LogError(ErrorCode.INVALID_RECORD, `invalid record: "${field}" ${what}`, { option: field });
}

/** Whether nats.js would change `v` as a header value (trim it) or refuse it (a CR or LF). */
function natsWouldChange(v: string): boolean {
  return v.trim() !== v || /[\r\n]/.test(v);
}

const base64 = (v: string): string => Buffer.from(v, 'utf8').toString('base64');

/** The Nats-Msg-Id of a dedup key: the key, or when nats.js would change it (or it starts with `rl-b64:`), its base64 form. */
export function msgIdOf(dedupKey: string): string {
  return natsWouldChange(dedupKey) || dedupKey.startsWith(MSG_ID_B64) ? MSG_ID_B64 + base64(dedupKey) : dedupKey;
}

/** The dedup key of a stored Nats-Msg-Id (msgIdOf's inverse). */
export function dedupKeyOf(msgId: string): string {
  return msgId.startsWith(MSG_ID_B64) ? Buffer.from(msgId.slice(MSG_ID_B64.length), 'base64').toString('utf8') : msgId;
}

/**
 * The options of one append with `key`, `headers` and `dedupKey` each read once (a getter runs once),
 * and each header value too: the encoder checks this copy, and the headers, the wire size and the
 * dedup window use it, so the values checked are the values used. Other names are kept (their values
 * unread) for the encoder to refuse; anything but an object is returned as it is, for the encoder to
 * refuse.
 */
export function optionsOnce(opts: AppendOptions): AppendOptions {
  if (typeof opts !== 'object' || opts === null) return opts;
  const once: Record<string, unknown> = {};
  for (const name in opts) setOwn(once, name, null);
  const { key, dedupKey } = opts;
  const headers = headersOnce(opts.headers);
  if (key !== undefined) once.key = key;
  else delete once.key;
  if (headers !== undefined) once.headers = headers;
  else delete once.headers;
  if (dedupKey !== undefined) once.dedupKey = dedupKey;
  else delete once.dedupKey;
  return once as AppendOptions;
}

/**
 * A plain headers object's own enumerable values (the headers the encoder reads) each read once, in a
 * copy of the same prototype; anything else as it is, for the encoder to refuse.
 */
function headersOnce(headers: unknown): AppendOptions['headers'] {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return headers as AppendOptions['headers'];
  const proto = Object.getPrototypeOf(headers) as object | null;
  if (proto !== Object.prototype && proto !== null && !isObjectPrototype(proto)) return headers as AppendOptions['headers'];
  const copy = Object.create(proto) as Record<string, unknown>;
  for (const name in headers) if (Object.hasOwn(headers, name)) setOwn(copy, name, (headers as Record<string, unknown>)[name]);
  return copy as AppendOptions['headers'];
}

/** A record's options as append uses them: read once (optionsOnce), their encoded size, the NATS headers they make. */
export interface ReadOptions { opts: AppendOptions | undefined; attrBytes: number; headers: MsgHdrs | null }
export const NO_OPTIONS: ReadOptions = { opts: undefined, attrBytes: 0, headers: null };

/** Reads `opts` once and checks them with the local checks and codes (types, sizes, a dedupKey without a window). */
export function readOptions(encoder: AttributeEncoder, given: AppendOptions): ReadOptions {
  const opts = optionsOnce(given); // each field read once: the values checked are the values used
  return { opts, attrBytes: encoder.encode(opts), headers: recordHeaders(opts) };
}

/** The NATS headers of a record (beside the fence, which the producer adds), or null without any. */
export function recordHeaders(opts: AppendOptions | undefined): MsgHdrs | null {
  if (opts === undefined) return null;
  const { key, headers } = opts;
  if (key === undefined && (headers === undefined || Object.keys(headers).length === 0)) return null;
  const h = nats().transport.headers();
  const encoded: string[] = [];
  if (key !== undefined) h.set(KEY_HEADER, Buffer.from(typeof key === 'string' ? Buffer.from(key, 'utf8') : key).toString('base64'));
  if (headers !== undefined) {
    for (const name of Object.keys(headers)) {
      if (RESERVED.test(name)) throw invalid(`headers.${name}`, 'is a name the JetStream backend keeps for itself (Nats-*, Rl-*)');
      if (!HEADER_NAME.test(name)) throw invalid(`headers.${name}`, 'is not a NATS header name (printable ASCII without space or colon)');
      const v = headers[name]!;
      if (natsWouldChange(v)) {
        h.set(name, base64(v));
        encoded.push(name);
      } else {
        h.set(name, v);
      }
    }
  }
  if (encoded.length > 0) h.set(B64_HEADER, encoded.join(' '));
  return h;
}

/**
 * The header block of a publish: the stream's fence first (Nats-Expected-Last-Sequence, the record's
 * offset, then Nats-Expected-Stream), then the dedup key's Nats-Msg-Id, the producer's writer token
 * (resync.ts), and the record's own headers. nats-server (2.9) looks a header up at the first place
 * its name appears in the block, and takes it as absent when that place is not a line's start: a
 * record header whose name or value holds such a name (X-Nats-Expected-Last-Sequence, "see
 * Nats-Msg-Id") placed before it would switch it off. At the block's head, the fence is the first
 * place its names appear. The server's lookups read only the fence and the dedup key; the order of
 * the rest does not matter.
 */
export function publishHeaders(lastSequence: number, stream: string, dedupKey: string | undefined, writer: string, record: MsgHdrs | null): MsgHdrs {
  const h = nats().transport.headers();
  h.set('Nats-Expected-Last-Sequence', String(lastSequence));
  h.set('Nats-Expected-Stream', stream);
  if (dedupKey !== undefined) h.set('Nats-Msg-Id', msgIdOf(dedupKey));
  h.set(WRITER_HEADER, writer);
  if (record !== null) for (const [name, values] of record) for (const v of values) h.append(name, v);
  return h;
}

/** A NATS header block's own bytes: "NATS/1.0", then "\r\n\r\n" after its last line. */
export const HEADER_BLOCK_BYTES = 'NATS/1.0'.length + 4;

/** The bytes of one header line, "\r\n<name>: <value>", for an ASCII name and a value of `valueBytes` UTF-8 bytes. */
export function headerLineBytes(name: string, valueBytes: number): number {
  return 2 + name.length + 2 + valueBytes;
}

/**
 * The header bytes a record's key, headers and dedup key add to its NATS message (as nats.js encodes
 * them; the server's max_payload counts them with the payload). For options recordHeaders accepted.
 */
export function attributeHeaderBytes(opts: AppendOptions): number {
  const { key, headers, dedupKey } = opts;
  let n = 0;
  const b64Bytes = (bytes: number): number => 4 * Math.ceil(bytes / 3);
  if (key !== undefined) n += headerLineBytes(KEY_HEADER, b64Bytes(typeof key === 'string' ? Buffer.byteLength(key, 'utf8') : key.byteLength));
  let encodedNames = 0;
  if (headers !== undefined) {
    for (const name of Object.keys(headers)) {
      const v = headers[name]!;
      const bytes = Buffer.byteLength(v, 'utf8');
      n += headerLineBytes(name, natsWouldChange(v) ? b64Bytes(bytes) : bytes);
      if (natsWouldChange(v)) encodedNames += (encodedNames === 0 ? 0 : 1) + name.length;
    }
  }
  if (encodedNames > 0) n += headerLineBytes(B64_HEADER, encodedNames);
  if (dedupKey !== undefined) n += headerLineBytes('Nats-Msg-Id', Buffer.byteLength(msgIdOf(dedupKey), 'utf8'));
  return n;
}

/** The most digits of a stream sequence (Number.MAX_SAFE_INTEGER has 16). */
const MAX_SEQUENCE_DIGITS = 16;

/**
 * The header bytes the producer adds to every publish: the block, the fence (a lease token of
 * `tokenLength`, resync.ts), the expected stream (of `streamBytes`) and the expected last sequence.
 */
export function producerHeaderBytes(streamBytes: number, tokenLength: number): number {
  return HEADER_BLOCK_BYTES + headerLineBytes(WRITER_HEADER, tokenLength)
    + headerLineBytes('Nats-Expected-Stream', streamBytes) + headerLineBytes('Nats-Expected-Last-Sequence', MAX_SEQUENCE_DIGITS);
}

/** The largest header block nats-server stores (JetStream refuses a longer one, whatever max_payload says). */
export const MAX_HEADER_BLOCK_BYTES = 65_535;

/**
 * The server refuses a message past its max_payload, headers included (the producer's and the
 * record's), and one whose header block passes MAX_HEADER_BLOCK_BYTES: such a record is refused by
 * append with ERR_RECORD_TOO_LARGE, before it is queued, instead of by the server after (which would
 * stop the producer).
 */
export function checkWireSize(dataBytes: number, opts: AppendOptions | undefined, ownHeaderBytes: number, maxPayload: number, limitName = "the server's max_payload"): void {
  const headerBytes = ownHeaderBytes + (opts === undefined ? 0 : attributeHeaderBytes(opts));
  if (headerBytes > MAX_HEADER_BLOCK_BYTES) {
    throw new LogError(ErrorCode.RECORD_TOO_LARGE, `record's key and headers make a NATS header block of up to ${headerBytes} bytes with the producer's own, past the ${MAX_HEADER_BLOCK_BYTES} bytes nats-server stores (the key travels in base64)`);
  }
  const wire = dataBytes + headerBytes;
  if (wire > maxPayload) {
    throw new LogError(ErrorCode.RECORD_TOO_LARGE, `record of ${dataBytes} data bytes is a NATS message of up to ${wire} bytes with its headers, past ${limitName} (${maxPayload})`);
  }
}

/** The raw bytes nats.js 3.x keeps behind a message (not its public API: see ownHeadersOnly). */
interface RawMsg {
  readonly msg?: { readonly _rdata?: unknown; readonly _msg?: { readonly hdr?: unknown } };
}

const CR = 13;
const LF = 10;
const COLON = 58;
/** "NATS/1.0\r\n", the first line of a header block without a status. */
const BLOCK_START = Buffer.from('NATS/1.0\r\n');

/** Whether the ASCII `word` (lower case) starts at `at` in `b`, letters in either case. */
function startsWithWord(b: Uint8Array, at: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if ((b[at + i]! | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

/**
 * True when a stored message's header block holds only the engine's and the library's own headers
 * (names starting with Nats- or Rl-, Rl-Key aside), read from its raw bytes: toMessage then skips
 * decoding it, which would find neither a key nor a header of the record's. Every stored record
 * carries such headers (the producer's fence, its writer), so this is on every record's path.
 *
 * The raw block lives in nats.js 3.x fields that are not public API (`msg._rdata`, the block's
 * length in `msg._msg.hdr`): when they are not there as expected, or anything in the block is not
 * plain (a status line, a name nats.js would refuse, a lone CR or LF), false: the headers are decoded.
 */
export function ownHeadersOnly(m: JsMsg): boolean {
  const inner = (m as RawMsg).msg;
  const raw = inner?._rdata;
  const hdr = inner?._msg?.hdr;
  if (!(raw instanceof Uint8Array) || typeof hdr !== 'number' || hdr > raw.length) return false;
  if (hdr < 0) return true; // no header block at all
  if (hdr < BLOCK_START.length) return false;
  for (let i = 0; i < BLOCK_START.length; i++) if (raw[i] !== BLOCK_START[i]) return false;
  for (let s = BLOCK_START.length; s < hdr;) {
    if (raw[s] === CR) return raw[s + 1] === LF && s + 2 === hdr; // the block's last, empty line
    const own = startsWithWord(raw, s, 'nats-') || (startsWithWord(raw, s, 'rl-') && !startsWithWord(raw, s, 'rl-key'));
    if (!own) return false;
    let c = s;
    while (c < hdr && raw[c] !== COLON && raw[c]! >= 33 && raw[c]! <= 126) c++;
    if (c >= hdr || raw[c] !== COLON) return false;
    // The value runs to the line's CR LF (a byte loop: Buffer#indexOf is a native call, twice a line).
    let e = c + 1;
    while (e < hdr && raw[e] !== CR && raw[e] !== LF) e++;
    if (e + 1 >= hdr || raw[e] !== CR || raw[e + 1] !== LF) return false;
    s = e + 2;
  }
  return false;
}

/**
 * The whole ms below the time the stream stored `m`. The server gives that time in ns, past what a
 * double holds exactly (some 1.8e18): nats.js's `info.timestampNanos` is the nearest multiple of 256,
 * and its floor in ms is one ms late for a time a few hundred ns below a whole ms. So near a whole
 * ms the exact ns are read (`m.timestampNanos`, a bigint parsed from the reply subject); elsewhere
 * the double is exact enough, and costs no second parse.
 */
export function storedMs(m: JsMsg): number {
  const ns = m.info.timestampNanos;
  const sub = ns % 1e6; // exact for a double
  if (sub >= 2048 && sub <= 1e6 - 2048) return Math.floor(ns / 1e6);
  return Number(m.timestampNanos / 1_000_000n);
}

/** The message a consumer hands out for a stored NATS message. */
export function toMessage(m: JsMsg): Message {
  let key: Uint8Array | null = null;
  let headers: Record<string, string> | null = null;
  const h = ownHeadersOnly(m) ? undefined : m.headers;
  if (h !== undefined) {
    const encoded = h.has(B64_HEADER) ? new Set(h.get(B64_HEADER).split(' ')) : null;
    for (const [name, values] of h) {
      if (name === KEY_HEADER) key = new Uint8Array(Buffer.from(values[0] ?? '', 'base64'));
      else if (!RESERVED.test(name)) {
        const decode = encoded?.has(name) === true ? (v: string): string => Buffer.from(v, 'base64').toString('utf8') : (v: string): string => v;
        // A name another NATS client gave several values: combined as HTTP combines repeated fields
        // (RFC 9110, 5.3), in order, joined by ", " (docs/jetstream.md).
        setOwn(headers ??= {}, name, values.length === 1 ? decode(values[0]!) : values.map(decode).join(', '));
      }
    }
  }
  return {
    offset: m.seq - 1,
    data: m.data,
    timestamp: storedMs(m),
    key,
    headers,
  };
}
