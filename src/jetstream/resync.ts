/**
 * The producer's resync after a failed publish (src/jetstream/producer.ts). A publish that fails
 * leaves the records in flight in doubt: stored or not, the client cannot tell (a leader change, a
 * lost connection, an acknowledgement that timed out). The stream can: its last sequence says how
 * far the log goes, and each record carries the token of the producer holding that published it
 * (the `Rl-Writer` header). The records from the last acknowledged one up to the stream's end are
 * read back: when each carries this producer's token they count as acknowledged and publishing goes
 * on from there, fenced as before; a record of another holding (a stale producer whose publish
 * landed late, a producer that took over) stops this one with ERR_LOG_LOCKED.
 */
import { ErrorCode, LogError } from '../errors.js';
import { nats } from './nats.js';
import { WRITER_HEADER } from './record-codec.js';
import { lastTryBeforeBound } from './ride.js';
import type { Session } from './session.js';
import { scan, storedFrom } from './tail-scan.js';

export { WRITER_HEADER };
/** Between two reads of a stream that does not answer (a leader election takes seconds). */
const RETRY_MS = 250;
/** Errors after which the stream may answer again: worth a resync. Any other publish error is final. */
const TRANSIENT = /timeout|no responders|503|disconnect|reconnect|connection|wrong last sequence|jetstream is not enabled|temporarily unavailable|leader/i;

/** Whether a failed publish may succeed again (see TRANSIENT). */
export function transientPublishError(e: unknown): boolean {
  return TRANSIENT.test((e as Error)?.message ?? String(e));
}

/** What a resync needs of its producer. */
export interface ResyncRequest {
  readonly acked: number;
  readonly next: number;
  /** This holding's token: records carrying it are this producer's. */
  readonly token: string;
  readonly failedOffset: number;
  readonly cause: unknown;
  /**
   * No request starts after this (ms, on performance.now(): a wall clock stepped does not move it),
   * but one: a try sent in the timeoutMs before it (the publish, a read) and failing is followed by one more.
   */
  readonly deadline: number;
  /** When the failed publish was sent (performance.now()); unknown: none sent before the deadline counts. */
  readonly sentAt?: number;
  /** The offset of a record the stream refused (store-refusal.ts), when the resync confirms the records before it. */
  readonly refused?: number;
  /** True once the producer failed or was destroyed: the resync ends at once. */
  done(): boolean;
  /** Whether the lease is still this producer's, read from the leases bucket's leader (lease.ts). */
  stillHeld(): Promise<boolean>;
}

/**
 * Returns the offset the log ends at, every record from `acked` to it stored and this producer's.
 * @throws {@link LogError} `ERR_LOG_LOCKED` when a record there is another producer's, or the stream
 *   ends past this producer's last; `ERR_IO` when the stream does not answer by the deadline, is
 *   gone, or ends before records it acknowledged.
 */
