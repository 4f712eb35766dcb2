/**
 * The producer's side of the ring: copy a record in, publish it, wake the writer if it sleeps.
 * Runs on the producer's thread; synchronous; allocates nothing per record.
 *
 * Ordering, per record: write the length and the bytes, then Atomics.store(HEAD) (publish), then load
 * WRITER_SLEEPING and wake the writer (wakeWriter) only if it is set (the writer sets it before
 * re-checking HEAD, so either it sees our HEAD or we see its flag).
 */
import { ErrorCode, LogError } from '../errors.js';
import { AttributeEncoder, RECORD_ATTRIBUTES_FLAG, RECORD_LENGTH_MASK, type AppendOptions } from '../format/record.js';
import { describe } from '../validate.js';
import { SharedCopy } from './shared-copy.js';
import { PROGRESS_RECORDS, batchLength, changedDedupKey, changedOptions, checkRecord, detached, isBytes, measureBatch, notData, recordTooLarge, reentered, resizedData, unusable, wellFormedData, type AppenderHooks, type BatchRecord } from './record-checks.js';
import { BATCH_HEADER_BYTES, BATCH_MARKER, I32, RECORD_HEADER_BYTES, State, WRAP_MARKER, appendProgress, wakeWriter, type ControlViews } from './layout.js';
import { ringBytesOf, ringSize, ringViewOf } from './ring-memory.js';
import { waitForRoom } from './room-wait.js';
export type { AppenderHooks, BatchRecord } from './record-checks.js';

/** Strings up to this many UTF-16 units are encoded straight into the ring (3 bytes per unit at most). */
const DIRECT_STRING_UNITS = 4096;
/** ... when the record's attributes take at most this many bytes: the space reserved stays small. */
const DIRECT_ATTRIBUTE_BYTES = 4096;
/** The free bytes past a record's data that make append() try to encode its attributes straight into the ring. */
const DIRECT_ATTRIBUTE_MIN_ROOM = 64;
/** appendRun copies and publishes at most this many bytes at a time (a record longer than that alone). */
const RUN_PIECE_BYTES = 256 * 1024;

export class RingAppender {
  private head: number;
  /** TAIL as last loaded: never ahead of the writer's (free space reckoned from it is never more than there is); reserve() loads TAIL only when it says too little. */
  private tailSeen: number;
  private readonly size: number;
  private readonly mask: number;
  private readonly bytes: Buffer;
  private readonly view: DataView;
  private readonly attributes: AttributeEncoder;
  /** Whether the last record's attribute block was encoded in the ring (else in the encoder's buffer). */
  private blockInRing = false;
  /** While append() reads a record's options or appendBatch() its records, which may run the caller's code (getters): an append from there is refused. */
  private reading = false;
  /** Copies record bytes into the ring at memory speed whatever their alignment. */
  private readonly copier: SharedCopy;
  /** appendBatch's records as checked: their data, their key and headers, and per record its attribute and payload bytes. Reused. */
  private readonly batchData: (Uint8Array | string)[] = [];
  private readonly batchOpts: (AppendOptions | undefined)[] = [];
  private readonly batchSizes: number[] = [];
  /** When a shared producer's append began to wait for the lock (performance.now()), else -1: its wait for room counts from there. */
  private waitFrom = -1;

  constructor(
    private readonly c: ControlViews,
    ring: SharedArrayBuffer,
    private readonly maxRecordBytes: number,
    private readonly appendTimeoutMs: number,
    /** Throws the error that explains why the log stopped accepting records. */
    private readonly stopped: () => never,
    /** Whether the producer has a dedup window (a dedup key is refused without one). */
    dedupKeys = false,
    /** An attached handle's own checks (its close, the writer thread's presence). */
    private readonly hooks: AppenderHooks | null = null,
  ) {
    this.attributes = new AttributeEncoder(dedupKeys);
    this.bytes = ringBytesOf(ring);
    this.copier = new SharedCopy(this.bytes);
    this.view = ringViewOf(ring);
    this.size = ringSize(ring);
    this.mask = this.size - 1;
    this.head = Atomics.load(c.i32, I32.HEAD) >>> 0;
    this.tailSeen = Atomics.load(c.i32, I32.TAIL) >>> 0;
  }

  /**
   * Checks a record as append() would, copying nothing (record-checks.ts checkRecord); its dedup key
   * must be `dedupKey`, the one the window looked up. As in append(), the options' getters run with
   * appends of this handle refused, and a log or handle they closed fails the call.
   */
  check(data: Uint8Array | string, opts: AppendOptions | undefined, dedupKey: string): void {
    if (this.reading) throw reentered();
    this.reading = true;
    try {
      checkRecord(this.attributes, data, opts, this.maxRecordBytes);
    } finally {
      this.reading = false;
    }
    if (this.attributes.dedupKey !== dedupKey) throw changedDedupKey();
    this.checkOpen();
  }
  /** Throws what an append made from inside another append of this handle gets (see `reading`). */
  refuseReentry(error: () => LogError = reentered): void {
    if (this.reading) throw error();
  }

