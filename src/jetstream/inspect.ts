/**
 * `inspectLog({ backend })` on JetStream: the stream's bounds and stored bytes, the producer's lease,
 * and each cursor of the cursors bucket with its lag and the holder of its lease. Reads the stream's
 * info, the two buckets' entries, and per cursor behind the end the stored message at its position
 * (its timestamp). Creates nothing (a missing stream is ERR_INVALID_OPTION, a missing bucket holds
 * nothing), takes no lease and writes nothing.
 *
 * A cursor's lag means what `consumer.lag()` means on this backend (lag-view.ts): records from the
 * cursor (or the stream's first record) to the stream's end, their share of the stream's stored
 * bytes, and the newest record's timestamp minus that of the record at the cursor.
 */
import type { StreamState } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { CursorSummary, LockHolder, LogInfo } from '../admin/inspect-types.js';
import { GLOBAL_CURSOR_ID } from '../admin/cursor-ids.js';
import type { CursorLag } from '../types.js';
import { decode, streamOf } from './cursor.js';
import { shareOfBytes, timeOf } from './lag-view.js';
import { PRODUCER_LEASE_KEY } from './lease.js';
import type { ResolvedJetStreamOptions } from './options.js';
import { asLogError, boundsOf, sameStream, Session } from './session.js';
import { nats } from './nats.js';

export async function inspectStream(o: ResolvedJetStreamOptions): Promise<LogInfo> {
  const session = await Session.open(o, false);
  try {
    const { state, created } = await session.streamInfo();
    const { startOffset, endOffset } = boundsOf(state);
    const leases = await bucket(session, `rl-${o.stream}-leases`);
    const cursorBucket = await bucket(session, `rl-${o.stream}-cursors`);
    const cursors: CursorSummary[] = [];
    for (const key of cursorBucket === null ? [] : await keysOf(session, `rl-${o.stream}-cursors`)) {
      const id = key === 'global' ? GLOBAL_CURSOR_ID : key.startsWith('client.') ? key.slice('client.'.length) : null;
      const entry = id === null ? null : await cursorBucket!.get(key);
      if (id === null || entry === null || entry.operation !== 'PUT') continue; // not a cursor, or deleted meanwhile
      const { offset } = decode(entry.value, key);
      // Committed on an earlier stream of the name (deleted, created again): none of this one's records were handed out.
      const entryStream = streamOf(entry.value);
      const from = entryStream !== null && !sameStream(entryStream, created) ? startOffset : offset;
      cursors.push({
        id, style: id === GLOBAL_CURSOR_ID ? 'globalTx' : 'clientTx', committedOffset: offset,
        lag: await lagAt(session, state, from), owner: await holderOf(leases, `cursor.${key}`),
        // Past the stream's end, as its consumer's open judges it (index.ts): that open is refused.
        pastEnd: from > endOffset,
      });
    }
    return {
      logStartOffset: startOffset, nextOffset: endOffset, durableOffset: endOffset, totalBytes: state.bytes,
      segments: [], producer: await holderOf(leases, PRODUCER_LEASE_KEY), cursors,
    };
  } catch (e) {
    throw asLogError(e, `inspecting stream ${o.stream}`);
  } finally {
    await session.close();
  }
}

/**
 * The bucket `name`, or null when it does not exist (nothing was ever kept there). Its stream is
 * looked up first: nats.js opens a bucket without asking the server whether it exists.
 */
async function bucket(session: Session, name: string): Promise<KV | null> {
  try {
    await session.jsm.streams.info(`KV_${name}`);
  } catch (e) {
    if ((e as { code?: unknown }).code === 10059 || /stream not found/i.test((e as Error).message)) return null;
    throw e;
  }
  return new (nats().kv.Kvm)(session.js).open(name);
}

/**
 * The keys of bucket `name`: the subjects its stream's info lists (each subject that holds a message:
 * a key's last entry, or its delete marker). kv.keys() would make an ordered consumer on the server,
 * which nats.js leaves there for its inactivity threshold (5 minutes).
 */
async function keysOf(session: Session, name: string): Promise<string[]> {
  const prefix = `$KV.${name}.`;
  const { state } = await session.jsm.streams.info(`KV_${name}`, { subjects_filter: `${prefix}>` });
  return Object.keys(state.subjects ?? {}).map((subject) => subject.slice(prefix.length)).sort();
}

/** The live holder of the lease `key` (an entry expires leaseMs after its holder's last renewal), or null. */
async function holderOf(leases: KV | null, key: string): Promise<LockHolder | null> {
  const entry = leases === null ? null : await leases.get(key);
  if (entry === null || entry.operation !== 'PUT') return null;
  try {
    const { pid, host } = JSON.parse(Buffer.from(entry.value).toString('utf8')) as { pid?: unknown; host?: unknown };
    return typeof pid === 'number' && typeof host === 'string' ? { pid, host } : null;
  } catch {
    return null;
  }
}

/** A cursor's lag at `offset`; ms is 0 when the record there is not stored (deleted from the stream). */
async function lagAt(session: Session, state: StreamState, offset: number): Promise<CursorLag> {
  const { startOffset, endOffset } = boundsOf(state);
  const from = Math.max(offset, startOffset);
  if (from >= endOffset) return { records: 0, bytes: 0, ms: 0 };
  const records = endOffset - from;
  let at: number | null = timeOf(state.first_ts);
  if (from !== startOffset) {
    // null: no message there (deleted); a failed read (unanswered, a connection lost) fails the call, not read as a lag of 0 ms.
    const m = await session.jsm.streams.getMessage(session.options.stream, { seq: from + 1 });
    at = m === null ? null : m.time.getTime();
  }
  return { records, bytes: shareOfBytes(records, state), ms: at === null ? 0 : Math.max(0, timeOf(state.last_ts) - at) };
}
