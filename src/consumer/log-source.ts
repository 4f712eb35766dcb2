/**
 * The seam between the consumer's semantics and the storage engine a log lives in. Everything above
 * it (RecordFeed: the record in hand, completion, enter/leave; the processing loop with its outcomes
 * and retries; the tail iterator; dead letters; pools) is written once; below it sit the local
 * segment files (local-source.ts) and the JetStream backend (src/jetstream/).
 *
 * Three parts, by how often they are called:
 * - RecordReader: read() is the per-record path (one call per record handed out, nothing else);
 * - LogSource: how far the reader may go, waiting for more, lag, the pool's end: once per batch;
 * - CursorStore: the durable cursor and its state, with an owner fence (a lock file, a KV revision).
 *
 * The local implementations are the classes that were there before the seam (LogReader, TxCursor):
 * the per-record call sites are the same, so the local hot path pays nothing for it. The async
 * engine returns promises where a call must wait (commit, fill); the local one returns plain values,
 * and the callers await only what is a promise.
 */
import type { CursorLag, Message } from '../types.js';
import type { LogError } from '../errors.js';
import type { EndSource } from './pool-protocol.js';
import type { DirIdentity } from '../reader/dir-identity.js';

/** How far the reader may go, and whether that bound was published by this process's writer. */
export interface ReadLimit {
  /** The reader hands out records below this offset (Infinity: whatever it finds whole). */
  readonly limitOffset: number;
  /** Every record below `limitOffset` must be readable (a missing one is damage, not "not yet"). */
  readonly strict: boolean;
}

/** Reads records in offset order from where it was placed. */
export interface RecordReader {
  /** The offset of the record read() returns next. */
  readonly nextOffset: number;
  /** The next record below `limitOffset`, or null when there is none yet. Called once per record. */
  read(limitOffset: number, strict: boolean): Message | null;
  /** Places the reader so that read() returns `offset` next. */
  seek(offset: number): void;
  /** A local start by time still passing over the records stored before its time (LogReader.passOverStoredBefore). */
  readonly passingOver?: boolean;
  /**
   * An async engine's reader, which cannot seek back: takes back records it handed out (the last
   * ones, in order) to hand them out again first. A pool round on a backend gives back what it read
   * past the records done.
   */
  unread?(records: readonly Message[]): void;
  close(): void;
}

/** The per-batch side of the log a consumer reads (see the module comment). */
export interface LogSource {
  /** Identifies the log: with an offset it makes an idempotency key (ctx.logId). */
  readonly logId: string;
  /**
   * Which log of that id this is, when the id can name several over time and the backend keeps a
   * token of it (a JetStream stream deleted and created again under its name starts its offsets over:
   * its creation time), else undefined. It scopes the dead letters' dedup keys, so a record of the new
   * log is not taken for an old one's (the key also holds the record's timestamp and a digest of its
   * bytes, which tell a local log directory made again at its path from the old one: dead-letter.ts).
   */
  readonly incarnation?: string | null;
  /** A local log: its directory's device and inode at the open, which pool workers' readers check too (dir-identity.ts). */
  readonly dirIdentity?: DirIdentity;
  /** Whether records can be read without waiting for I/O (iter(), a nonblocking loop without fill). */
  readonly synchronous: boolean;
  /** Whether the consumer's worker pools can read this log (the segment files, or a shared window: poolWindowBytes). */
  readonly supportsPools: boolean;
  /**
   * The arena size of a pool round's shared record window (src/consumer/pool-window.ts) when the
   * workers cannot read the log themselves; null: they read the segment files.
   */
  poolWindowBytes(): number | null;
  /** An async engine: reads the log's end anew, so availableEndOffset() is now's (a nonblocking pool call starts). */
  refreshEnd?(signal: AbortSignal | undefined): Promise<void>;
  /** How far `reader` may read now. */
  readLimit(reader: RecordReader): ReadLimit;
  /**
   * A synchronous engine's nonblocking call or iteration starts (`fixed`) or ends: while fixed,
   * `reader` reads no further than the log's end at the start, also where readLimit() sets no offset.
   */
  fixEnd?(reader: RecordReader, fixed: boolean): void;
  /**
   * Async engines: fetches what the log holds now, past `reader`, so read() can hand it out; resolves
   * false when there is nothing more. Synchronous engines: false (read() already sees everything).
   */
  fill(reader: RecordReader, signal: AbortSignal | undefined): Promise<boolean> | false;
  /** Waits (bounded) for records at or past `afterOffset`; ends early on abort or stopWaiting(). */
  wait(reader: RecordReader, afterOffset: number, signal: AbortSignal | undefined): Promise<void>;
  /** An iteration or call starts (an async engine forgets an outage the call before it gave up in). */
  callStarts?(): void;
  /** The iteration or call that waited ended: stop listening to its signal. */
  disarm(): void;
  /** close() or destroy(): every wait ends now, and no new one blocks. */
  stopWaiting(): void;
  /** The offset below which records may be handed out now. */
  availableEndOffset(reader: RecordReader): number;
  /** How far `nextOffset` is behind `endOffset`. */
  lag(nextOffset: number, endOffset: number): CursorLag;
  /** The shared end a pool's workers watch, when the producer runs in this process; else null. */
  endSource(): EndSource | null;
  /** Releases what the source holds (connections, watches); the reader is closed separately. */
  close(): void | Promise<void>;
}

/**
 * A transactional cursor: the next offset and the state, durable once synced, held by one owner.
 * `advance` moves it in memory and syncs per the group commit; `sync` makes it durable. An engine
 * whose commit is asynchronous returns the commit's promise; the caller awaits it before handing out
 * the next record, so a committed record is never delivered again.
 */
export interface CursorStore {
  /** The durable cursor: every record below it is committed. */
  readonly committedOffset: number;
  /** The latest state value (in memory). */
  readonly currentState: Uint8Array | null;
  /** Marks records below `offset` done, with a new state value (undefined keeps the last one). */
  advance(offset: number, state: Uint8Array | null | undefined): void | Promise<void>;
  /**
   * Set when the store can commit nothing more (on JetStream: fenced off by the cursor's new owner, or
   * no commit within its bound): no new call or iteration hands out a record, it fails with this.
   */
  readonly failure?: LogError | null;
  /** An asynchronous store: a commit's try failed and nothing succeeded since; it is being retried. */
  inDoubt?(): boolean;
  /** The largest state value the store commits, when less than a local cursor's 64 KiB. */
  readonly maxStateBytes?: number;
  /** Makes the in-memory cursor (and state) durable, if it moved. */
  sync(): void | Promise<void>;
  /** Syncs, then releases the owner fence. */
  close(): void | Promise<void>;
  /** Releases the owner fence without committing (destroy). */
  drop(): void | Promise<void>;
}
