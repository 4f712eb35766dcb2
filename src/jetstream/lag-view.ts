/**
 * `consumer.lag()` on JetStream. lag() is synchronous, and the stream's state is a request away, so a
 * consumer keeps a view of it: the stream's first and last sequence, its bytes and message count, and
 * the timestamps of its first and last message (one STREAM.INFO), plus the timestamp of the record at
 * the consumer's position (from the pull's buffer when the record is there, else one STREAM.MSG.GET):
 * the position lag() was last asked about (during a worker-pool call, the first record the pool has not
 * finished), or the reader's before lag() is asked.
 *
 * How fresh it is: read at the open; refreshed every LAG_REFRESH_MS while the consumer is open (one
 * request at a time; a refresh that fails keeps the last figures); and moved forward by each record
 * the pull delivers (its sequence plus the messages the server says are pending after it is the
 * stream's end; one with none pending is the newest, and its timestamp the newest one). So the end is
 * at most LAG_REFRESH_MS (plus a round trip) behind the stream's; the position is always the
 * consumer's own.
 *
 * The figures (docs/jetstream.md says the same):
 * - records: the stream's end (last sequence) minus the position (or the stream's first record, when
 *   the position lies below it), plus the records below the stream's first one that the consumer
 *   still holds from the position on (delivered before a purge: they are still handed out);
 * - bytes: those records' share of the stream's stored bytes (the server's count, its per-message
 *   overhead included): records x bytes / span, the span being the sequences from the stream's first
 *   stored message to its last (messages deleted from its middle included, as in records). Exact when
 *   the whole stream is behind, an estimate from the mean size otherwise (the server keeps no
 *   per-range byte count);
 * - ms: the newest record's timestamp minus the timestamp of the record at the position. Until a
 *   refresh has read that record's timestamp, the timestamp of the nearest record before it that the
 *   view knows stands in (ms then reads at most that much high). The view keeps the timestamp of one
 *   record in TRAIL_EVERY the pull delivers (the trail): a record at the position that a purge
 *   removed, still held by the reader or a worker-pool call, cannot be read from the stream, and
 *   without it no record at or before the position was known (ms read 0 with records pending).
 */
import type { StreamState } from '@nats-io/jetstream';
import type { CursorLag, Message } from '../types.js';
import type { Session } from './session.js';

/** How often the view of the stream is refreshed while the consumer is open, ms. */
export const LAG_REFRESH_MS = 1000;

/** The trail keeps the timestamp of one delivered record in this many offsets, and at most TRAIL_MAX of them (beyond a pool call's read-ahead). */
const TRAIL_EVERY = 64;
const TRAIL_MAX = 2048;

/** What the view reads of the consumer's reader (the JsReader: its buffer and position). */
export interface BufferedReader {
  readonly nextOffset: number;
  readonly buffer: readonly Message[];
  readonly head: number;
}

/** A timestamp known for one offset. */
interface Stamp {
  readonly offset: number;
  readonly ms: number;
}

/** A stream state's ISO timestamp in ms; 0 when there is none. */
export function timeOf(iso: string | undefined): number {
  const t = iso === undefined ? NaN : Date.parse(iso);
  return Number.isFinite(t) ? t : 0;
}

/**
 * The share of a stream's `bytes` that `records` of its sequences hold: see the module comment. Over
 * the span of its sequences, not its message count: records count the messages deleted from the
 * middle, so over the count the whole stream behind would read more bytes than it stores.
 */
export function shareOfBytes(records: number, s: Pick<StreamState, 'bytes' | 'messages' | 'first_seq' | 'last_seq'>): number {
  const span = s.messages === 0 ? 0 : s.last_seq - s.first_seq + 1;
  return span > 0 ? Math.round(records * (s.bytes / span)) : 0;
}

