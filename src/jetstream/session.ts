/**
 * One connection to the server and what a handle needs on it: the JetStream client and manager, the
 * stream (created when missing), and the key-value buckets of the leases and the cursors. Reads the
 * server's version at connect and warns (RL_JETSTREAM_OLD_SERVER) below 2.10. An open's own checks
 * of the server and the stream (`BeforeCreate`) run before the stream is created.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { JetStreamClient, JetStreamManager, StreamInfo, StreamState } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { ErrorCode, LogError } from '../errors.js';
import { connectNats } from './connect.js';
import { loadNats, nats } from './nats.js';
import type { ResolvedJetStreamOptions } from './options.js';
import { serverStoreFull } from './store-refusal.js';

/** Server versions known to acknowledge a publish before any fsync (no `sync_interval: always`). */
const MIN_GOOD_SERVER: readonly [number, number] = [2, 10];
const warnedServers = new Set<string>();

/** The server's version as [major, minor, patch]; [0, 0, 0] when it cannot be read. */
export function parseVersion(v: string | undefined): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v ?? '');
  return m === null ? [0, 0, 0] : [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function versionBelow(v: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) if ((v[i] ?? 0) !== min[i]) return (v[i] ?? 0) < min[i]!;
  return false;
}

/**
 * `e` as a coded error: a LogError as it is, a write the server refused for its full JetStream
 * storage (a lease taken, a cursor committed: store-refusal.ts) as ERR_DISK_FULL, as a full disk is
 * locally, anything else (a NATS request that timed out or found no responder while the cluster
 * elects a leader, a connection lost) as ERR_IO saying what failed.
 */
export function asLogError(e: unknown, what: string): LogError {
  if (e instanceof LogError) return e;
  if (serverStoreFull(e)) {
    return new LogError(ErrorCode.DISK_FULL, `${what} failed: ${(e as Error)?.message ?? String(e)} (the server's JetStream storage, or the account's, is full: make room on the server or raise its limits)`, {}, { cause: e });
  }
  return new LogError(ErrorCode.IO, `${what} failed: ${(e as Error)?.message ?? String(e)}`, {}, { cause: e });
}

/** A stream's bounds as offsets: its first stored record's and the one after its last. */
export function boundsOf(state: StreamState): { startOffset: number; endOffset: number } {
  return { startOffset: state.messages === 0 ? state.last_seq : state.first_seq - 1, endOffset: state.last_seq };
}

/**
 * An open's checks once connected, before anything is created: `info` is the stream as it is, null
 * when it does not exist yet. A throw ends the open with nothing created.
 */
export type BeforeCreate = (session: Session, info: StreamInfo | null) => void | Promise<void>;

/** Whether a request failed for a stream that does not exist (the server's 10059). */
const streamNotFound = (e: unknown): boolean => (e as { code?: unknown }).code === 10059 || /stream not found/i.test((e as Error).message);

/** The name of the leases bucket of `stream`. */
const leaseBucketName = (stream: string): string => `rl-${stream}-leases`;

function leaseMsRefused(o: ResolvedJetStreamOptions, maxAgeMs: number): LogError {
  return LogError.invalidOption('leaseMs', `leaseMs is ${o.leaseMs} ms, but the leases bucket ${leaseBucketName(o.stream)} exists with a max age of ${maxAgeMs} ms (the leaseMs of the handle that made it): every handle of stream ${o.stream} needs leaseMs ${maxAgeMs} (docs/jetstream.md)`);
}

/**
 * The limit of a bucket's stream (`info`) under which the server removes entries on its own, or
 * null: a max_msgs or max_bytes with the "discard old" policy (each new entry pushes the oldest
 * out), and with `age`, a max age (a KV TTL: an entry not written again within it expires). With
 * "discard new" the server refuses a write past such limits instead, and drops nothing.
 */
