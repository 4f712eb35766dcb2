/**
 * A transactional cursor on JetStream: the next offset and the state in one entry of the cursors
 * bucket (`client.<id>`), each commit written with the revision of the last one. So a commit is
 * atomic (offset and state together), and a stale owner (one whose lease expired and whose cursor
 * another consumer has taken since) fails its next commit with ERR_CURSOR_LOCKED instead of moving
 * the cursor. One owner at a time is held by a lease (lease.ts): a second opener gets
 * ERR_CURSOR_LOCKED. An open that takes the lease writes the entry back as it read it (offset, state
 * and freshness), with the revision it read: the earlier owner, whose renewal may not have noticed
 * the loss yet, is fenced off from then on, before the new owner commits anything. A stale commit
 * that lands between the read and that write makes it fail for its revision: the entry is read again.
 *
 * Group commit as locally: `advance` moves the cursor in memory and commits per `everyRecords` /
 * `everyMs`; a commit is also made before the consumer waits and when it closes. Commits run one at
 * a time, in order; the promise a commit returns is awaited before the next record is handed out.
 *
 * A commit that fails transiently (a timeout, a lost connection, a leader election) is written again
 * (ride.ts: up to 2 x timeoutMs since the first failure, then ERR_IO). Each commit names its writer
 * in the entry (the cursor lease holding's token and the commit's number), so a write that timed out
 * and was stored anyway is recognised when the next try is refused for its revision: the entry holds
 * this commit, and its revision is adopted. An entry written by anyone else fences this owner off.
 */
import type { KV } from '@nats-io/kv';
import type { CursorStore } from '../consumer/log-source.js';
import { PendingCommit } from '../cursor/pending-commit.js';
import { ErrorCode, LogError } from '../errors.js';
import { Lease } from './lease.js';
import { checkBucket, entryLimit, maxStateFor } from './cursor-limits.js';
import { serverStoreFull } from './store-refusal.js';
import { Ride, type Outage } from './ride.js';
import type { Session } from './session.js';

/**
 * A cursor's entry key is split into NATS subject tokens at its dots (the bucket's subject
 * `$KV.<bucket>.<key>`, the lease's `cursor.<key>`): an id ending in '.' or holding '..' makes an
 * empty token, which the server and nats.js refuse. Such an id, valid locally, is refused here with
 * ERR_INVALID_CONSUMER_ID before anything connects.
 */
export function checkCursorName(name: string): void {
  if (!name.endsWith('.') && !name.includes('..')) return;
  const id = name.startsWith('client.') ? name.slice('client.'.length) : name;
  throw new LogError(ErrorCode.INVALID_CONSUMER_ID, `invalid consumer id ${JSON.stringify(id)} on the JetStream backend: an id that ends with '.' or holds '..' cannot name a key-value entry (its dots split NATS subject tokens)`);
}

/**
 * The entry's value: `{"v":1,"offset":n,"state":"<base64>"|null,"w":"<writer>","s":"<created>"}` (`w`:
 * who wrote it, when known: a lease holding's token, then `.0` for its open's write, `.<n>` for its
 * n-th commit; `s`: the creation time of the stream the offset counts records of, as the server
 * reports it, absent in entries written before it was kept); a value no consumer committed yet (an
 * open created it, or wrote it back) holds `"fresh":true` too. The bucket outlives its stream: a
 * stream deleted and created again under the same name starts its offsets again, which `s` tells.
 */
interface CursorValue {
  readonly offset: number;
  readonly state: Uint8Array | null;
}

function encode(v: CursorValue, writer: string, stream: string | null, fresh = false): Uint8Array {
  return Buffer.from(JSON.stringify({ v: 1, offset: v.offset, state: v.state === null ? null : Buffer.from(v.state).toString('base64'), w: writer, s: stream ?? undefined, fresh: fresh ? true : undefined }));
}

/** A field of an entry's value, or undefined. */
function fieldOf(bytes: Uint8Array, name: 'w' | 'fresh' | 's'): unknown {
  try {
    return (JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>)[name];
  } catch {
    return undefined;
  }
}

/** The creation time of the stream an entry's offset counts records of, when it says (`s`), or null (also read by inspectLog). */
export function streamOf(bytes: Uint8Array): string | null {
  const s = fieldOf(bytes, 's');
  return typeof s === 'string' ? s : null;
}

