/**
 * The shared-memory layout between the producer (main thread), the writer worker and in-process
 * readers. Both sides import this one module; nothing else defines an index into shared memory.
 *
 * Two SharedArrayBuffers:
 * - the control block: `Int32Array` slots for positions, flags and wake-up counters, and
 *   `BigInt64Array` slots for record offsets (which outgrow 32 bits);
 * - the ring: `ringBytes` bytes (a power of two) holding records as `[u32 length LE][bytes]`, exactly the
 *   bytes a frame body stores on disk, so the writer writes straight from the ring.
 *
 * Ring positions (HEAD, TAIL) are byte counters modulo 2^32; the ring index is `counter & (size - 1)`,
 * consistent because the size divides 2^32. A record never wraps: when fewer than 4 bytes remain before
 * the ring's end the writer and producer both skip them, and when a record does not fit before the end
 * the producer writes a WRAP marker (length 0xFFFFFFFF) and continues at index 0.
 *
 * The verbs at the end (wakeWriter, failLog, publishedEnd, endSeq) are the protocol's shared steps:
 * every thread that wakes the writer, fails the log or reads the published end goes through them.
 */
import { ErrorCode } from '../errors.js';


/** Int32 slot indices. */
export const I32 = {
  /** Producer: bytes published (counter mod 2^32). Store after the record bytes are written. */
  HEAD: 0,
  /** Writer: bytes released back to the producer (written to the segment file). */
  TAIL: 1,
  /** Writer sets 1 before it sleeps on WRITER_WAKE; others bump WRITER_WAKE only when it is set. */
  WRITER_SLEEPING: 2,
  /** Producer sets 1 before it waits on TAIL for space; the writer notifies TAIL only when it is set. */
  PRODUCER_WAITING: 3,
  /** Lifecycle, one of `State`. */
  STATE: 4,
  /** When STATE is FAILED: one of `FailureCode`. */
  FAILURE: 5,
  /** Incremented (then notified) each time WRITTEN_OFFSET advances; readers wait on it. */
  WRITTEN_SEQ: 6,
  /** Incremented (then notified) each time DURABLE_OFFSET advances or the writer fails; flush() waits on it. */
  DURABLE_SEQ: 7,
  /** Incremented (then notified) each time LOG_START_OFFSET advances (retention). */
  START_SEQ: 8,
  /**
   * The writer sleeps on this counter. Anything that needs the writer (new records, flush, close)
   * changes its state first, then bumps this counter and notifies, so a wake-up is never lost: the
   * writer reads the counter before it re-checks its work, and Atomics.wait returns at once if the
   * counter moved since.
   */
  WRITER_WAKE: 9,
  /** 1 while retention keeps the writer from writing (backpressure), else 0. */
  RETENTION_BLOCKED: 10,
  /**
   * 1 from the moment a roll publishes its durable offset until the retention it applies is done, then
   * DURABLE_SEQ is bumped: flush() does not return meanwhile, so a flush that resolves after a roll
   * sees the roll and its retention done.
   */
  ROLL_PENDING: 11,
  /**
   * Control calls posted to the writer's control port and not yet taken (src/writer/control-port.ts):
   * the handle adds 1 after it posted a call, then wakes the writer; the writer takes the count back
   * to 0 between two groups of records and answers every call the port holds.
   */
  CONTROL_CALLS: 12,
  /**
   * The writer thread's id where /proc names threads (Linux), else 0: an attached handle on another
   * thread looks for /proc/self/task/<id> while it waits, to see a writer that ended with its owner's
   * thread (a terminated worker) without running any code that could fail the log.
   */
  WRITER_TID: 13,
  /**
   * The writer thread waits on this slot before it touches the directory (one of `Gate`): the opener
   * starts the thread first and stores GO once it holds the directory's lock, or STOP when the open
   * is refused, so the thread's start overlaps the opener's own steps.
   */
  START_GATE: 14,
  /** The ring's size in bytes, stored once at open: Producer.attach checks a token's ring against it. */
  RING_BYTES: 15,
} as const;

/** The values of I32.START_GATE. */
export const Gate = { WAIT: 0, GO: 1, STOP: 2 } as const;

