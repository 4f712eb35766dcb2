/**
 * A lease in the leases bucket: one holder per key (the producer of a stream, a transactional cursor)
 * across machines. Taken with a create (fails while a live holder's entry exists), renewed every
 * leaseMs/3 with the revision last written (so two holders can never both renew), and expiring
 * leaseMs after the last renewal when the holder died (the bucket's max age). A renewal refused for
 * its revision by an entry that is not this holding's marks the lease lost; the handle's own writes
 * are fenced separately (the stream's expected last sequence, the cursor entry's revision).
 *
 * A renewal that gets no answer (lost on the way, or sent while a cluster elects a leader) is tried
 * again RETRY_MS after it failed, not at the next leaseMs/3, and each try waits at most leaseMs/6
 * (RENEW_TIMEOUT_MIN_MS at least, timeoutMs at most): from a leaseMs of 3 s on, three tries or more
 * fit in one lease, so an outage shorter than about leaseMs minus one try does not cost the lease.
 * A take that gets no answer is tried again too (ride.ts), with a token per try (see take()).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KV, KvEntry } from '@nats-io/kv';
import { LogError, type ErrorCode } from '../errors.js';
import type { Ride } from './ride.js';
import type { Session } from './session.js';
import { serverStoreFull } from './store-refusal.js';

const encoder = new TextEncoder();

/** The pause after a renewal that failed, before the next try. */
const RETRY_MS = 250;
/** The shortest wait of one renewal try for its answer. */
const RENEW_TIMEOUT_MIN_MS = 500;

/** How long one renewal try waits for its answer: leaseMs / 6, within [RENEW_TIMEOUT_MIN_MS, timeoutMs]. */
export function renewTimeoutMs(leaseMs: number, timeoutMs: number): number {
  return Math.min(timeoutMs, Math.max(RENEW_TIMEOUT_MIN_MS, Math.floor(leaseMs / 6)));
}

/** The key of the producer's lease in the leases bucket (a cursor's is `cursor.<name>`). */
export const PRODUCER_LEASE_KEY = 'producer';

