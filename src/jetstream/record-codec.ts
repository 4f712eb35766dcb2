/**
 * A record as a NATS message: the data is the payload; the key travels in the `Rl-Key` header
 * (base64), the user's headers as NATS headers of their own names, the dedup key as `Nats-Msg-Id`.
 * Header names starting with `Nats-` or `Rl-` are the engine's and the library's, refused in
 * append (ERR_INVALID_RECORD); so are names and values NATS headers cannot carry.
 */
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { JsMsg } from '@nats-io/jetstream';
import { ErrorCode, LogError } from '../errors.js';
import type { AppendOptions } from '../format/record.js';
import type { Message } from '../types.js';

export const KEY_HEADER = 'Rl-Key';
const RESERVED = /^(nats-|rl-)/i;
/** A NATS header name: printable ASCII without ':' or space. */
const HEADER_NAME = /^[!-9;-~]+$/;

function invalid(field: string, what: string): LogError {
  return new LogError(ErrorCode.INVALID_RECORD, `invalid record: "${field}" ${what}`, { option: field });
}

/** The NATS headers of a record (beside the fence, which the producer adds), or null without any. */
export function recordHeaders(opts: AppendOptions | undefined): MsgHdrs | null {
  if (opts === undefined) return null;
  const { key, headers } = opts;
  if (key === undefined && (headers === undefined || Object.keys(headers).length === 0)) return null;
  const h = natsHeaders();
  if (key !== undefined) h.set(KEY_HEADER, Buffer.from(typeof key === 'string' ? Buffer.from(key, 'utf8') : key).toString('base64'));
  if (headers !== undefined) {
    for (const name of Object.keys(headers)) {
      if (RESERVED.test(name)) throw invalid(`headers.${name}`, 'is a name the JetStream backend keeps for itself (Nats-*, Rl-*)');
      if (!HEADER_NAME.test(name)) throw invalid(`headers.${name}`, 'is not a NATS header name (printable ASCII without space or colon)');
      const v = headers[name]!;
      if (/[\r\n]/.test(v)) throw invalid(`headers.${name}`, 'holds a line break, which a NATS header cannot carry');
      h.set(name, v);
    }
  }
  return h;
}

/** The message a consumer hands out for a stored NATS message. */
export function toMessage(m: JsMsg): Message {
  let key: Uint8Array | null = null;
  let headers: Record<string, string> | null = null;
  const h = m.headers;
  if (h !== undefined) {
    for (const [name, values] of h) {
      if (name === KEY_HEADER) key = new Uint8Array(Buffer.from(values[0] ?? '', 'base64'));
      else if (!RESERVED.test(name)) (headers ??= {})[name] = values[0] ?? '';
    }
  }
  return {
    offset: m.seq - 1,
    data: m.data,
    timestamp: Math.floor(m.info.timestampNanos / 1e6),
    key,
    headers,
  };
}
