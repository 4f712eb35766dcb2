/**
 * Which of a record's headers a local record carries. A record read from a JetStream stream may hold
 * headers another NATS client published: any number of them, names of any length. The local record
 * format (record.ts) takes at most MAX_HEADERS, names of 1 to MAX_HEADER_NAME_BYTES UTF-8 bytes,
 * values of up to MAX_HEADER_VALUE_BYTES.
 */
import { MAX_HEADERS, MAX_HEADER_NAME_BYTES, MAX_HEADER_VALUE_BYTES } from './record.js';
import { setOwn } from './record-decode.js';

/**
 * `headers` split into those a local record carries (the first MAX_HEADERS that fit, in their
 * order) and the others, or null for the others when it carries them all.
 */
export function splitHeaders(headers: Readonly<Record<string, string>>): { own: Record<string, string>; extra: Record<string, string> | null } {
  const own: Record<string, string> = {};
  let extra: Record<string, string> | null = null;
  let count = 0;
  for (const [name, value] of Object.entries(headers)) {
    const fits = count < MAX_HEADERS && fitsOne(name, value);
    if (fits) count++;
    setOwn(fits ? own : (extra ??= {}), name, value);
  }
  return { own, extra };
}

/** Whether a local record carries all of `headers` (splitHeaders would leave no others), without copying them. */
export function carriesAll(headers: Readonly<Record<string, string>>): boolean {
  let count = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (++count > MAX_HEADERS || !fitsOne(name, value)) return false;
  }
  return true;
}

/** Whether one header's name and value fit a local record's limits. */
function fitsOne(name: string, value: string): boolean {
  return name.length > 0 && name.isWellFormed() && value.isWellFormed()
    && Buffer.byteLength(name) <= MAX_HEADER_NAME_BYTES && Buffer.byteLength(value) <= MAX_HEADER_VALUE_BYTES;
}
