/**
 * The writer loop, run by the dedicated writer thread (workers/writer.ts). It holds the active segment: it
 * drains the ring in batches, frames each batch, appends it with one positional writev straight from the
 * ring, fsyncs per the sync policy (group commit), rolls segments, applies retention, and publishes
 * WRITTEN_OFFSET, DURABLE_OFFSET and its fresh frames (src/ring/writer-frames.ts) in shared memory.
 *
 * Not thread-safe by design: exactly one LogWriter runs per log directory (the producer lock ensures it).
 * Every wait is bounded (MAX_SLEEP_MS) and re-checks the shared state. The batches come from ring-batch.ts,
 * the frames from frame-builder.ts (which checks each one), the segment's bytes and index are written by
 * ActiveSegment (src/segment/active-segment.ts), and deletions and backpressure are retention.ts's.
 */
import type { ResolvedProducerOptions } from '../producer/options.js';
import { APPEND, I32, I64, State, bump, controlViews, loadOffset, storeOffset, type ControlViews, type SharedLog } from '../ring/layout.js';
import { raiseFreshFrom } from '../ring/writer-frames.js';
import { AppendInFlight } from '../ring/append-lock.js';
import type { FileIO } from '../storage/file-io.js';
import { WriterStats } from './writer-stats.js';
import type { WriterEvent } from './messages.js';
import type { RollResult, SegmentEntry } from './control-port.js';
import { DurableHintWriter } from '../storage/durable-hint.js';
import { DurablePublisher } from './durable-publish.js';
import { FORMAT_VERSION } from '../format/frame.js';
import { type RecoveredLog } from '../storage/recovery.js';
import { ActiveSegment } from '../segment/active-segment.js';
import { FrameBuilder } from './frame-builder.js';
import { MAX_SLEEP_MS, Retention } from './retention.js';
import { RingBatch } from './ring-batch.js';
import { WriteBehind } from './write-behind.js';
import { pauseForCall, writerSleep } from './writer-sleep.js';

/** Under `always`, one group commit covers at most this many bytes before its fsync. */
const MAX_GROUP_BYTES = 16 * 1024 * 1024;
/** While a write-behind call runs and records keep coming, the writer lets its event loop turn at least this often (ms). */
const CALL_TURN_MS = 1;

export class LogWriter {
  private readonly c: ControlViews;
  private readonly batch: RingBatch;
  private readonly frame = new FrameBuilder();
  private segment: ActiveSegment;
  /** durable.offset and DURABLE_OFFSET: published after the writer's fsync, and not while a write-behind call's result is unknown. */
  private readonly durable: DurablePublisher;
  /** The segments, their total size, deletion and backpressure. */
  private readonly retention: Retention;
  /** fdatasyncs on libuv's thread pool between the policy's own, under the policies that leave them apart. */
  private readonly behind: WriteBehind;
  private tail: number; // ring byte counter (mod 2^32) up to which bytes are written to the file
  private writtenOffset: number; // WRITTEN_OFFSET, mirrored
  private durableOffset: number; // covered by the writer's own fsync (published by `durable`, perhaps later)
  private bytesSinceSync = 0;
  private lastSyncMs: number;
  /** The newest frame timestamp in the log: a frame never gets a lower one, whatever the clock says. */
  private lastFrameMs: number;
  /** The active segment is of an older format and holds records: roll before the first frame. */
  private rollBeforeFrame: boolean;
  private turnWanted = false; // the write-behind's callback may be waiting for a turn of the event loop
  private runSinceMs = 0; // when run() was last entered: the event loop turned then
  private readonly stats: WriterStats;
  private readonly inFlight: AppendInFlight; // at close: an append of another thread still on its way (run())