  /**
   * Takes the ring's published head as its own: a shared producer's handles move it in turns
   * (src/producer/shared-appends.ts). `waitFrom`: when the append began to wait for the lock, or -1.
   */
  resumeAtHead(waitFrom: number): void {
    this.waitFrom = waitFrom;
    this.head = Atomics.load(this.c.i32, I32.HEAD) >>> 0;
    // Other handles may have gone round the ring many times since this one last looked.
    this.tailSeen = Atomics.load(this.c.i32, I32.TAIL) >>> 0;
  }

  /** Copies one record into the ring and publishes it; `opts` is checked and encoded before anything is reserved, its dedup key must be `dedupKey` (the one the caller's window looked up). */
  append(data: Uint8Array | string, opts?: AppendOptions, dedupKey?: string): void {
    if (this.reading) throw reentered();
    // A record without attributes pays one comparison for them: its length word and bytes are those of format 1.
    let attrLen = 0;
    if (opts !== undefined) {
      this.reading = true;
      try {
        attrLen = this.encodeAttributes(opts, data);
      } finally {
        this.reading = false;
      }
      if (this.attributes.dedupKey !== dedupKey) throw changedDedupKey();
      this.checkOpen(); // the getters may have closed the log or the handle: a record copied now would never be written
    }
    const H = RECORD_HEADER_BYTES + attrLen; // where the data starts, from the record's start
    let at: number;
    let len: number; // the payload: attributes and data
    if (typeof data === 'string') {
      wellFormedData(data); // before anything is reserved; 3 bytes a UTF-16 unit only when that fits now (no wait for room it does not need)
      if (data.length <= DIRECT_STRING_UNITS && attrLen <= DIRECT_ATTRIBUTE_BYTES && this.fitsNow(H + data.length * 3)) {
        at = this.reserve(H + data.length * 3);
        len = attrLen + this.bytes.write(data, at + H);
        if (len > this.maxRecordBytes) throw recordTooLarge(len, this.maxRecordBytes);
      } else {
        len = attrLen + Buffer.byteLength(data, 'utf8');
        if (len > this.maxRecordBytes) throw recordTooLarge(len, this.maxRecordBytes);
        at = this.reserve(RECORD_HEADER_BYTES + len);
        this.bytes.write(data, at + H, len - attrLen);
      }
    } else if (isBytes(data)) {
      len = attrLen + data.byteLength;
      if (len > this.maxRecordBytes) throw recordTooLarge(len, this.maxRecordBytes);
      // Checked before anything is reserved: a refused record leaves the ring and the offsets as they were.
      if (data.byteLength === 0 && unusable(data)) throw detached();
      at = this.reserve(RECORD_HEADER_BYTES + len);
      this.copier.copy(data, at + H);
    } else {
      throw notData(data);
    }
    if (attrLen === 0) {
      this.view.setUint32(at, len, true);
    } else {
      if (!this.blockInRing) this.attributes.copyTo(this.bytes, at + RECORD_HEADER_BYTES, attrLen);
      this.view.setUint32(at, (len | RECORD_ATTRIBUTES_FLAG) >>> 0, true);
    }
    this.head = (this.head + RECORD_HEADER_BYTES + len) >>> 0;
    this.publish();
  }

  /**
   * Encodes the attribute block of a record of `data`. When the record surely fits the free space
   * at the head without a wrap, straight into the ring after the record's length word, where
   * reserve() will find it (nothing there is published until the head moves); otherwise into the
   * encoder's buffer. Returns the block's length; `blockInRing` says where it went.
   */
  private encodeAttributes(opts: AppendOptions, data: Uint8Array | string): number {
    const dataBound = typeof data === 'string' ? data.length * 3 : isBytes(data) ? data.byteLength : -1;
    if (dataBound >= 0) {
      const idx = this.head & this.mask;
      const start = idx + RECORD_HEADER_BYTES;
      const contiguous = this.size - idx;
      let room = Math.min(contiguous, this.size - ((this.head - this.tailSeen) >>> 0)) - RECORD_HEADER_BYTES - dataBound;
      if (room < DIRECT_ATTRIBUTE_MIN_ROOM) room = Math.min(contiguous, this.size - this.used()) - RECORD_HEADER_BYTES - dataBound;
      if (room >= DIRECT_ATTRIBUTE_MIN_ROOM) {
        const n = this.attributes.encodeInto(opts, this.bytes, start, start + room);
        // The options may run the caller's code (getters): if that resized the data's buffer, the
        // room reckoned above no longer holds, and the block goes through the encoder's buffer.
        this.blockInRing = n >= 0 && (typeof data === 'string' || data.byteLength === dataBound);
        if (this.blockInRing) return n;
      }
    }
    this.blockInRing = false;
    return this.attributes.encode(opts);
  }