/** `p`, or a rejection once `ms` pass (the request itself goes on; its answer is then ignored). */
function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms`)), ms); });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Who holds a lease (shown in the error a second opener gets), with the token of this holding. */
function holderText(token: string): string {
  return JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), token });
}

/** The token of the holding a lease entry stands for, or null (no entry, a delete marker, another value). */
function tokenOf(entry: KvEntry | null | undefined): string | null {
  if (entry === null || entry === undefined || entry.operation !== 'PUT') return null;
  try {
    const token = (JSON.parse(entry.string()) as { token?: unknown }).token;
    return typeof token === 'string' ? token : null;
  } catch {
    return null;
  }
}

export class Lease {
  private timer: NodeJS.Timeout | null = null;
  private released = false;
  /** The renewal in flight, if any: release() waits for it, so its delete carries the latest revision. */
  private renewing: Promise<void> | null = null;
  /** Set when a renewal failed: the lease may be somebody else's now. */
  lost: Error | null = null;
  /** The lease was lost to another holder (its entry names another token), not only expired. */
  takenOver = false;
  /**
   * The refusal of a renewal by the server's full JetStream storage (store-refusal.ts), since the
   * last renewal stored, else null: a lease that expires meanwhile expired because of it.
   */
  refusedFull: Error | null = null;
  /** When the last renewal try was sent (performance.now(), ms): a wait's last try (lease-wait.ts). */
  lastTrySentAt = -Infinity;

  private readonly intervalMs: number;
  private readonly tryTimeoutMs: number;
  /** When the last write of this holding known stored was sent, by the monotonic and the wall clock (ms). */
  private storedAt = { mono: -Infinity, wall: -Infinity };
  /** The pending timer is a retry after a failed try (not the regular renewal). */
  private retrying = false;
  /** Called once the renewal try under way (or the next one) ends. */
  private afterTry: Array<() => void> = [];

  private constructor(
    private readonly kv: KV,
    private readonly key: string,
    private revision: number,
    private readonly leaseMs: number,
    timeoutMs: number,
    /** Unique to this holding: written with every renewal, and by a producer into each record it publishes. */
    readonly token: string,
    /** Written by an earlier try of the take, at a time unknown: renewed at once. */
    adopted = false,
    /** When the write that took the lease was sent (ms, monotonic and wall clock); unknown when adopted. */
    sentAt?: { mono: number; wall: number },
  ) {
    this.intervalMs = Math.max(250, Math.floor(leaseMs / 3));
    this.tryTimeoutMs = renewTimeoutMs(leaseMs, timeoutMs);
    if (!adopted && sentAt !== undefined) this.storedAt = sentAt;
    this.schedule(adopted ? 0 : this.intervalMs);
  }

  /**
   * Whether the entry is surely still this holding's on the server: not lost, and the last write known
   * stored was sent less than leaseMs minus one renewal try ago (by both clocks: a stopped process or
   * a machine that slept may show on one only). The entry expires leaseMs after the server stored
   * that write, and another holder may take it then; a handle's write sent while this is false could
   * land after that.
   */
  get live(): boolean {
    if (this.lost !== null || this.released) return false;
    const age = Math.max(performance.now() - this.storedAt.mono, Date.now() - this.storedAt.wall);
    return age < this.leaseMs - this.tryTimeoutMs;
  }

  /**
   * Resolves once a renewal try ended (answered or not, or the lease released or lost): the regular
   * renewal is made now, a retry after a failed try comes at its time. Then `live` and `lost` tell.
   */
  renewSoon(): Promise<void> {
    if (this.released || this.lost !== null) return Promise.resolve();
    const ended = new Promise<void>((resolve) => this.afterTry.push(resolve));
    if (this.timer !== null && !this.retrying) {
      clearTimeout(this.timer);
      this.schedule(0);
    }
    return ended;
  }

  /** The next renewal in `ms`; after it, the one after (sooner when it failed), until released or lost. */
  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.renewing = this.renew().then((answered) => {
        this.renewing = null;
        this.retrying = !answered;
        if (!this.released && this.lost === null) this.schedule(answered ? this.intervalMs : RETRY_MS);
        for (const w of this.afterTry.splice(0)) w();
      });
    }, ms);
    this.timer.unref();
  }

  /**
   * Takes the lease `key`, or fails with `lockedCode` while a live holder has it. A create that fails
   * transiently (no answer, no leader) is tried again within 2 x timeoutMs of the first failure, each
   * try with a token of its own: a try whose create was stored though its answer was lost shows up as
   * an entry holding one of this take's tokens, and that holding is taken as this one's (so no try
   * leaves a lease held for leaseMs behind a take that succeeds). A create refused with "wrong last
   * sequence" while no live holder shows is a race with the key's last entry (the delete marker a
   * released lease leaves, expiring with the bucket's max age between the create and its read-back,
   * or a holder that let go meanwhile): the create is tried again, a few times.
   */
  static async take(session: Session, key: string, lockedCode: ErrorCode, what: string, ride: Ride): Promise<Lease> {
    const { leaseMs, timeoutMs } = session.options;
    const tokens: string[] = [];
    const doing = `taking the lease of ${what}`;
    const cleanupMs = renewTimeoutMs(leaseMs, timeoutMs);
    for (let races = 0; ;) {
      const token = randomBytes(9).toString('base64url');
      tokens.push(token);
      let kv: KV | null = null;
      let sentMono = performance.now(); // the failed request's send time, for the ride's last try (ride.ts)
      try {
        kv = await session.leases();
        const sentAt = { mono: sentMono = performance.now(), wall: Date.now() };
        const rev = await kv.create(key, encoder.encode(holderText(token)));
        return new Lease(kv, key, rev, leaseMs, timeoutMs, token, false, sentAt);
      } catch (e) {
        // No answer: the next try tells whether this one was stored (its create is then refused).
        if (kv === null || !/wrong last sequence/i.test((e as Error).message)) {
          await Lease.failedTry(ride, e, doing, kv, key, tokens, cleanupMs, sentMono);
          continue;
        }
        let held: KvEntry | null;
        try {
          sentMono = performance.now();
          held = await kv.get(key);
        } catch (readError) {
          await Lease.failedTry(ride, readError, doing, kv, key, tokens, cleanupMs, sentMono);
          continue;
        }
        const holder = tokenOf(held);
        if (held !== null && holder !== null && tokens.includes(holder)) return new Lease(kv, key, held.revision, leaseMs, timeoutMs, holder, true);
        if (held !== null && held.operation === 'PUT') {
          throw new LogError(lockedCode, `${what} is held by another live handle ${held.string()} (its lease expires ${leaseMs} ms after its last renewal)`, {}, { cause: e });
        }
        if (++races >= 3) throw e;
      }
    }
  }

  /**
   * A try of a take failed: waits for the next one (ride.ts), or, when the ride gives up, deletes what
   * an earlier try may have stored under one of this take's tokens (best effort: the server may be
   * away; such an entry expires leaseMs after it was written) and throws the ride's error.
   */
  private static async failedTry(ride: Ride, e: unknown, doing: string, kv: KV | null, key: string, tokens: readonly string[], cleanupMs: number, sentAt: number): Promise<void> {
    try {
      await ride.failed(e, doing, sentAt);
    } catch (final) {
      const entry = kv === null ? null : await bounded(kv.get(key), cleanupMs).catch(() => null);
      const holder = tokenOf(entry);
      if (kv !== null && entry !== null && holder !== null && tokens.includes(holder)) {
        await bounded(kv.delete(key, { previousSeq: entry.revision }), cleanupMs).catch(() => undefined);
      }
      throw final;
    }
  }

  /** One renewal try; false when it got no usable answer (the next try comes RETRY_MS later). */
  private async renew(): Promise<boolean> {
    if (this.released || this.lost !== null) return true;
    try {
      const sentAt = { mono: this.lastTrySentAt = performance.now(), wall: Date.now() };
      this.revision = await this.kv.update(this.key, encoder.encode(holderText(this.token)), this.revision, this.tryTimeoutMs);
      this.storedAt = sentAt;
      this.refusedFull = null;
      return true;
    } catch (e) {
      if (serverStoreFull(e)) {
        this.refusedFull = e as Error; // the store may have room again before the lease expires: tried again
        return false;
      }
      // A timeout while the server is away is not a loss yet: the next try uses the same revision. A
      // wrong revision is, unless the entry holds this holding's token (a try that timed out was
      // stored anyway): then its revision is the one to renew from, RETRY_MS later.
      if (!/wrong last sequence/i.test((e as Error).message)) return false;
      const entry = await bounded(this.kv.get(this.key), this.tryTimeoutMs).catch(() => undefined);
      if (entry === undefined) return false; // unreadable now: the next try looks again
      if (entry !== null && tokenOf(entry) === this.token) {
        this.revision = entry.revision;
        return false;
      }
      const refused = this.refusedFull === null ? '' : ` (the server refused them: ${this.refusedFull.message}, its JetStream storage is full)`;
      if (entry === null || entry.operation !== 'PUT') this.lost = new Error(`it expired: no renewal reached the server for its ${this.leaseMs} ms${refused}`, { cause: e });
      else {
        this.lost = new Error(`another holder took it: ${entry.string()}`, { cause: e });
        this.takenOver = true;
      }
      return true;
    }
  }

  /**
   * Whether the lease is still ours, read from the bucket's leader: the entry holds this holding's
   * token, so nobody took the lease since (a take writes another token, a release deletes the entry,
   * an expired entry is gone). A renewal that timed out and was stored anyway still counts as ours.
   * Throws when the bucket cannot be read.
   */
  async stillHeld(): Promise<boolean> {
    if (this.lost !== null || this.released) return false;
    const entry = await this.kv.get(this.key);
    return tokenOf(entry) === this.token;
  }

  /**
   * Gives the lease up (deletes the entry if it is still ours). Safe to call twice. Each request waits
   * as long as a renewal try; an entry whose delete gets no answer expires `leaseMs` after its last write.
   */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const w of this.afterTry.splice(0)) w();
    if (this.renewing !== null) await this.renewing;
    if (this.lost !== null) return;
    const ms = this.tryTimeoutMs;
    try {
      await bounded(this.kv.delete(this.key, { previousSeq: this.revision }), ms);
    } catch {
      // A renewal that timed out and was stored anyway moved the revision: delete from that one if the entry is still ours.
      const entry = await bounded(this.kv.get(this.key), ms).catch(() => null);
      if (entry !== null && tokenOf(entry) === this.token) {
        await bounded(this.kv.delete(this.key, { previousSeq: entry.revision }), ms).catch(() => undefined);
      }
    }
  }
}