/** BigInt64 slot indices (each 8 bytes, after the Int32 slots). */
export const I64 = {
  /** Every offset below this is written to a segment file (visible to readers). */
  WRITTEN_OFFSET: 0,
  /** Every offset below this is fsynced. */
  DURABLE_OFFSET: 1,
  /** The first offset still stored; retention raises it before it unlinks a segment. */
  LOG_START_OFFSET: 2,
  /** flush() stores the offset it needs durable here (a max), then wakes the writer. */
  FLUSH_TARGET: 3,
  /**
   * The ring's id, stored once at open beside the same number in the ring's lead bytes
   * (src/ring/ring-memory.ts): Producer.attach refuses a token whose ring is not this block's ring.
   */
  RING_ID: 4,
  /** One more than the first offset of the frames this block's writer wrote lately, 0: none (src/ring/writer-frames.ts). */
  FRESH_FROM: 5,
} as const;

/**
 * Names this layout of the control block, the ring and the writer's stats block. Raise it with any
 * change to the slots, the stats block (src/writer/writer-stats.ts) or the ring's record format: it
 * keys the process-wide table of producers (src/producer/registry.ts), so two copies of the module
 * with different layouts never read each other's shared memory.
 */
export const CONTROL_LAYOUT_VERSION = 9;

export const CONTROL_I32_SLOTS = 16;
export const CONTROL_I64_SLOTS = 8;

/**
 * The append lock's own cache line, at byte APPEND_LINE_BYTE of the control block: the lock word and
 * its sleepers are written on every append of a shared producer, and the writer spins reading HEAD
 * and STATE; on one cache line with those, each taking of the lock would pull the line away from the
 * writer (false sharing). The bytes between the BigInt64 slots and this line stay unused, so the line
 * holds nothing else whatever the buffer's alignment (at least 16 bytes).
 */
export const APPEND_LINE_BYTE = 192;
/** Int32 slots on the append lock's line (src/ring/append-lock.ts, src/producer/shared-appends.ts). */
export const APPEND = {
  /** 0 free, else the holder's stamp. Taken around each append of every handle once the producer is shared. */
  LOCK: 0,
  /** How many takers sleep on LOCK: release notifies only when there are some. */
  WAITERS: 1,
  /** 1 once the producer is shared: every handle then appends under the lock. */
  SHARED: 2,
  /** 1 from a release's wake-up until the sleeper it woke runs: releases meanwhile wake nobody more. */
  WAKING: 3,
  /** 1 while the holder waits for room in a full ring (src/ring/room-wait.ts). */
  ROOM_WAIT: 4,
  /** Bumped by each wait for room that ran out (ERR_LOG_FULL): the lock's waiters give up after it too. */
  FULL_SEQ: 5,
  /** Bumped by the holder as it measures and copies a batch (after slots 6 and 7, NEXT_OFFSET_BYTE's): a waiter's stall bound counts from its last move. */
  PROGRESS: 8,
} as const;
/** A batch's appender says it is under way to the threads waiting for the append lock (APPEND.PROGRESS). */
export function appendProgress(c: ControlViews): void {
  Atomics.add(c.append, APPEND.PROGRESS, 1);
}

/**
 * The next offset of a shared producer (unused until share()), a float64 on the lock's line: read and
 * written under the lock, whose taking and release order those plain accesses, and a plain number
 * costs no BigInt per append.
 */
const NEXT_OFFSET_BYTE = APPEND_LINE_BYTE + 24;
export const CONTROL_BYTES = APPEND_LINE_BYTE + 64;

export const State = {
  RUNNING: 0,
  /** close() asked the writer to drain, fsync and stop. */
  CLOSING: 1,
  CLOSED: 2,
  FAILED: 3,
} as const;

/** Why the log failed, as a number for the FAILURE slot; FAILURE_TO_ERROR names the error code. */
export const FailureCode = {
  /** No cause recorded (the thread died without saying why). */
  NONE: 0,
  IO: 1,
  DISK_FULL: 2,
  CORRUPT: 3,
  /** A broken internal invariant (ERR_INTERNAL). */
  INTERNAL: 4,
  /** Any other error stopped the writer. */
  WRITER: 5,
  /** A producer thread stopped inside an append, holding the append lock. */
  PRODUCER_STALLED: 6,
  /** The owning producer's destroy() stopped the log on purpose: not a failure (ERR_LOG_CLOSED). */
  DESTROYED: 7,
} as const;