  constructor(
    private readonly io: FileIO,
    private readonly opts: ResolvedProducerOptions,
    shared: SharedLog,
    recovered: RecoveredLog,
    /** The wall clock: frame timestamps and segment ages (never going back: frameClock). */
    private readonly now: () => number = Date.now,
    /** Told of rolls and deletions (the writer thread posts them to its producer). */
    private readonly onEvent: (e: WriterEvent) => void = () => undefined,
    /** A clock that never steps back: the periodic policy's interval, which a wall clock stepped back would stretch. */
    private readonly monoNow: () => number = () => performance.now(),
  ) {
    this.c = controlViews(shared.control);
    this.inFlight = new AppendInFlight(this.c.append, opts.appendTimeoutMs);
    this.stats = new WriterStats(shared.stats);
    this.batch = new RingBatch(shared.ring, opts.maxBatchBytes);
    this.tail = Atomics.load(this.c.i32, I32.TAIL) >>> 0;
    const segments = recovered.segments;
    this.writtenOffset = recovered.nextOffset;
    this.durableOffset = recovered.nextOffset;
    // Recovery fsynced the active segment and rewrote its index.
    const active = segments[segments.length - 1]!;
    this.segment = new ActiveSegment(io, opts.logDir, active, recovered.activeIndex, opts.indexIntervalBytes);
    // Ages on the frames' clock (a wall clock stepped back makes no segment young) or the monotonic one, which runs on meanwhile.
    this.retention = new Retention(io, opts, this.c, this.stats, onEvent, segments, () => this.frameClock(), monoNow);
    this.behind = new WriteBehind(io, opts.syncPolicy);
    this.durable = new DurablePublisher(this.c, new DurableHintWriter(io, opts.logDir), this.behind, this.durableOffset);
    this.retention.held = () => this.durable.waiting; // no log start past the published durable offset
    this.retention.checkLinked = () => this.segment.checkLinked();
    this.lastSyncMs = this.monoNow();
    this.lastFrameMs = segments.reduce((max, seg) => Math.max(max, seg.lastTimestampMs), -Infinity);
    this.rollBeforeFrame = recovered.activeFormatVersion < FORMAT_VERSION;
    storeOffset(this.c, I64.WRITTEN_OFFSET, this.writtenOffset);
    raiseFreshFrom(this.c, this.writtenOffset); // its own frames, from the first on (readers in the process trust them)
  }

  /**
   * Runs until close() is requested and everything is drained and fsynced ('closed'), or until a
   * control call is waiting ('control': the caller answers it and calls run() again; see
   * src/writer/control-port.ts), or until the write-behind's callback may be waiting for the thread's
   * event loop ('turn': the caller lets it turn and calls run() again). Throws on I/O failure.
   */
  run(): 'closed' | 'control' | 'turn' {
    const i32 = this.c.i32;
    this.runSinceMs = performance.now();
    for (;;) {
      if (Atomics.load(i32, I32.CONTROL_CALLS) !== 0) return 'control';
      const head = Atomics.load(i32, I32.HEAD) >>> 0;
      if (this.turnWanted) { this.turnWanted = false; return 'turn'; }
      this.behind.check(); // a write-behind call's error fails the log at once, idle or not
      if (this.durable.waiting) this.durable.publishWaiting(() => this.retention.apply()); // no closure per pass otherwise
      if (head !== this.tail) {
        const blockedMs = this.writeGroup(head);
        if (blockedMs > 0) {
          const t = performance.now();
          this.sleep(blockedMs, true);
          this.stats.retentionBlocked(performance.now() - t);
          if (this.behind.running) return 'turn'; // its callback may hold the publication consumers wait for
        }
        continue;
      }
      this.syncIfDue();
      this.retention.apply();
      // A write-behind call runs: before closing or sleeping, its callback needs the event loop (a
      // publication may wait for it), which the writer lets turn after each pause (at most a ms, ended
      // early by records) and at least every CALL_TURN_MS while records keep coming.
      if (this.behind.running) {
        const slept = pauseForCall(this.c, this.tail);
        if (slept) this.stats.slept();
        if (slept || performance.now() - this.runSinceMs >= CALL_TURN_MS) return 'turn';
        continue;
      }
      // FAILED by another thread (a producer thread stalled holding the append lock): what the ring
      // holds is whole records, so they are written and fsynced as at close, and the state stays FAILED.
      const state = Atomics.load(i32, I32.STATE);
      // After the state, before HEAD: an append that took the lock before CLOSING publishes before it
      // releases the lock; one that takes it later sees CLOSING and refuses.
      const appendLock = Atomics.load(this.c.append, APPEND.LOCK);
      if ((state === State.CLOSING || state === State.FAILED) && (Atomics.load(i32, I32.HEAD) >>> 0) === this.tail) {
        // A call counted before close() stored CLOSING is answered first (a failed log answers none).
        if (state === State.CLOSING && Atomics.load(i32, I32.CONTROL_CALLS) !== 0) return 'control';
        if (state === State.CLOSING && this.inFlight.pending(appendLock)) continue;
        this.finish(state === State.FAILED);
        return 'closed';
      }
      this.sleep(this.sleepBudgetMs());
    }
  }