/** An open's create of a cursor entry: its bucket, and when the request has settled (either way). */
interface Creating { readonly bucket: KV; readonly settled: Promise<void> }
/** The writer an entry names, or null. */
function writerOf(bytes: Uint8Array): string | null {
  const w = fieldOf(bytes, 'w');
  return typeof w === 'string' ? w : null;
}

/** A cursor entry's value (also read by inspectLog, inspect.ts). */
export function decode(bytes: Uint8Array, key: string): CursorValue {
  try {
    const o = JSON.parse(Buffer.from(bytes).toString('utf8')) as { v?: unknown; offset?: unknown; state?: unknown };
    if (o.v !== 1) throw LogError.unsupportedFormat(`cursor entry ${key}`, `version ${String(o.v)}`);
    if (typeof o.offset !== 'number' || !Number.isSafeInteger(o.offset) || o.offset < 0) throw new Error('bad offset');
    if (o.state !== null && typeof o.state !== 'string') throw new Error('bad state');
    return { offset: o.offset, state: o.state === null ? null : new Uint8Array(Buffer.from(o.state, 'base64')) };
  } catch (e) {
    if (e instanceof LogError) throw e;
    throw new LogError(ErrorCode.LOG_CORRUPT, `cursor entry ${key} cannot be read: ${(e as Error).message}`, {}, { cause: e });
  }
}

/** How many times an open reads the entry again after its write was refused for its revision. */
const MAX_OPEN_CONFLICTS = 10;

export class KvCursor implements CursorStore {
  /** The next offset and state, ahead of the committed entry within a group. */
  private readonly pending: PendingCommit;
  private committed: number;
  /** The commits in flight, one after the other. */
  private chain: Promise<void> = Promise.resolve();
  /** Why commits stopped for good (fenced off, or the bound passed). */
  private fault: LogError | null = null;
  /** Why: the lease taken over by another consumer (failure). */
  private taken: LogError | null = null;
  private closed = false;
  /** This open created the entry (abandon() deletes it again). */
  private madeHere = false;
  /** Commits written: with the lease's token, names each commit's write (see the module comment). */
  private commits = 0;
  /** The entry's last value this consumer wrote (the open's, then each commit's): restore() writes it back. */
  private last: Uint8Array;
  private readonly ride: Ride;
  /** The largest state ctx.setState takes: its entry must fit the server's max_payload and the bucket's max_value_size. */
  readonly maxStateBytes: number;

  private constructor(
    private readonly kv: KV,
    private readonly key: string,
    private revision: number,
    value: CursorValue,
    /** True while the entry holds only the value an open created it with (no consumer committed to it yet). */
    readonly created: boolean,
    /** The creation time of the stream the entry's offset counts records of, as the entry says (null: not said). */
    readonly entryStream: string | null,
    /** The creation time of the stream now: every commit writes it. */
    private readonly stream: string,
    private readonly lease: Lease,
    timeoutMs: number,
    outage: Outage,
    everyRecords: number,
    everyMs: number | null,
    maxPayload: number,
  ) {
    this.maxStateBytes = maxStateFor(maxPayload);
    this.pending = new PendingCommit(value.offset, value.state, everyRecords, everyMs);
    this.committed = value.offset;
    this.ride = new Ride(timeoutMs, 'consumer', undefined, { outage, adopts: true });
    this.last = encode(value, `${lease.token}.0`, entryStream, created);
  }