  /** append() of bytes without options: format 1's length word and bytes; small enough that V8 inlines it, with reserve() and publish(), into the caller's loop. */
  appendPlain(data: Uint8Array): void {
    if (this.reading) throw reentered();
    const len = data.byteLength;
    if (len > this.maxRecordBytes) throw recordTooLarge(len, this.maxRecordBytes);
    if (len === 0 && unusable(data)) throw detached();
    const at = this.reserve(RECORD_HEADER_BYTES + len);
    this.copier.copy(data, at + RECORD_HEADER_BYTES);
    this.view.setUint32(at, len, true);
    this.head = (this.head + RECORD_HEADER_BYTES + len) >>> 0;
    this.publish();
  }

  /**
   * Copies a batch into the ring behind a batch marker and publishes it once (the writer never sees a
   * part of it). Records are checked and measured before anything is reserved: a refused batch
   * changes nothing. Returns the number of records (0: an empty batch appends nothing).
   */
  appendBatch(records: readonly BatchRecord[]): number {
    if (this.reading) throw reentered();
    if (!Array.isArray(records)) throw LogError.invalidOption('records', `appendBatch takes an array of records, got ${describe(records)}`);
    const { batchData: data, batchOpts: opts, batchSizes: sizes } = this;
    this.reading = true; // the array's length (a Proxy's get trap) and the records' getters run while they are measured, the getters again while copied
    let n: number;
    try {
      n = batchLength(records);
      if (n === 0) return 0;
      const total = measureBatch(records, n, this.attributes, this.maxRecordBytes, data, opts, sizes, () => this.progress());
      if (BATCH_HEADER_BYTES + total > this.size) {
        throw new LogError(ErrorCode.RECORD_TOO_LARGE, `a batch of ${total} bytes does not fit the ring (ringBytes ${this.size}, less ${BATCH_HEADER_BYTES} bytes)`, { option: 'records' });
      }
      this.copyBatch(this.reserve(BATCH_HEADER_BYTES + total), total);
    } finally {
      this.reading = false;
      // Reused per batch; emptied so that the records are not kept alive until the next one.
      data.length = 0;
      opts.length = 0;
      sizes.length = 0;
    }
    this.publish();
    return n;
  }

  /**
   * Copies records already in the ring's format (a frame body's, checked by the caller) from
   * `body[start, end)` in pieces of whole records of up to RUN_PIECE_BYTES, each published as it is
   * copied; `published(k)` hears each piece's count, so a piece that finds no room (ERR_LOG_FULL, a
   * stopped log) leaves the earlier ones counted.
   */
  appendRun(body: Uint8Array, start: number, end: number, published: (records: number) => void): void {
    if (this.reading) throw reentered();
    const words = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const piece = Math.min(RUN_PIECE_BYTES, this.size >>> 2);
    let from = start;
    while (from < end) {
      let to = from;
      let records = 0;
      do {
        const bytes = RECORD_HEADER_BYTES + ((words.getUint32(to, true) & RECORD_LENGTH_MASK) >>> 0);
        if (records > 0 && to - from + bytes > piece) break; // a piece is one record, or whole records within `piece`
        to += bytes;
        records++;
      } while (to < end);
      const at = this.reserve(to - from);
      this.copier.copy(body.subarray(from, to), at);
      this.head = (this.head + (to - from)) >>> 0;
      this.publish();
      published(records);
      from = to;
    }
  }

