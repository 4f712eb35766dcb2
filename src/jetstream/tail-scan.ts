/**
 * Reads a bounded range of the stream once, with an ordered consumer: the dedup keys of the newest
 * records (the producer's dedup window, rebuilt at open, from their Nats-Msg-Id decoded as
 * record-codec.ts encodes it) and the first record at or after a time (Whence.timestamp).
 */
import type { Consumer, JsMsg, MsgRequest, OrderedConsumerOptions, StoredMsg } from '@nats-io/jetstream';
import type { DedupWindowOption } from '../producer/dedup-window.js';
import { getOrdered } from './ordered-get.js';
import { dedupKeyOf, storedMs } from './record-codec.js';
import type { Session } from './session.js';
import { nats } from './nats.js';

/** Messages per fetch of a scan. */
const SCAN_BATCH = 1000;
/** How long a fetch of a scan waits for messages the stream's bounds said exist. */
const SCAN_EXPIRES_MS = 1000;

/**
 * Calls `each` for the messages from `start` on, up to the one at offset endOffset - 1; stops early
 * when it returns false. With `until` (ms on performance.now()), a scan still reading then stops and
 * throws a timeout: while the server does not answer, nats.js's fetch asks again and again. With
 * `idleMs`, a bound that moves with progress: the scan stops so once no message came for that long
 * (a long range read over a slow link is no failure while records keep arriving). The
 * scan's consumer is deleted at the end (the server would keep it for its inactivity threshold,
 * minutes): under its current name too, when nats.js made it again under a new
 * one (an ordered consumer's reset after a gap in delivery); and when the get failed, the consumer it
 * may have made (ordered-get.ts). After a failure, the delete is sent and not waited for.
 */
export async function scan(session: Session, start: Partial<OrderedConsumerOptions>, endOffset: number, each: (m: JsMsg) => boolean, until = Infinity, idleMs = Infinity): Promise<void> {
  const { getting, deleteLost } = getOrdered(session, session.js, { ...start, filter_subjects: session.options.subject });
  const c = await getting.catch((e: unknown) => {
    void deleteLost().catch(() => false); // the consumer a failed get may have made (ordered-get.ts)
    throw e;
  });
  let ok = false;
  let late = false;
  let batch: { stop(): void } | null = null;
  let lastMessage = performance.now();
  const bound = (): number => Math.min(until, lastMessage + idleMs);
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    timer = setTimeout(() => {
      if (performance.now() < bound()) arm(); // messages came meanwhile: the bound moved on
      else { late = true; batch?.stop(); }
    }, Math.max(0, bound() - performance.now()));
  };
  if (Number.isFinite(bound())) arm();
  try {
    for (;;) {
      if (late) throw new Error('timeout: the scan did not end by its deadline');
      const fetched = await c.fetch({ max_messages: SCAN_BATCH, expires: SCAN_EXPIRES_MS });
      batch = fetched;
      if (late) fetched.stop();
      let got = 0;
      for await (const m of fetched) {
        got++;
        if (late) break;
        lastMessage = performance.now();
        if (!each(m) || m.seq >= endOffset) {
          fetched.stop();
          ok = true;
          return;
        }
      }
      if (late) throw new Error('timeout: the scan did not end by its deadline');
      if (got === 0) { // nothing more within the fetch's bound: the range ended early (a purge), or the server did not answer
        ok = true;
        return;
      }
    }
  } finally {
    clearTimeout(timer);
    // After a failure (the server may be away), the delete goes out without holding the error back.
    const deleting = deleteScanConsumer(session, c);
    if (ok) await deleting;
  }
}

/** Deletes a scan's consumer: the name of its last info, and its current name when nats.js renamed it. */
async function deleteScanConsumer(session: Session, c: Consumer): Promise<void> {
  const infoName = String((c as { _info?: { name?: unknown } })._info?.name);
  const name = String((c as { name?: unknown }).name);
  const names = name === infoName ? [infoName] : [infoName, name];
  await Promise.all(names.map((n) => session.jsm.consumers.delete(session.options.stream, n).catch(() => false)));
}

