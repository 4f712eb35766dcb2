/**
 * Dead letters: a record whose handler kept answering 'retry' up to maxAttempts is appended to a
 * sibling log (an ordinary reactive-log directory the user can open like any other) and fsynced there
 * before the consumer moves past it. Each dead letter is `[u32 header length][JSON header][original bytes]`,
 * with the original's key and headers as its own; `decodeDeadLetter` reads one back.
 */
import { createHash } from 'node:crypto';
import { types } from 'node:util';
import { channels, publish, type DeadLetterEvent } from '../events.js';
import { ErrorCode, LogError } from '../errors.js';
import { splitHeaders } from '../format/header-fit.js';
import { SyncPolicy } from '../producer/options.js';
import { Producer } from '../producer/producer.js';
import { besideItsLog } from '../storage/log-dir.js';
import type { DeadLetter, Message } from '../types.js';
import { describe } from '../validate.js';
import { errorText } from './handler-policy.js';

/** The longest last error kept in a dead letter's header (longer ones are cut, marked with an ellipsis). */
const MAX_ERROR_CHARS = 64 * 1024;
/** The dead-letter log's ring: the default, or the smallest power of two that holds the largest dead letter so far. */
const MIN_RING_BYTES = 32 * 1024 * 1024;
const MAX_RING_BYTES = 1024 * 1024 * 1024;
/**
 * How many of the newest dead letters a transactional cursor's dead-letter log remembers by their
 * record (the producer's dedupWindow): a dead letter written again after a crash between its fsync and
 * the cursor's commit is found among them and not written twice.
 */
export const DEAD_LETTER_DEDUP_RECORDS = 65_536;

/** A dead letter's JSON header (docs/consumers.md, "The dead-letter log"). */
function deadLetterHeader(d: Omit<DeadLetter, 'data'>): Buffer {
  const lastError = d.lastError !== null && d.lastError.length > MAX_ERROR_CHARS ? `${cutAt(d.lastError, MAX_ERROR_CHARS)}…` : d.lastError;
  const fields = { logId: d.logId, offset: d.offset, timestamp: d.timestamp, attempts: d.attempts, lastError };
  return Buffer.from(JSON.stringify(d.extraHeaders === null ? fields : { ...fields, extraHeaders: d.extraHeaders }));
}

/** The first `units` UTF-16 units of `s`, one fewer when the cut would split a surrogate pair (its high half would be left alone). */
function cutAt(s: string, units: number): string {
  const last = s.charCodeAt(units - 1);
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? units - 1 : units);
}

/** `[u32 header length][header][data]`. */
function encodeDeadLetter(header: Buffer, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + header.byteLength + data.byteLength);
  out.writeUInt32LE(header.byteLength, 0);
  header.copy(out, 4);
  out.set(data, 4 + header.byteLength);
  return out;
}