export type FailureCode = (typeof FailureCode)[keyof typeof FailureCode];

/** The one mapping between the FAILURE slot and error codes; both threads use it. */
export const FAILURE_TO_ERROR: Readonly<Record<FailureCode, ErrorCode>> = {
  [FailureCode.NONE]: ErrorCode.WRITER_FAILED,
  [FailureCode.IO]: ErrorCode.IO,
  [FailureCode.DISK_FULL]: ErrorCode.DISK_FULL,
  [FailureCode.CORRUPT]: ErrorCode.LOG_CORRUPT,
  [FailureCode.INTERNAL]: ErrorCode.INTERNAL,
  [FailureCode.WRITER]: ErrorCode.WRITER_FAILED,
  [FailureCode.PRODUCER_STALLED]: ErrorCode.PRODUCER_STALLED,
  [FailureCode.DESTROYED]: ErrorCode.LOG_CLOSED,
};

/** FAILURE_TO_ERROR read backwards; WRITER_FAILED comes back as WRITER, the last code that names it. */
const ERROR_TO_FAILURE: ReadonlyMap<ErrorCode, FailureCode> = new Map(
  Object.values(FailureCode).map((f) => [FAILURE_TO_ERROR[f], f] as const),
);

/** The failure code to store for an error with `code`: the table's code for it, else WRITER. */
export function failureCodeOf(code: ErrorCode): FailureCode {
  return ERROR_TO_FAILURE.get(code) ?? FailureCode.WRITER;
}

/** The error code of a failed log's FAILURE slot (an unknown number reads as WRITER_FAILED). */
export function failureError(c: ControlViews): ErrorCode {
  return FAILURE_TO_ERROR[Atomics.load(c.i32, I32.FAILURE) as FailureCode] ?? ErrorCode.WRITER_FAILED;
}

/** Ring record header: the payload length, little endian. */
export const RECORD_HEADER_BYTES = 4;
/** A length of 0xFFFFFFFF in the ring means "continue at index 0". Never stored on disk. */
export const WRAP_MARKER = 0xffffffff;
/**
 * A length of 0xFFFFFFFE in the ring starts a batch (appendBatch): `[marker][u32 record count][u32
 * bytes]`, then that many records in that many bytes, contiguous. The writer puts them in one frame,
 * so that a crash keeps all of them or none. The marker is never stored on disk.
 */
export const BATCH_MARKER = 0xfffffffe;
export const BATCH_HEADER_BYTES = 12;

export interface SharedLog {
  readonly control: SharedArrayBuffer;
  readonly ring: SharedArrayBuffer;
  /** The writer's counters (src/writer/writer-stats.ts); a writer without it keeps them to itself. */
  readonly stats?: SharedArrayBuffer;
}

export interface ControlViews {
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  /** The append lock's line: APPEND slots. */
  readonly append: Int32Array;
  /** The next offset of a shared producer (see NEXT_OFFSET_BYTE), one element. */
  readonly nextOffset: Float64Array;
}

export function controlViews(control: SharedArrayBuffer): ControlViews {
  return {
    i32: new Int32Array(control, 0, CONTROL_I32_SLOTS),
    i64: new BigInt64Array(control, CONTROL_I32_SLOTS * 4, CONTROL_I64_SLOTS),
    append: new Int32Array(control, APPEND_LINE_BYTE, APPEND.PROGRESS + 1),
    nextOffset: new Float64Array(control, NEXT_OFFSET_BYTE, 1),
  };
}

export function loadOffset(c: ControlViews, slot: number): number {
  return Number(Atomics.load(c.i64, slot));
}

export function storeOffset(c: ControlViews, slot: number, value: number): void {
  Atomics.store(c.i64, slot, BigInt(value));
}

/** Raises the offset in `slot` to `value` unless it is higher already (a max that concurrent raisers cannot lower). */
export function raiseOffset(c: ControlViews, slot: number, value: number): void {
  const v = BigInt(value);
  for (;;) {
    const cur = Atomics.load(c.i64, slot);
    if (cur >= v || Atomics.compareExchange(c.i64, slot, cur, v) === cur) return;
  }
}