function droppingLimit(info: StreamInfo, age: boolean): string | null {
  const { max_age: maxAge, max_msgs: maxMsgs, max_bytes: maxBytes, discard, storage } = info.config;
  const dropsOld = discard !== nats().jetstream.DiscardPolicy.New;
  if (storage !== nats().jetstream.StorageType.File) return `${storage} storage (its entries are lost when the server restarts)`;
  if (age && maxAge > 0) return `a max age (TTL) of ${Math.round(maxAge / 1e6)} ms`;
  if (dropsOld && maxMsgs > 0) return `max_msgs ${maxMsgs} with discard old`;
  if (dropsOld && maxBytes > 0) return `max_bytes ${maxBytes} with discard old`;
  return null;
}

/**
 * ERR_INVALID_OPTION for a cursors bucket made beforehand (by the user, or an older version) with a
 * limit under which the server removes committed cursor entries (droppingLimit): a cursor whose
 * entry is gone would start again at the oldest record, handing out every record committed before.
 */
export function cursorLimitRefused(stream: string, info: StreamInfo): LogError | null {
  const setting = droppingLimit(info, true);
  if (setting === null) return null;
  return LogError.invalidOption('stream', `the cursors bucket rl-${stream}-cursors exists with ${setting}: the server would remove committed cursor entries, and a cursor whose entry is gone starts again at the oldest record (every record committed before handed out again): remove that limit, or delete the bucket (docs/jetstream.md)`);
}

/**
 * ERR_INVALID_OPTION for a leases bucket made beforehand with a max_msgs or max_bytes and discard
 * old (droppingLimit; its max age is leaseMs, checked apart): a new lease would push a live one out,
 * and a second producer or cursor owner would open beside the live one.
 */
function leaseLimitRefused(stream: string, info: StreamInfo): LogError | null {
  const setting = droppingLimit(info, false);
  if (setting === null) return null;
  return LogError.invalidOption('stream', `the leases bucket ${leaseBucketName(stream)} exists with ${setting}: the server would remove a live lease when another is taken, and a second producer or cursor owner would open beside the live one: remove that limit, or delete the bucket while no handle is open (docs/jetstream.md)`);
}

/** Whether two creation times of a stream (StreamInfo.created) name the same stream: one deleted and created again under the name does not. */
export function sameStream(a: string, b: string): boolean {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  return a === b || (Number.isFinite(ta) && ta === tb);
}