/** The attribute block of a dead letter with these options (docs/format.md, "Records"): its key, headers and dedup key all count against maxRecordBytes. */
function attributeBytes(opts: { key?: Uint8Array; headers?: Readonly<Record<string, string>>; dedupKey?: string }): number {
  const { key, dedupKey } = opts;
  // No header (all of them in extraHeaders) writes no headers part.
  const headers = opts.headers === undefined || Object.keys(opts.headers).length === 0 ? undefined : opts.headers;
  if (key === undefined && headers === undefined && dedupKey === undefined) return 0;
  let n = 1;
  if (key !== undefined) n += 2 + key.byteLength;
  if (headers !== undefined) {
    n += 1;
    for (const [name, value] of Object.entries(headers)) n += 3 + Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  if (dedupKey !== undefined) n += 2 + Buffer.byteLength(dedupKey);
  return n;
}

/**
 * Decodes a record of a dead-letter log (its `data`).
 *
 * @throws {@link LogError} `ERR_INVALID_OPTION` when `data` is not a dead letter.
 *
 * @example
 * ```ts
 * const dead = await Consumer.open({ logDir: './data/orders.dead-letter.client.billing', style: ConsumerStyle.nonTx(Whence.oldest()) });
 * for (const msg of dead.iter()) {
 *   const d = decodeDeadLetter(msg.data);
 *   console.log(d.offset, d.attempts, d.lastError);
 * }
 * ```
 */
export function decodeDeadLetter(data: Uint8Array): DeadLetter {
  if (!types.isUint8Array(data)) throw LogError.invalidOption('data', `expected a Uint8Array or Buffer, got ${describe(data)}`);
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const len = b.byteLength >= 4 ? b.readUInt32LE(0) : -1;
  if (len < 0 || 4 + len > b.byteLength) throw LogError.invalidOption('data', 'not a dead letter');
  let h: unknown;
  try {
    h = JSON.parse(b.subarray(4, 4 + len).toString('utf8'));
  } catch {
    throw LogError.invalidOption('data', 'not a dead letter');
  }
  // JSON that is not a dead letter's header (a record that happens to start with a small length word).
  if (!isHeader(h)) throw LogError.invalidOption('data', 'not a dead letter (its header lacks a field or has one of the wrong type)');
  const extraHeaders = h.extraHeaders === undefined ? null : h.extraHeaders;
  return { logId: h.logId, offset: h.offset, timestamp: h.timestamp, attempts: h.attempts, lastError: h.lastError, extraHeaders, data: b.subarray(4 + len) };
}

/** Whether `h` has the fields of a dead letter's header, each of its type. */
function isHeader(h: unknown): h is Omit<DeadLetter, 'data' | 'extraHeaders'> & { extraHeaders?: Record<string, string> } {
  if (typeof h !== 'object' || h === null || Array.isArray(h)) return false;
  const r = h as Record<string, unknown>;
  const extra = r.extraHeaders;
  if (extra !== undefined && (typeof extra !== 'object' || extra === null || Array.isArray(extra) || Object.values(extra).some((v) => typeof v !== 'string'))) return false;
  return typeof r.logId === 'string' && Number.isSafeInteger(r.offset) && (r.offset as number) >= 0
    && typeof r.timestamp === 'number' && Number.isSafeInteger(r.attempts) && (r.attempts as number) >= 1
    && (r.lastError === null || typeof r.lastError === 'string');
}

/**
 * Which record a dead letter is of, within its scope: its offset, timestamp and a digest of its bytes,
 * and of its key and headers when it has any. A record delivered again (a crash before the commit, a
 * reset cursor) is the same record read again: the same inputs. A log directory deleted and made again
 * at its path starts its offsets over, and a repair hands the cut offsets out again: the record at an
 * offset was appended later than the old one (another timestamp), or holds other bytes, key or
 * headers. A wall clock stepped back keeps the writer stamping its newest frame's time, so records
 * appended after a repair meanwhile take the cut records' timestamps too, and records whose data says
 * little (a tombstone, an event whose type is a header) then differ by their key or headers alone.
 * The record tells them apart, not the directory: a stat's birth time is 0 on file systems that keep
 * none (and the inode of a deleted directory is soon reused), and where statx is missing Node reports
 * the change time, which moves with every file made in the log directory. A record without key and
 * headers keeps the key it had before they were digested (its dead letter written then is still found).
 */
function recordKey(msg: Message): string {
  const digest = createHash('sha256').update(msg.data).digest('hex').slice(0, 16);
  const base = `${msg.offset}:${msg.timestamp}:${digest}`;
  const headers = msg.headers === null ? [] : Object.entries(msg.headers);
  if (msg.key === null && headers.length === 0) return base;
  // A fourth part, so that no record without key and headers has this key, whatever its data.
  const attrs = JSON.stringify([msg.key === null ? null : Buffer.from(msg.key.buffer, msg.key.byteOffset, msg.key.byteLength).toString('base64'), headers]);
  return `${base}:${createHash('sha256').update(attrs).digest('hex').slice(0, 16)}`;
}

/**
 * A consumer's dead-letter log: constructing it touches nothing; its producer opens when the first
 * dead letter comes. A dead letter is the record plus a header, so it can be larger than any record
 * the source log's producer accepts: the producer's ring is sized for the largest dead letter so far
 * (opened again with a larger one when a larger dead letter comes), up to the largest ring.
 */
export class DeadLetterSink {
  private producer: Producer | null = null;
  /** The largest record the open producer takes. */
  private maxRecordBytes = 0;

  /**
   * `cursorName`: the transactional cursor whose records these are, or null (nonTx: nothing is
   * remembered across runs, so a record may be dead-lettered by each run that reads it). `incarnation`:
   * which log of the id this is when the id can name several over time (LogSource.incarnation), or null.
   */
  /** `besideLog`: `dir` is the default place beside the log (made even where the log lies inside another log: besideItsLog). */
  constructor(private readonly dir: string, private readonly logId: string, cursorName: string | null, incarnation: string | null = null,
    private readonly besideLog = false) {
    // The dedup key of a dead letter: its record (recordKey) in one scope (source log and cursor), so
    // two cursors or logs dead-lettering into one directory keep each their own letters. Hashed, as a
    // log's id is a path of up to PATH_MAX bytes and a dedup key takes at most 1,024. A stream deleted
    // and created again under its name starts its offsets over: its creation time is in the scope, so
    // a record of the new stream is not a dedup hit on the old stream's dead letter at that offset
    // (which would complete the record with no dead letter of its own).
    const scope = incarnation === null ? `${logId}\n${cursorName}` : `${logId}\n${cursorName}\n${incarnation}`;
    this.scope = cursorName === null ? null : createHash('sha256').update(scope).digest('hex').slice(0, 32);
  }

  /** The dedup key's prefix (see the constructor), or null: no dedup window. */
  private readonly scope: string | null;
  /**
   * Offsets whose put() failed (a flush that rejected may come after the dead letter reached the file):
   * their next dead letter may be a dedup hit on it, and is published all the same, as none was.
   */
  private readonly unpublished = new Set<number>();

  /** Appends and fsyncs the dead letter; resolves once it is durable. */
  async put(msg: Message, attempts: number, lastError: unknown): Promise<void> {
    const err = errorText(lastError);
    const split = msg.headers === null ? null : splitHeaders(msg.headers);
    const extraHeaders = split?.extra ?? null;
    const header = deadLetterHeader({ logId: this.logId, offset: msg.offset, timestamp: msg.timestamp, attempts, lastError: err, extraHeaders });
    // The record's key and headers stay the dead letter's own, so a reader of the dead-letter log
    // sees them on the message as it would on the original (those the local format cannot carry
    // are in the dead letter's header instead: splitHeaders).
    const opts = {
      ...(msg.key === null ? {} : { key: msg.key }),
      ...(split === null ? {} : { headers: split.own }),
      ...(this.scope === null ? {} : { dedupKey: `${this.scope}:${recordKey(msg)}` }),
    };
    const payload = 4 + header.byteLength + msg.data.byteLength + attributeBytes(opts);
    // A record within a few hundred bytes of the largest a local log takes has a dead letter no
    // dead-letter log takes: refused before anything is copied or opened, naming the source record.
    if (payload > MAX_RING_BYTES - 16) {
      throw new LogError(ErrorCode.RECORD_TOO_LARGE, `the dead letter of record ${msg.offset} of ${this.logId} is ${payload} bytes (its ${msg.data.byteLength} data bytes with its key, `
        + `headers and the dead letter's header), past the largest record a dead-letter log takes (${MAX_RING_BYTES - 16} bytes): the record is not completed`);
    }
    const bytes = encodeDeadLetter(header, msg.data);
    if (this.producer !== null && payload > this.maxRecordBytes) await this.close();
    const producer = this.producer ??= await this.open(payload);
    let repeat: boolean;
    try {
      // A dedup hit returns the offset of the dead letter written before (durable: recovery fsyncs
      // what it keeps, and flush() covers the rest) and appends nothing.
      const next = producer.nextOffset;
      repeat = producer.append(bytes, opts) < next;
      await producer.flush();
    } catch (e) {
      // A producer whose writer failed takes nothing more: it is let go, and the next dead letter
      // opens the log again (its recovery keeps what is durable), instead of failing for good.
      if (this.producer === producer) this.producer = null;
      this.unpublished.add(msg.offset);
      await producer.destroy().catch(() => undefined);
      throw e;
    }
    if (repeat && !this.unpublished.has(msg.offset)) return;
    this.unpublished.delete(msg.offset);
    publish(channels.deadLetter, (): DeadLetterEvent => ({ logDir: this.logId, deadLetterDir: this.dir, offset: msg.offset, attempts, lastError: err }));
  }

  /** Opens the dead-letter log's producer with a ring that holds a dead letter of `bytes`. */
  private async open(bytes: number): Promise<Producer> {
    let ringBytes = MIN_RING_BYTES;
    while (ringBytes - 16 < bytes && ringBytes < MAX_RING_BYTES) ringBytes *= 2;
    try {
      const options = {
        logDir: this.dir, syncPolicy: SyncPolicy.always(), maxTotalBytes: null, ringBytes, maxRecordBytes: ringBytes - 16,
        ...(this.scope === null ? {} : { dedupWindow: { records: DEAD_LETTER_DEDUP_RECORDS } }),
      };
      if (this.besideLog) besideItsLog.add(options);
      const p = await Producer.open(options);
      this.maxRecordBytes = ringBytes - 16;
      return p;
    } catch (e) {
      if (e instanceof LogError && e.code === ErrorCode.LOG_LOCKED) {
        throw new LogError(ErrorCode.LOG_LOCKED, `the dead-letter log ${this.dir} is held by another producer: give each consumer its own retry.deadLetterDir`, e.details, { cause: e });
      }
      // A file, or somebody else's directory: named as the option the user gave.
      if (e instanceof LogError && e.code === ErrorCode.INVALID_OPTION && e.details.option === 'logDir') {
        throw LogError.invalidOption('retry.deadLetterDir', e.message.replace('invalid option "logDir": ', ''), { cause: e });
      }
      throw e;
    }
  }

  /** Closes the dead-letter log's producer (drain, fsync), if it was opened. */
  async close(): Promise<void> {
    const p = this.producer;
    this.producer = null;
    await p?.close();
  }

  /** Stops the dead-letter log's producer without draining (Consumer.destroy). */
  async destroy(): Promise<void> {
    const p = this.producer;
    this.producer = null;
    await p?.destroy();
  }
}