  /**
   * Takes the cursor's lease (ERR_CURSOR_LOCKED while a live consumer has it), then creates its entry,
   * or writes the entry it reads back as it is, with the revision read: that fences off an earlier
   * owner still running (see the module comment). `stream`: the stream's creation time (StreamInfo.created);
   * the open writes the entry back with the stream it names, so a refused open changes nothing.
   * `ride`: the open's; `outage`: the consumer's, from which a commit's bound counts (ride.ts, Outage).
   */
  static async open(session: Session, name: string, initialOffset: number, stream: string, everyRecords: number, everyMs: number | null, ride: Ride, outage: Outage): Promise<KvCursor> {
    const lease = await Lease.take(session, `cursor.${name}`, ErrorCode.CURSOR_LOCKED, `cursor ${name}`, ride);
    // Tried again while it fails transiently: a write that was stored though its answer was lost
    // is read back by the next try (it names this open as its writer) and taken as it is.
    const writer = `${lease.token}.0`;
    let creating: Creating | null = null; // its last create of the entry: it may land after a refusal
    try {
      let lastWrite: 'create' | 'update' | null = null;
      const { kv, revision, value, created, entryStream, made } = await ride.run(`reading cursor ${name}`, async (_, current) => {
        const bucket = await session.cursors();
        checkBucket(session);
        for (let conflicts = 0; ; conflicts++) {
          const entry = await bucket.get(name);
          if (!current()) throw new Error('timeout: the try was cut at the bound'); // it writes nothing (ride.ts)
          if (entry === null || entry.operation !== 'PUT') {
            const fresh = { offset: initialOffset, state: null };
            lastWrite = 'create';
            const create = bucket.create(name, encode(fresh, writer, stream, true));
            creating = { bucket, settled: create.then(() => undefined, () => undefined) };
            const rev = await KvCursor.fence(() => create, name, conflicts);
            if (rev !== null) return { kv: bucket, revision: rev, value: fresh, created: true, entryStream: stream, made: true };
            continue;
          }
          const read = { kv: bucket, revision: entry.revision, value: decode(entry.value, name), created: fieldOf(entry.value, 'fresh') === true, entryStream: streamOf(entry.value), made: false };
          if (writerOf(entry.value) === writer) return { ...read, made: lastWrite === 'create' }; // this open's own write, its answer lost
          lastWrite = 'update';
          const rev = await KvCursor.fence(() => bucket.update(name, encode(read.value, writer, read.entryStream, read.created), entry.revision), name, conflicts);
          if (rev !== null) return { ...read, revision: rev };
        }
      });
      const cursor = new KvCursor(kv, name, revision, value, created, entryStream, stream, lease, session.options.timeoutMs, outage, everyRecords, everyMs, entryLimit(session));
      cursor.madeHere = made;
      return cursor;
    } catch (e) {
      if (creating !== null) await KvCursor.unmake(creating, name, writer); // refused while its create was on the way
      await lease.release();
      throw e;
    }
  }

  /**
   * After an open refused while its create was on the way (the ride ends at once on the signal, the
   * request goes on): once it settled, an entry still as the open made it (its writer, never committed
   * to) is deleted with its revision, as abandon() does. Best effort, under the cursor's lease.
   */
  private static async unmake(c: Creating, name: string, writer: string): Promise<void> {
    try {
      await c.settled;
      const entry = await c.bucket.get(name);
      const mine = entry !== null && entry.operation === 'PUT' && writerOf(entry.value) === writer && fieldOf(entry.value, 'fresh') === true;
      if (mine) await c.bucket.delete(name, { previousSeq: entry.revision });
    } catch { /* the server away: the entry stays */ }
  }

  /**
   * An open's write of the entry: its revision, or null when it was refused for its revision (another
   * consumer wrote the entry since it was read: it is read again, a few times at most).
   */
  private static async fence(write: () => Promise<number>, name: string, conflicts: number): Promise<number | null> {
    try {
      return await write();
    } catch (e) {
      if (!/wrong last sequence/i.test((e as Error)?.message ?? '')) throw e;
      if (conflicts < MAX_OPEN_CONFLICTS) return null;
      throw new LogError(ErrorCode.CURSOR_LOCKED, `cursor ${name} was written by another consumer each of the ${MAX_OPEN_CONFLICTS + 1} times this one read it while taking it over`, {}, { cause: e });
    }
  }

  get nextOffset(): number { return this.pending.nextOffset; }

  get committedOffset(): number { return this.committed; }

  get currentState(): Uint8Array | null { return this.pending.state; }

  /** A commit's try failed and nothing succeeded since: the commit is being retried (the ride). */
  inDoubt(): boolean {
    return this.ride.failing;
  }

  advance(offset: number, state: Uint8Array | null | undefined): void | Promise<void> {
    if (this.closed) throw LogError.closed('consumer');
    if (this.fault !== null) throw this.fault;
    if (this.pending.advance(offset, state)) return this.sync();
  }