export class StreamLag {
  private start: number;
  private end: number;
  /** The stream's state as last read (bytes, messages, first and last sequence). */
  private state: StreamState;
  private first: Stamp | null = null;
  private last: Stamp | null = null;
  /** The timestamp of a record the pull's buffer no longer (or not yet) holds, read by a refresh. */
  private at: Stamp | null = null;
  /**
   * The position lag() was last asked about: a refresh reads the timestamp there. During a worker-pool
   * call that is the first record the pool has not finished, which lies behind the reader (its feeder
   * reads ahead), so the reader's offset would not do.
   */
  private asked: number | null = null;
  /** Timestamps of delivered records, one in TRAIL_EVERY offsets, in offset order (see the module comment). */
  private readonly trail: Stamp[] = [];
  private refreshing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly session: Session, private readonly reader: BufferedReader, state: StreamState) {
    this.start = this.end = 0;
    this.state = state;
    this.take(state);
    this.timer = setInterval(() => void this.refresh(), LAG_REFRESH_MS);
    this.timer.unref();
  }

  /** The stream's end as the view knows it: its last sequence, read or moved on by the pull's records. */
  get endOffset(): number {
    return this.end;
  }

  /** How far `nextOffset` is behind the stream's end (at least `endOffset`): see the module comment. */
  lag(nextOffset: number, endOffset: number): CursorLag {
    const end = Math.max(endOffset, this.end);
    const from = Math.max(nextOffset, this.start);
    // Records below the stream's start that the consumer still holds (delivered before a purge) are still handed out.
    const held = this.heldBelowStart(nextOffset);
    this.asked = from;
    if (from >= end && held === 0) return { records: 0, bytes: 0, ms: 0 }; // a new object: the caller's own to change
    const records = Math.max(0, end - from) + held;
    const bytes = shareOfBytes(records, this.state);
    const ms = this.last === null ? 0 : Math.max(0, this.last.ms - this.stampBefore(held > 0 ? nextOffset : from));
    return { records, bytes, ms };
  }

  /**
   * How many records from `position` on, below the stream's start, the consumer still holds: the
   * reader's buffer and, during a worker-pool call, the records the pool read past its position. They
   * run without a gap from the position to the reader's buffered end (the pull delivers in order).
   */
  private heldBelowStart(position: number): number {
    if (position >= this.start || position > this.reader.nextOffset) return 0;
    const heldEnd = this.reader.nextOffset + this.reader.buffer.length - this.reader.head;
    return Math.max(0, Math.min(heldEnd, this.start) - position);
  }

  /** A record the pull delivered, with `pending` more after it in the stream. */
  arrived(m: Message, pending: number): void {
    this.addToTrail(m);
    if (pending < 0) return; // unknown
    const end = m.offset + 1 + pending;
    if (end > this.end) this.end = end;
    if (pending === 0 && m.offset >= (this.last?.offset ?? -1)) this.last = { offset: m.offset, ms: m.timestamp };
  }

  /**
   * Reads the stream's state, and the timestamp of the record at the position when the view does not
   * know it (only that with `stateToo` false); one at a time. Never rejects: a failed refresh keeps the
   * last figures.
   */
  refresh(stateToo = true): Promise<void> {
    this.refreshing ??= this.read(stateToo).catch(() => undefined).finally(() => { this.refreshing = null; });
    return this.refreshing;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async read(stateToo: boolean): Promise<void> {
    if (stateToo) this.take((await this.session.streamInfo()).state);
    const from = Math.max(this.asked ?? this.reader.nextOffset, this.start);
    if (from >= this.end || this.stampBefore(from, true) !== null) return;
    const { stream } = this.session.options;
    const m = await this.session.jsm.streams.getMessage(stream, { seq: from + 1 });
    if (m !== null) this.at = { offset: from, ms: m.time.getTime() };
  }

  private take(s: StreamState): void {
    this.start = s.messages === 0 ? s.last_seq : s.first_seq - 1;
    this.state = s;
    if (s.messages > 0) this.first = { offset: s.first_seq - 1, ms: timeOf(s.first_ts) };
    if (s.last_seq >= this.end) {
      this.end = s.last_seq;
      if (s.messages > 0) this.last = { offset: s.last_seq - 1, ms: timeOf(s.last_ts) };
    }
  }

  /** Keeps `m`'s timestamp when it lies TRAIL_EVERY offsets past the trail's last (a pull read again from further back: from there on). */
  private addToTrail(m: Message): void {
    const { trail } = this;
    while (trail.length > 0 && trail[trail.length - 1]!.offset > m.offset) trail.pop();
    const lastKept = trail[trail.length - 1];
    if (lastKept !== undefined && m.offset < lastKept.offset + TRAIL_EVERY) return;
    trail.push({ offset: m.offset, ms: m.timestamp });
    if (trail.length > TRAIL_MAX) trail.shift();
  }

  /** The trail's nearest stamp at or before `offset`, else null. */
  private trailBefore(offset: number): Stamp | null {
    const { trail } = this;
    let lo = 0, hi = trail.length; // the first entry past `offset` is at lo once the search ends
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (trail[mid]!.offset <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? trail[lo - 1]! : null;
  }

  /**
   * The timestamp of the record at `offset` when the view knows it (exact: null otherwise), else that
   * of the nearest record before it the view knows.
   */
  private stampBefore(offset: number, exact: true): number | null;
  private stampBefore(offset: number): number;
  private stampBefore(offset: number, exact = false): number | null {
    const { buffer, head } = this.reader;
    const known: Array<Stamp | null | undefined> = [
      this.first, this.last, this.at, this.trailBefore(offset),
      buffer[head] === undefined ? null : { offset: buffer[head].offset, ms: buffer[head].timestamp },
      head > 0 && buffer[head - 1] !== undefined ? { offset: buffer[head - 1]!.offset, ms: buffer[head - 1]!.timestamp } : null,
    ];
    let best: Stamp | null = null;
    for (const s of known) if (s != null && s.offset <= offset && (best === null || s.offset > best.offset)) best = s;
    if (exact) return best !== null && best.offset === offset ? best.ms : null;
    return best?.ms ?? this.last?.ms ?? 0;
  }
}