  /**
   * One pass without sleeping: write what the ring holds now, sync if the policy (or a flush request)
   * says so, apply retention. For drivers that run a writer in-process step by step (the power-loss
   * simulation in test/); the writer thread uses run().
   */
  pump(): void {
    for (;;) {
      const head = Atomics.load(this.c.i32, I32.HEAD) >>> 0;
      if (head === this.tail || this.writeGroup(head) > 0) break;
    }
    this.syncIfDue();
    this.retention.apply();
  }

  /** Sleeps until woken or `ms` pass, unless work arrived meanwhile (writer-sleep.ts). `blocked`: retention holds the ring's records back. */
  private sleep(ms: number, blocked = false): void {
    if (writerSleep(this.c, this.tail, this.durableOffset, ms, blocked) && !blocked) this.stats.slept();
  }

  private sleepBudgetMs(): number {
    const p = this.opts.syncPolicy;
    if (p.kind === 'periodic' && this.durableOffset < this.writtenOffset) {
      return Math.max(1, Math.min(MAX_SLEEP_MS, this.lastSyncMs + p.intervalMs - this.monoNow()));
    }
    return MAX_SLEEP_MS;
  }

  /** Writes batches up to the head given (or MAX_GROUP_BYTES), then syncs per the policy; a wait in ms when retention blocks writing, else 0. */
  private writeGroup(head: number): number {
    let groupBytes = 0;
    while (this.tail !== head && groupBytes < MAX_GROUP_BYTES) {
      const batch = this.batch.take(this.tail, head);
      if (batch.recordCount === 0) {
        this.release(batch.tailAfter); // only skipped bytes before the ring's end: give them back
        continue;
      }
      const blockedMs = this.retention.roomFor(batch.frameBytes, () => this.roll());
      if (blockedMs > 0) {
        // Make what is written durable: a transactional consumer (which reads durable records only)
        // can then catch up and commit, which is what lets retention free space again.
        this.sync();
        Atomics.store(this.c.i32, I32.RETENTION_BLOCKED, 1);
        return blockedMs;
      }
      Atomics.store(this.c.i32, I32.RETENTION_BLOCKED, 0);
      this.writeFrame(batch);
      groupBytes += batch.frameBytes;
      if (this.segment.sizeBytes >= this.opts.fileRollSize) this.roll();
      else if (this.opts.syncPolicy.kind === 'everyBytes') this.syncIfDue();
    }
    if (this.opts.syncPolicy.kind === 'always') this.sync();
    else this.syncIfDue();
    return 0;
  }

  /** Timestamps never decrease along the log: a clock that stepped back gives the last one until it passes it. */
  private frameClock(): number {
    const now = this.now();
    return now > this.lastFrameMs ? now : this.lastFrameMs;
  }

  /** Frames the batch, appends it to the active segment, then publishes it as written. */
  private writeFrame(batch: RingBatch): void {
    if (this.rollBeforeFrame) {
      this.rollBeforeFrame = false;
      this.roll();
    }
    const ts = this.frameClock();
    this.lastFrameMs = ts;
    const segment = this.segment;
    const frame = this.frame;
    frame.build(batch.slices, batch.frameBytes, batch.recordCount, this.writtenOffset, ts, segment.durableBytes);
    segment.appendFrame(frame.header, batch.slices, frame.trailer, batch.frameBytes, this.writtenOffset, batch.recordCount, ts);
    if (this.behind.wrote(batch.frameBytes, segment)) this.turnWanted = true;
    this.retention.grew(batch.frameBytes);
    this.bytesSinceSync += batch.frameBytes;
    this.stats.frame(batch.recordCount, batch.frameBytes);
    // The bytes are in the file: give the ring space back, then publish the new written offset.
    this.release(batch.tailAfter);
    this.writtenOffset += batch.recordCount;
    storeOffset(this.c, I64.WRITTEN_OFFSET, this.writtenOffset);
    bump(this.c, I32.WRITTEN_SEQ);
  }

  private release(tail: number): void {
    this.tail = tail;
    Atomics.store(this.c.i32, I32.TAIL, tail | 0);
    if (Atomics.load(this.c.i32, I32.PRODUCER_WAITING) !== 0) Atomics.notify(this.c.i32, I32.TAIL);
  }

  private syncIfDue(): void {
    if (this.durableOffset >= this.writtenOffset) return;
    const p = this.opts.syncPolicy;
    const flushWanted = loadOffset(this.c, I64.FLUSH_TARGET) > this.durableOffset;
    const due = flushWanted
      || (p.kind === 'periodic' && this.monoNow() - this.lastSyncMs >= p.intervalMs)
      || (p.kind === 'everyBytes' && this.bytesSinceSync >= p.bytes)
      || Atomics.load(this.c.i32, I32.STATE) === State.CLOSING;
    if (due) this.sync();
  }