  /** Writes the measured batch (batchData, batchOpts, batchSizes) at ring index `at` behind its marker, and moves the head past it. */
  private copyBatch(at: number, total: number): void {
    const { batchData: data, batchOpts: opts, batchSizes: sizes } = this;
    const n = data.length;
    this.view.setUint32(at, BATCH_MARKER, true);
    this.view.setUint32(at + 4, n, true);
    this.view.setUint32(at + 8, total, true);
    at += BATCH_HEADER_BYTES;
    for (let i = 0; i < n; i++) {
      const d = data[i]!;
      const attrLen = sizes[2 * i]!;
      const len = sizes[2 * i + 1]!;
      if (attrLen > 0) {
        // Encoded again (the block of each record is not kept): options whose getters answer
        // otherwise the second time would no longer fit the room measured for them.
        if (this.attributes.encode(opts[i]!) !== attrLen) throw changedOptions(i);
        this.attributes.copyTo(this.bytes, at + RECORD_HEADER_BYTES, attrLen);
      }
      if (typeof d === 'string') this.bytes.write(d, at + RECORD_HEADER_BYTES + attrLen, len - attrLen);
      // A getter of this record's headers or an earlier one's may have resized or detached any record's data since it was measured.
      else if (d.byteLength !== len - attrLen || (d.byteLength === 0 && unusable(d))) throw resizedData(i);
      else this.copier.copy(d, at + RECORD_HEADER_BYTES + attrLen);
      this.view.setUint32(at, attrLen === 0 ? len : (len | RECORD_ATTRIBUTES_FLAG) >>> 0, true);
      at += RECORD_HEADER_BYTES + len;
      if ((i & PROGRESS_RECORDS) === PROGRESS_RECORDS || attrLen > 0) this.progress(); // its options' getters ran again
    }
    this.checkOpen(); // closed by a getter: publish nothing
    this.head = (this.head + BATCH_HEADER_BYTES + total) >>> 0;
  }

  /** A batch's progress (APPEND.PROGRESS: the lock's holder is alive); a log that stopped meanwhile ends the batch now, not after its last getter. */
  private progress(): void { appendProgress(this.c); this.checkOpen(); }

  /** Publishes the head (after the bytes), then wakes the writer if it sleeps: only the append that flips WRITER_SLEEPING from 1 to 0 pays for the notify. */
  private publish(): void {
    const i32 = this.c.i32;
    Atomics.store(i32, I32.HEAD, this.head | 0);
    if (Atomics.load(i32, I32.WRITER_SLEEPING) !== 0 && Atomics.compareExchange(i32, I32.WRITER_SLEEPING, 1, 0) === 1) {
      wakeWriter(this.c);
    }
  }

  /** Whether `need` bytes fit at the head now without a wrap or a wait (by the TAIL last seen). */
  private fitsNow(need: number): boolean { return this.size - (this.head & this.mask) >= need && this.size - ((this.head - this.tailSeen) >>> 0) >= need; }

  /** After the caller's code (getters) ran, and in each slice of a wait for room: the log runs and the handle is open. */
  private checkOpen(waiting = false): void {
    this.hooks?.check(waiting);
    if (Atomics.load(this.c.i32, I32.STATE) !== State.RUNNING) this.stopped();
  }

  /** Finds `need` contiguous bytes at the head, waiting (bounded) for room; too few before the ring's end are skipped (WRAP_MARKER) for index 0. Returns the ring index. */
  private reserve(need: number): number {
    const idx = this.head & this.mask;
    // The common case in a few bytecodes, so that V8 inlines it: no wrap, room enough by the TAIL last seen.
    if (this.size - idx >= need && this.size - ((this.head - this.tailSeen) >>> 0) >= need) return idx;
    return this.reserveSlowly(idx, need);
  }

  /** reserve() when the record wraps past the ring's end or the ring lacks room: skips and waits, appendTimeoutMs in all. */
  private reserveSlowly(idx: number, need: number): number {
    const room = this.size - idx;
    const wrap = room < need;
    const deadline = (this.waitFrom >= 0 ? this.waitFrom : performance.now()) + this.appendTimeoutMs;
    if (wrap && room + need > this.size) {
      // Larger than what is left after the skip: publish the skip, then wait for `need` from index 0.
      if (this.size - this.used() < room) this.waitForSpace(room, deadline);
      this.skipToStart(idx, room);
      this.publish();
      if (this.size - this.used() < need) this.waitForSpace(need, deadline);
      return 0;
    }
    const total = wrap ? room + need : need;
    if (this.size - this.used() < total) this.waitForSpace(total, deadline);
    if (!wrap) return idx;
    this.skipToStart(idx, room);
    return 0;
  }

  /** Marks the `room` bytes before the ring's end as skipped (WRAP_MARKER) and moves the head past them. */
  private skipToStart(idx: number, room: number): void {
    if (room >= RECORD_HEADER_BYTES) this.view.setUint32(idx, WRAP_MARKER, true);
    this.head = (this.head + room) >>> 0;
  }

  /** The bytes the writer has yet to free, by a fresh load of TAIL. */
  private used(): number {
    this.tailSeen = Atomics.load(this.c.i32, I32.TAIL) >>> 0;
    return (this.head - this.tailSeen) >>> 0;
  }

  private waitForSpace(total: number, deadline: number): void {
    this.tailSeen = waitForRoom(this.c, this.size, this.head, total, deadline, this.appendTimeoutMs, () => this.checkOpen(true));
  }
}