/** The dedup keys of the records within `window`, oldest first; `alive` is called at each record read (progress: ride.ts). */
export async function readTail(session: Session, window: DedupWindowOption, endOffset: number, alive: () => void = () => undefined): Promise<Array<{ key: string; offset: number; timeMs: number }>> {
  const { startOffset } = await session.bounds();
  if (endOffset <= startOffset) return [];
  const since = 'records' in window ? null : Date.now() - window.ms;
  const start: Partial<OrderedConsumerOptions> = since === null
    ? { deliver_policy: nats().jetstream.DeliverPolicy.StartSequence, opt_start_seq: Math.max(startOffset, endOffset - (window as { records: number }).records) + 1 }
    : { deliver_policy: nats().jetstream.DeliverPolicy.StartTime, opt_start_time: new Date(since).toISOString() };
  const out: Array<{ key: string; offset: number; timeMs: number }> = [];
  let next = start.opt_start_seq === undefined ? null : start.opt_start_seq - 1; // after the last record read (by time: none yet)
  await scan(session, start, endOffset, (m) => {
    alive();
    next = m.seq;
    const key = m.headers?.get('Nats-Msg-Id');
    if (key !== undefined && key !== '') out.push({ key: dedupKeyOf(key), offset: m.seq - 1, timeMs: storedMs(m) });
    return true;
  }, Infinity, session.options.timeoutMs); // a try of the open's step (ride.ts) ends once the server answers nothing for timeoutMs, not while records arrive (a large window over a slow link)
  // The read ended before records still stored (its fetches unanswered): their keys would be missing.
  const unread = next === null // by time, none read: the newest record would have been, were it in the window
    ? await session.jsm.streams.getMessage(session.options.stream, { seq: endOffset }).then((m) => m !== null && m.time.getTime() >= since!)
    : next < endOffset && await storedFrom(session, next, endOffset);
  if (unread) throw new Error(`timeout: the dedup keys from offset ${next ?? startOffset} on were not read`);
  return out;
}

/**
 * The times a scan asks the server for: from the epoch (every stored message is later) to the end of
 * year 9999 (the last a four-digit RFC 3339 year, which the server parses, can say), ms.
 */
const SCAN_TIME_MIN_MS = 0;
const SCAN_TIME_MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * The offset of the first record stored at or after `ms`, or `endOffset` when there is none. Any
 * finite `ms` is taken: a time before the epoch stands for the epoch, one past year 9999 for its end.
 * A record's timestamp is a whole ms (record-codec.ts), so a fractional `ms` stands for the next whole
 * one: the server would take a time with a fraction as its whole ms below (Date drops the fraction).
 */
export async function offsetAtTime(session: Session, atOrAfter: number, endOffset: number): Promise<number> {
  const ms = Math.ceil(atOrAfter);
  let found = endOffset;
  const { startOffset } = await session.bounds();
  if (endOffset <= startOffset) return endOffset;
  // A time after the newest record stored (the last sequences may be deleted): the answer without a
  // scan, which nats-server 2.9 answers from the stream's first message when none is at or after it.
  const newest = (): Promise<StoredMsg | null> => session.jsm.streams.getMessage(session.options.stream, { last_by_subj: session.options.subject });
  const last = await newest().catch(() => null);
  if (last !== null && last.time.getTime() < ms) return endOffset;
  // Bounded as an open's request is: a read the server does not answer ends (nats.js would ask again and again).
  const until = performance.now() + 2 * session.options.timeoutMs;
  await scan(session, { deliver_policy: nats().jetstream.DeliverPolicy.StartTime, opt_start_time: new Date(Math.min(Math.max(ms, SCAN_TIME_MIN_MS), SCAN_TIME_MAX_MS)).toISOString() }, endOffset, (m) => {
    if (storedMs(m) < ms) return true; // older: a server that started before the time; read on
    found = m.seq - 1;
    return false;
  }, until);
  // Nothing read though the newest record is that late: the read ended unanswered, unless that record is gone since.
  if (found === endOffset && last !== null && await newest().then((m) => m !== null && m.time.getTime() >= ms, () => true)) {
    throw new Error(`timeout: no record at or after ${ms} ms was read, though the newest is that late`);
  }
  return found;
}

/** Whether a record from offset `from` below `end` is stored (the stream's first message at or past it). */
export async function storedFrom(session: Session, from: number, end: number): Promise<boolean> {
  const { stream, subject } = session.options;
  // STREAM.MSG.GET takes next_by_subj with seq (the first message at or past seq); nats.js types it for direct gets only.
  const next = await session.jsm.streams.getMessage(stream, { seq: from + 1, next_by_subj: subject } as MsgRequest);
  return next !== null && next.seq - 1 < end;
}