  /** fdatasync the active segment (which checks it is still linked), then publish: invariant 1, durable only after the fsync returned. */
  private sync(): void {
    if (this.durableOffset >= this.writtenOffset && !this.segment.unsynced) return;
    const t = performance.now();
    this.behind.settle();
    this.segment.sync();
    this.stats.fsync(performance.now() - t);
    if (this.synced()) bump(this.c, I32.DURABLE_SEQ);
  }

  /** The writer's fsync covered what it wrote: published now (true) or once the write-behind call running ends (durable-publish.ts). */
  private synced(): boolean {
    this.durableOffset = this.writtenOffset;
    this.bytesSinceSync = 0;
    this.lastSyncMs = this.monoNow();
    return this.durable.cover(this.durableOffset);
  }

  /**
   * Roll: fsync the full segment and its index, create the next segment whole (createSegment: header
   * fsynced under a temporary name, renamed into place, directory fsynced), then write into it. A crash
   * leaves the old segment newest, perhaps with the new one's temporary file, or a whole empty new one.
   */
  private roll(): void {
    const sealed = this.segment.info;
    const t = performance.now();
    this.behind.settle();
    this.segment.seal();
    this.stats.fsync(performance.now() - t);
    const baseOffset = this.retention.nextBase(this.writtenOffset);
    // On the frames' clock: after a restart, timestamps go on from the newest segment's time.
    this.segment = ActiveSegment.create(this.io, this.opts.logDir, baseOffset, this.frameClock(), this.opts.indexIntervalBytes);
    this.rollBeforeFrame = false; // the new segment is of the current format, whoever asked for the roll
    raiseFreshFrom(this.c, sealed.baseOffset); // fresh: the segment just sealed and the new one
    this.retention.added(this.segment.info);
    this.stats.roll(); // counted with its event, once the new segment exists: a roll that failed making it is none
    this.onEvent({ type: 'roll', sealedBaseOffset: sealed.baseOffset, sealedBytes: sealed.bytes, baseOffset });
    // Durable since the seal's fdatasync, published before retention runs: the log start it raises must
    // never pass the durable offset (shared memory, durable.offset). Waiters wake after retention
    // (ROLL_PENDING holds flush() until then), so a flush that resolves sees the roll's retention done.
    // Published later (durable-publish.ts) while a write-behind call runs, retention with it.
    Atomics.store(this.c.i32, I32.ROLL_PENDING, 1);
    if (this.synced()) this.retention.apply();
    Atomics.store(this.c.i32, I32.ROLL_PENDING, 0);
    bump(this.c, I32.DURABLE_SEQ);
  }

  /** A roll on demand (a control call): seals the active segment unless it holds no record. */
  rollNow(): RollResult | null {
    const sealed = this.segment.info;
    if (sealed.endOffset === sealed.baseOffset) return null;
    const result = { sealed: { baseOffset: sealed.baseOffset, endOffset: sealed.endOffset, bytes: sealed.bytes }, baseOffset: this.writtenOffset };
    this.roll();
    return result;
  }

  /** The segments as the writer holds them, oldest first (a control call). */
  segmentList(): SegmentEntry[] {
    const segments = this.retention.segments;
    const last = segments.length - 1;
    return segments.map((s, i) => ({ baseOffset: s.baseOffset, endOffset: s.endOffset, bytes: s.bytes, lastTimestampMs: s.lastTimestampMs, active: i === last }));
  }

  /** Close: everything is drained (the caller checked); fsync data and index, close the files. CLOSED unless `failed`. */
  private finish(failed = false): void {
    this.sync();
    this.segment.checkLinked(); // also when nothing was left to fsync: close() resolves only over files the log still holds
    this.behind.settle();
    this.segment.syncIndex();
    this.segment.close();
    this.durable.close();
    this.retention.close();
    if (!failed) Atomics.store(this.c.i32, I32.STATE, State.CLOSED);
    bump(this.c, I32.WRITTEN_SEQ);
    bump(this.c, I32.DURABLE_SEQ);
  }

  /** After a failure: close what is still open, ignoring further errors. The state says FAILED. */
  abandon(): void {
    try { this.segment.close(); } catch { /* already failed */ }
    try { this.durable.close(); } catch { /* already failed */ }
    try { this.retention.close(); } catch { /* already failed */ }
  }
}