/** Adds one to a wake-up counter and wakes every waiter on it. */
export function bump(c: Pick<ControlViews, 'i32'>, slot: number): void {
  Atomics.add(c.i32, slot, 1);
  Atomics.notify(c.i32, slot);
}

/**
 * Wakes the writer. The caller changes what the writer must see (HEAD, STATE, FLUSH_TARGET) first;
 * the counter moves after it, so a writer that read the counter before re-checking its work cannot
 * sleep through the change (see I32.WRITER_WAKE).
 */
export function wakeWriter(c: ControlViews): void {
  bump(c, I32.WRITER_WAKE);
}

/**
 * Marks the log FAILED with `code` and wakes everyone who might wait on the writer: appenders (TAIL),
 * flushers (DURABLE_SEQ), readers (WRITTEN_SEQ) and the writer itself. FAILURE is stored before STATE, so whoever sees
 * FAILED reads its cause. The first failure wins, and a log that CLOSED stays closed. Called by the
 * writer thread when it fails and by the producer when the thread dies or is destroyed.
 */
export function failLog(c: ControlViews, code: FailureCode): void {
  const state = Atomics.load(c.i32, I32.STATE);
  if (state === State.CLOSED || state === State.FAILED) return;
  Atomics.store(c.i32, I32.FAILURE, code);
  Atomics.store(c.i32, I32.STATE, State.FAILED);
  Atomics.notify(c.i32, I32.TAIL);
  bump(c, I32.DURABLE_SEQ);
  bump(c, I32.WRITTEN_SEQ);
  wakeWriter(c); // a writer failed by another thread drains what the ring holds and stops
}

/**
 * What a reader waits for: records written to the segment files (visible to readers) or records
 * fsynced too. Each has its published end (an I64 offset) and a counter bumped when that end moves.
 */
export type Visibility = 'written' | 'durable';

/** The slots that publish the end of `visibility`: the offset and its counter. */
export function endSlots(visibility: Visibility): { readonly offsetSlot: number; readonly seqSlot: number } {
  return visibility === 'durable' ? DURABLE_END : WRITTEN_END;
}

const WRITTEN_END = { offsetSlot: I64.WRITTEN_OFFSET, seqSlot: I32.WRITTEN_SEQ } as const;
const DURABLE_END = { offsetSlot: I64.DURABLE_OFFSET, seqSlot: I32.DURABLE_SEQ } as const;

/** The first offset still stored, as the writer publishes it (retention raises it). */
export function publishedStart(c: ControlViews): number {
  return loadOffset(c, I64.LOG_START_OFFSET);
}

/** True while the writer publishes ends: RUNNING, or CLOSING (still draining the ring). */
export function writerPublishing(c: ControlViews): boolean {
  const state = Atomics.load(c.i32, I32.STATE);
  return state === State.RUNNING || state === State.CLOSING;
}

/** Every offset below this is published at `visibility`. */
export function publishedEnd(c: ControlViews, visibility: Visibility): number {
  return loadOffset(c, endSlots(visibility).offsetSlot);
}

/**
 * The counter of `visibility`'s end. Read it before publishedEnd and wait on it (Atomics.wait on
 * endSlots(visibility).seqSlot) with the value read: an end that moves in between is not missed.
 */
export function endSeq(c: ControlViews, visibility: Visibility): number {
  return Atomics.load(c.i32, endSlots(visibility).seqSlot);
}

/**
 * Whether a record of `bytes` payload bytes fits a ring of `ringBytes` now without waiting: the sums
 * of RingAppender's reserve(), on the published head (which, between appends, is every handle's head).
 */
export function ringHasRoom(c: ControlViews, ringBytes: number, bytes: number): boolean {
  const need = RECORD_HEADER_BYTES + bytes;
  const head = Atomics.load(c.i32, I32.HEAD) >>> 0;
  const free = ringBytes - ((head - (Atomics.load(c.i32, I32.TAIL) >>> 0)) >>> 0);
  const room = ringBytes - (head & (ringBytes - 1));
  if (room >= need) return free >= need;
  // Wraps: the bytes before the end are skipped, then `need` from index 0 (see reserve()). A record
  // that cannot fit beside what is before the skip waits for the writer to take everything first:
  // fits "now" only once the ring is empty.
  return room + need > ringBytes ? free === ringBytes : free >= room + need;
}