  sync(): void | Promise<void> {
    if (this.fault !== null) return Promise.reject(this.fault);
    if (this.closed) return;
    const { pending } = this;
    if (pending.nextOffset === this.committed && !pending.stateChanged) return this.chain;
    const value = { offset: pending.nextOffset, state: pending.state };
    pending.restart();
    this.chain = this.chain.then(() => this.commit(value));
    return this.chain;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.sync();
    } finally {
      this.closed = true;
      await this.lease.release();
    }
  }

  /**
   * After an open that was refused: an entry this open created (no consumer ever opened the cursor)
   * is deleted, as a refused local open removes the cursor file it created (best effort: the delete
   * carries the revision written, so it never removes a commit); then as drop().
   */
  async abandon(): Promise<void> {
    if (!this.closed && this.madeHere && this.commits === 0) await this.kv.delete(this.key, { previousSeq: this.revision }).catch(() => undefined);
    await this.drop();
  }

  async drop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ride.stop(); // a commit being retried ends now
    await this.lease.release();
  }

  /**
   * Why this consumer hands out no record more (every later call fails with it): commits stopped for
   * good, or a renewal found the lease held by another consumer, which owns the cursor and its records now.
   */
  get failure(): LogError | null {
    if (this.fault !== null || !this.lease.takenOver) return this.fault;
    // Writing would fence the new owner off (the revision check fences only an owner someone committed
    // after). A lease that only expired (an outage, an election) leaves the commit to the revision check.
    this.taken ??= new LogError(ErrorCode.CURSOR_LOCKED, `cursor ${this.key}'s lease is lost (${this.lease.lost?.message}): this consumer commits nothing more`, {}, { cause: this.lease.lost });
    return this.taken;
  }

  private async commit(value: CursorValue): Promise<void> {
    this.fault = this.failure;
    if (this.fault !== null) throw this.fault;
    const writer = `${this.lease.token}.${++this.commits}`;
    const bytes = encode(value, writer, this.stream);
    const what = `committing cursor ${this.key} at offset ${value.offset}`;
    try {
      await this.ride.run(what, (_, current) => this.write(bytes, writer, current));
      this.committed = value.offset;
    } catch (e) {
      this.fault = e instanceof LogError ? e : new LogError(ErrorCode.IO, `${what} failed: ${(e as Error)?.message ?? String(e)}`, { offset: value.offset }, { cause: e });
      throw this.fault;
    }
  }

  /**
   * After a commit refused for the full store: nats-server (2.9) checks the account's limit (10002)
   * after storing the write, which removed the entry's last value (one per key), then removes the
   * write, leaving no entry, and a reopen would start at the initial position. The last value is
   * written back (it fit before; best effort, the refusal is still thrown).
   */
  private async restore(): Promise<void> {
    if (await this.kv.get(this.key).catch(() => undefined) !== null) return; // still there, or unreadable
    this.revision = await this.kv.create(this.key, this.last).catch(() => this.revision);
  }

  /**
   * Writes the entry over the revision last written. Refused for its revision: the entry holds this
   * very write (a try that timed out and was stored anyway), whose revision is adopted, or another
   * consumer's commit, which fences this one off with ERR_CURSOR_LOCKED.
   */
  private async write(bytes: Uint8Array, writer: string, current: () => boolean): Promise<void> {
    try {
      const revision = await this.kv.update(this.key, bytes, this.revision);
      if (current()) [this.revision, this.last] = [revision, bytes]; // a try cut at the bound: the next try reads it back
      return;
    } catch (e) {
      if (serverStoreFull(e) && current()) await this.restore();
      if (!/wrong last sequence/i.test((e as Error)?.message ?? '') || !current()) throw e;
      const entry = await this.kv.get(this.key);
      if (entry !== null && entry.operation === 'PUT' && writerOf(entry.value) === writer && current()) {
        [this.revision, this.last] = [entry.revision, bytes];
        return;
      }
      throw new LogError(ErrorCode.CURSOR_LOCKED, `cursor ${this.key} was taken over or committed by another consumer since this one last wrote it (its lease expired): this consumer is fenced off`, {}, { cause: e });
    }
  }
}