export class Session {
  /** A consumer's stream as its open found it (StreamInfo.created); null: not checked. */
  streamCreated: string | null = null;
  private leaseBucket: KV | null = null;
  private cursorBucket: KV | null = null;
  /** The cursors bucket's max_value_size (read by cursors()); null: it has none, or it is not read yet. */
  cursorValueBytes: number | null = null;
  private closing: Promise<void> | null = null;

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly options: ResolvedJetStreamOptions,
    /** The server's version, as it said at connect. */
    readonly serverVersion: [number, number, number],
  ) {}

  /**
   * Connects and finds the stream; creates it when missing, unless `create` is false (then
   * ERR_INVALID_OPTION). `check` runs before the stream is created.
   */
  static async open(o: ResolvedJetStreamOptions, create = true, check?: BeforeCreate): Promise<Session> {
    const { transport, jetstream: js } = await loadNats();
    const nc = await connectNats(transport, o);
    try {
      const version = parseVersion(nc.info?.version);
      if (versionBelow(version, MIN_GOOD_SERVER) && !warnedServers.has(nc.info?.version ?? '?')) {
        warnedServers.add(nc.info?.version ?? '?');
        process.emitWarning(`nats-server ${nc.info?.version ?? '(unknown version)'} is older than 2.10: it acknowledges a publish before any fsync, so a record acknowledged by flush() may be lost when the server's machine loses power (docs/jetstream.md)`,
          { code: 'RL_JETSTREAM_OLD_SERVER' });
      }
      const jsm = await js.jetstreamManager(nc, { timeout: o.timeoutMs });
      const session = new Session(nc, js.jetstream(nc, { timeout: o.timeoutMs }), jsm, o, version);
      await session.ensureStream(create, check);
      return session;
    } catch (e) {
      await nc.close().catch(() => undefined);
      throw asLogError(e, `opening JetStream stream ${o.stream}`);
    }
  }

  /** The log's stream, as the server describes it now. */
  async streamInfo(): Promise<StreamInfo> {
    try {
      return await this.jsm.streams.info(this.options.stream);
    } catch (e) {
      throw asLogError(e, `reading the state of stream ${this.options.stream}`);
    }
  }

  /**
   * ERR_POSITION_EXPIRED when the stream was deleted and created again since the consumer opened
   * (`streamCreated`): its offsets start over, so those from `offset` on are other records.
   */
  async checkStream(offset: number): Promise<void> {
    if (this.streamCreated === null) return;
    const e = this.recreated((await this.streamInfo()).created, offset);
    if (e !== null) throw e;
  }

  /** The error of checkStream when `now` (StreamInfo.created, read by the caller) is not the stream the consumer opened on; else null. */
  recreated(now: string, offset: number): LogError | null {
    const was = this.streamCreated;
    if (was === null || sameStream(was, now)) return null;
    return new LogError(ErrorCode.POSITION_EXPIRED, `stream ${this.options.stream} was deleted and created again (${now}; it was created ${was} when this consumer opened): its offsets start over, so the records from offset ${offset} on are not the ones this consumer was reading`, { offset });
  }

  /** The log's bounds: the offset of its first stored record and the offset after its last. */
  async bounds(): Promise<{ startOffset: number; endOffset: number }> {
    return boundsOf((await this.streamInfo()).state);
  }

  /*
   * Both buckets are read through their stream's leader (allow_direct: false), so an open reads the
   * latest commit of a cursor and the latest state of a lease: a direct get may be answered by a
   * replica, which can be behind the leader after a leader change or a restart. Writes carry the
   * revision read, so an older read would fail the first commit with a false ERR_CURSOR_LOCKED. An
   * existing bucket made with direct gets is read through its leader too.
   */

  /**
   * The bucket of the producer's and the cursors' leases (entries expire leaseMs after their last
   * renewal). An existing bucket is used as it is, its max age the leaseMs of the handle that made
   * it: one of another leaseMs is refused (ERR_INVALID_OPTION), else a lease renewed every leaseMs / 3
   * could expire between renewals (a second holder beside a live one) or outlive its leaseMs.
   */
  async leases(): Promise<KV> {
    if (this.leaseBucket === null) {
      const name = leaseBucketName(this.options.stream);
      const kv = await new (nats().kv.Kvm)(this.js).create(name, {
        history: 1, ttl: this.options.leaseMs, replicas: this.options.replicas, allow_direct: false,
      });
      const { ttl: maxAgeMs, streamInfo } = await kv.status();
      if (maxAgeMs !== this.options.leaseMs) throw leaseMsRefused(this.options, maxAgeMs);
      const refused = leaseLimitRefused(this.options.stream, streamInfo);
      if (refused !== null) throw refused;
      this.leaseBucket = kv;
    }
    return this.leaseBucket;
  }

  /** Refuses (as leases() does) a leases bucket that exists with another max age than leaseMs; creates nothing. */
  async checkLeaseBucket(): Promise<void> {
    const info = await this.jsm.streams.info(`KV_${leaseBucketName(this.options.stream)}`).catch((e: unknown) => {
      if (!streamNotFound(e)) throw e;
      return null;
    });
    const maxAgeMs = info === null ? this.options.leaseMs : Math.round(info.config.max_age / 1e6);
    if (maxAgeMs !== this.options.leaseMs) throw leaseMsRefused(this.options, maxAgeMs);
    const refused = info === null ? null : leaseLimitRefused(this.options.stream, info);
    if (refused !== null) throw refused;
  }

  /**
   * The bucket of the transactional cursors: one entry per cursor, its offset and state. An existing
   * bucket is used as it is: its own max_value_size, when it has one, is read (`cursorValueBytes`).
   * One whose limits let the server remove a committed entry is refused (cursorLimitRefused).
   */
  async cursors(): Promise<KV> {
    if (this.cursorBucket === null) {
      const kv = await new (nats().kv.Kvm)(this.js).create(`rl-${this.options.stream}-cursors`, { history: 1, replicas: this.options.replicas, allow_direct: false });
      const { streamInfo } = await kv.status();
      const refused = cursorLimitRefused(this.options.stream, streamInfo);
      if (refused !== null) throw refused;
      const max = streamInfo.config.max_msg_size;
      this.cursorValueBytes = max > 0 ? max : null;
      this.cursorBucket = kv;
    }
    return this.cursorBucket;
  }

  close(): Promise<void> {
    this.closing ??= this.nc.close().catch(() => undefined);
    return this.closing;
  }

  private async ensureStream(create: boolean, check: BeforeCreate | undefined): Promise<void> {
    const o = this.options;
    let info: StreamInfo | null = null;
    try {
      info = await this.jsm.streams.info(o.stream);
    } catch (e) {
      if (!streamNotFound(e)) throw e;
    }
    if (info !== null) this.checkConfig(info);
    if (info === null && !create) throw LogError.invalidOption('stream', `stream ${o.stream} does not exist on ${o.servers.join(', ')}: there is no log to inspect`);
    await check?.(this, info);
    if (info === null) {
      try {
        await this.jsm.streams.add({ name: o.stream, subjects: [o.subject], storage: nats().jetstream.StorageType.File, num_replicas: o.replicas });
      } catch (e) {
        // Another handle created it meanwhile: use it. Else a subject another stream has is the
        // configuration's mistake (the server's "subjects overlap", 10065), not the server's failure.
        info = await this.jsm.streams.info(o.stream).catch(() => {
          if ((e as { code?: unknown }).code !== 10065 && !/subjects overlap/i.test((e as Error).message)) throw e;
          throw LogError.invalidOption('subject', `subject ${o.subject} (or one it overlaps) belongs to another stream on ${o.servers.join(', ')}: stream ${o.stream} needs a subject of its own`);
        });
      }
      if (info !== null) this.checkConfig(info);
    }
  }

  /**
   * A stream that exists (made beforehand, or by another handle) is a log's only with its one subject,
   * the limits retention (interest and workqueue remove records once consumed or acknowledged, and
   * interest ones at once when no server-side consumer is there: flush() would resolve for records
   * already gone), file storage (memory loses every record at a restart of the server), and the
   * publishes acknowledged (no_ack: flush() would never resolve).
   */
  private checkConfig(info: StreamInfo): void {
    const o = this.options;
    const { subjects = [], retention, storage, no_ack: noAck } = info.config;
    if (subjects.length !== 1 || subjects[0] !== o.subject) {
      throw LogError.invalidOption('subject', `stream ${o.stream} exists with subjects ${JSON.stringify(subjects)}; a log needs a stream of the one subject ${o.subject}`);
    }
    const { RetentionPolicy, StorageType } = nats().jetstream;
    const why = retention !== RetentionPolicy.Limits ? `retention ${retention} (the server removes records once they are consumed: a log keeps them until its own limits)`
      : storage !== StorageType.File ? `${storage} storage (a restart of the server loses every record)`
        : noAck === true ? 'no_ack (publishes are not acknowledged: no record would ever be known stored)' : null;
    if (why !== null) throw LogError.invalidOption('stream', `stream ${o.stream} exists with ${why}; a log needs a stream of limits retention and file storage whose publishes are acknowledged (docs/jetstream.md)`);
  }
}
