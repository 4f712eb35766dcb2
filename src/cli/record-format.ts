/**
 * How commands print records. Bytes are printed as UTF-8 text when they are valid UTF-8, else as
 * base64. Text lines (one per record): `<offset> <ISO time> <data>`, where data that is not valid
 * UTF-8, or holds control characters other than tab, is printed as `base64:<base64>`, and a timestamp
 * no Date can hold (NaN, or a stored field out of range) as `invalid(<ms>)`. With --json,
 * one JSON object per line (NDJSON): offset, timestamp (ms), time (ISO, null for such a timestamp), key, keyEncoding, headers,
 * data, dataEncoding ('utf8' or 'base64'; key and keyEncoding are null without a key), every
 * control character (C0, DEL, C1) and U+2028/U+2029 written as a \u escape.
 */
import { isDateMs } from '../admin/frame-walk.js';
import { printableOutput } from '../printable.js';
import type { Message } from '../types.js';

/** The record's time in ISO 8601; null for a timestamp no Date can hold (toISOString would throw). */
function isoTime(ms: number): string | null {
  return isDateMs(ms) ? new Date(ms).toISOString() : null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes as text and how they are encoded. */
export function encodeBytes(b: Uint8Array): { text: string; encoding: 'utf8' | 'base64' } {
  try {
    return { text: utf8.decode(b), encoding: 'utf8' };
  } catch {
    return { text: Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64'), encoding: 'base64' };
  }
}

/** A record as a JSON object (one NDJSON line, without the newline); every control character is escaped. */
export function recordJson(m: Message): string {
  const data = encodeBytes(m.data);
  const key = m.key === null ? null : encodeBytes(m.key);
  return printableOutput(JSON.stringify({
    offset: m.offset,
    timestamp: m.timestamp,
    time: isoTime(m.timestamp),
    key: key?.text ?? null,
    keyEncoding: key?.encoding ?? null,
    headers: m.headers,
    data: data.text,
    dataEncoding: data.encoding,
  })); // what JSON.stringify leaves raw (DEL, C1, U+2028/2029) stands only inside strings, where the escape means the same
}

// C0 and C1 controls but the tab, and the Unicode line and paragraph separators: each would break the
// line or drive the terminal.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/;

/** A record as one text line (without the newline). */
export function recordText(m: Message): string {
  const data = encodeBytes(m.data);
  // Text that itself begins with the marker is encoded too: else it would print as binary data does.
  const plain = data.encoding === 'utf8' && !CONTROL.test(data.text) && !data.text.startsWith('base64:');
  const shown = plain ? data.text : `base64:${Buffer.from(m.data).toString('base64')}`;
  return `${m.offset} ${isoTime(m.timestamp) ?? `invalid(${m.timestamp})`} ${shown}`;
}

/** A record as printed with or without --json, newline included. */
export function recordLine(m: Message, json: boolean): string {
  return `${json ? recordJson(m) : recordText(m)}\n`;
}