export async function resync(session: Session, q: ResyncRequest): Promise<number> {
  const { stream } = session.options;
  const what = `publishing record ${q.failedOffset} to stream ${stream} failed (${(q.cause as Error)?.message ?? String(q.cause)})`;
  const locked = (why: string): LogError => new LogError(ErrorCode.LOG_LOCKED, `${what}, and ${why}`, { offset: q.failedOffset }, { cause: q.cause });
  let sentAt = q.sentAt ?? Infinity; // when the try that failed last was sent
  for (;;) {
    if (q.done()) throw LogError.closed('producer');
    const now = performance.now();
    // A try ends at the deadline; one sent in the deadline's last timeoutMs may have been lost just before the stream answered again: one more, of its own timeoutMs (ride.ts).
    const until = now > q.deadline ? now + session.options.timeoutMs : q.deadline;
    if (now > q.deadline && !lastTryBeforeBound(sentAt, q.deadline, session.options.timeoutMs)) {
      throw new LogError(ErrorCode.IO, `${what}, and no publish was acknowledged by the deadline (2 x timeoutMs after the first failure): records from offset ${q.acked} on may or may not be stored`, { offset: q.failedOffset }, { cause: q.cause });
    }
    let endOffset: number;
    let foreign: number | null = null;
    sentAt = now;
    const read = { refusedSeen: false };
    try {
      endOffset = (await byDeadline(session.bounds(), until)).endOffset;
      if (endOffset > q.acked && endOffset <= q.next) foreign = await firstForeign(session, q, endOffset, until, read);
      // The refused record is not stored though the stream ends past it: the server stored it and
      // removed it again (an account's limit, 10002), its sequence left used. Never stored: it is where
      // the producer stops, not a record the stream's limits removed after it landed.
      const { refused } = q;
      if (refused !== undefined && refused >= q.acked && refused < endOffset && endOffset <= q.next && !read.refusedSeen && (foreign === null || foreign === GONE || foreign > refused)) return refused;
      // Records the stream removed since (its limits, a purge) cannot be read back: they are this
      // producer's while nobody took its lease over (only the lease's holder publishes).
      if (foreign === GONE) foreign = (await q.stillHeld()) ? null : q.acked;
    } catch (e) {
      // The stream not answering yet (an election, a reconnect): read again, by the deadline.
      if (/stream not found|connection closed/i.test((e as Error)?.message ?? '')) {
        throw new LogError(ErrorCode.IO, `${what}, and reading the stream failed: ${(e as Error).message}; records from offset ${q.acked} on may or may not be stored`, { offset: q.failedOffset }, { cause: e });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(RETRY_MS, q.deadline - performance.now()))));
      continue;
    }
    if (endOffset > q.next) throw locked(`the stream holds records up to offset ${endOffset - 1}, past this producer's last (${q.next - 1}): another producer appended`);
    if (endOffset < q.acked) {
      throw new LogError(ErrorCode.IO, `${what}, and the stream ends at offset ${endOffset}, below the ${q.acked} records it acknowledged: the engine lost acknowledged records`, { offset: q.failedOffset }, { cause: q.cause });
    }
    if (foreign !== null) throw locked(`the record at offset ${foreign} is another producer's (one whose lease expired, or that took it over), or was removed from the stream after another producer took the lease`);
    return endOffset;
  }
}

/** `p`, or a timeout at `until` (performance.now()): a read sent before the deadline ends there. */
function byDeadline<T>(p: Promise<T>, until: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout: the resync\'s deadline passed while it read the stream\'s end')), Math.max(0, until - performance.now()));
    p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e); });
  });
}

/** What firstForeign returns when no record there is another's, but some were removed from the stream. */
const GONE = -1;

/**
 * The first offset from `acked` below `end` whose record does not carry this producer's token; else
 * GONE when some are no longer stored, else null. One read of the range (an ordered consumer from the
 * first record in doubt, tail-scan.ts), not a request per record: up to MAX_IN_FLIGHT records in
 * doubt on a slow link took that many round trips, past the deadline. Past the deadline (checked at
 * each record) or once the producer is done, it throws and the resync's loop says why.
 */
async function firstForeign(session: Session, q: ResyncRequest, end: number, until: number, read: { refusedSeen: boolean }): Promise<number | null> {
  let expected = q.acked; // the offset of the next record the range holds, when none was removed
  let foreign: number | null = null;
  let gone = false;
  const start = { deliver_policy: nats().jetstream.DeliverPolicy.StartSequence, opt_start_seq: q.acked + 1 };
  await scan(session, start, end, (m) => {
    if (q.done()) throw LogError.closed('producer');
    if (performance.now() > until) throw new Error('timeout: the resync\'s deadline passed while it read the records in doubt');
    const offset = m.seq - 1;
    if (offset >= end) return false; // appended since the bounds were read: the next round reads them
    if (offset > expected) gone = true;
    if (offset === q.refused) read.refusedSeen = true;
    expected = offset + 1;
    if (m.headers?.get(WRITER_HEADER) !== q.token) {
      foreign = offset;
      return false;
    }
    return true;
  }, until);
  if (foreign !== null) return foreign;
  if (expected < end && await storedFrom(session, expected, end)) {
    // The read ended before records still stored (its fetch got no answer in time): unread, they are not counted.
    throw new Error(`timeout: the records in doubt from offset ${expected} on were not read back`);
  }
  return gone || expected < end ? GONE : null;
}
