/**
 * A transactional cursor on JetStream: the next offset and the state in one entry of the cursors
 * bucket (`client.<id>`), each commit written with the revision of the last one. So a commit is
 * atomic (offset and state together), and a stale owner (one whose lease expired and whose cursor
 * another consumer has committed since) fails its next commit with ERR_CURSOR_LOCKED instead of
 * moving the cursor. One owner at a time is held by a lease (lease.ts): a second opener gets
 * ERR_CURSOR_LOCKED.
 *
 * Group commit as locally: `advance` moves the cursor in memory and commits per `everyRecords` /
 * `everyMs`; a commit is also made before the consumer waits and when it closes. Commits run one at
 * a time, in order; the promise a commit returns is awaited before the next record is handed out.
 */
import type { KV } from '@nats-io/kv';
import type { CursorStore } from '../consumer/log-source.js';
import { PendingCommit } from '../cursor/pending-commit.js';
import { ErrorCode, LogError } from '../errors.js';
import { Lease } from './lease.js';
import type { Session } from './session.js';

/** The entry's value: `{"v":1,"offset":n,"state":"<base64>"|null}`. */
interface CursorValue {
  readonly offset: number;
  readonly state: Uint8Array | null;
}

function encode(v: CursorValue): Uint8Array {
  return Buffer.from(JSON.stringify({ v: 1, offset: v.offset, state: v.state === null ? null : Buffer.from(v.state).toString('base64') }));
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

export class KvCursor implements CursorStore {
  /** The next offset and state, ahead of the committed entry within a group. */
  private readonly pending: PendingCommit;
  private committed: number;
  /** The commits in flight, one after the other. */
  private chain: Promise<void> = Promise.resolve();
  private failure: LogError | null = null;
  private closed = false;

  private constructor(
    private readonly kv: KV,
    private readonly key: string,
    private revision: number,
    value: CursorValue,
    /** True while the entry holds only the value it was created with. */
    readonly created: boolean,
    private readonly lease: Lease,
    everyRecords: number,
    everyMs: number | null,
  ) {
    this.pending = new PendingCommit(value.offset, value.state, everyRecords, everyMs);
    this.committed = value.offset;
  }

  /** Takes the cursor's lease (ERR_CURSOR_LOCKED while a live consumer has it) and reads or creates its entry. */
  static async open(session: Session, name: string, initialOffset: number, everyRecords: number, everyMs: number | null): Promise<KvCursor> {
    const lease = await Lease.take(await session.leases(), `cursor.${name}`, session.options.leaseMs, ErrorCode.CURSOR_LOCKED, `cursor ${name}`);
    try {
      const kv = await session.cursors();
      const entry = await kv.get(name);
      if (entry !== null && entry.operation === 'PUT') {
        return new KvCursor(kv, name, entry.revision, decode(entry.value, name), false, lease, everyRecords, everyMs);
      }
      const value = { offset: initialOffset, state: null };
      const revision = await kv.create(name, encode(value));
      return new KvCursor(kv, name, revision, value, true, lease, everyRecords, everyMs);
    } catch (e) {
      await lease.release();
      throw e;
    }
  }

  get nextOffset(): number {
    return this.pending.nextOffset;
  }

  get committedOffset(): number {
    return this.committed;
  }

  get currentState(): Uint8Array | null {
    return this.pending.state;
  }

  advance(offset: number, state: Uint8Array | null | undefined): void | Promise<void> {
    if (this.closed) throw LogError.closed('consumer');
    if (this.failure !== null) throw this.failure;
    if (this.pending.advance(offset, state)) return this.sync();
  }

  sync(): void | Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
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

  async drop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lease.release();
  }

  private async commit(value: CursorValue): Promise<void> {
    if (this.failure !== null) throw this.failure;
    try {
      this.revision = await this.kv.update(this.key, encode(value), this.revision);
      this.committed = value.offset;
    } catch (e) {
      const message = (e as Error).message ?? String(e);
      this.failure = /wrong last sequence/i.test(message)
        ? new LogError(ErrorCode.CURSOR_LOCKED, `cursor ${this.key} was committed by another consumer since this one last committed (its lease expired): this consumer is fenced off`, {}, { cause: e })
        : new LogError(ErrorCode.IO, `committing cursor ${this.key} at offset ${value.offset} failed: ${message}`, { offset: value.offset }, { cause: e });
      throw this.failure;
    }
  }
}
