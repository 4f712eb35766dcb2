/**
 * Write-behind for the sync policies that do not fsync every group (`never`, `periodic`,
 * `everyBytes` above WRITE_BEHIND_BYTES). Every WRITE_BEHIND_BYTES written to the active segment, the
 * writer asks a helper thread (workers/syncer.ts) to fdatasync it while the writer goes on writing,
 * so the fsync that a roll, a flush or a periodic sync has to make finds little left to write (without
 * it, the seal of a 64 MiB segment waits for all of it at once, and the ring fills meanwhile).
 *
 * Durability does not change: only the writer's own fsync publishes an offset as durable, and the
 * crash order stays as it is. Before any fsync of its own and before it closes a segment, the writer
 * settles the helper's call: one not yet taken is cancelled, one running is waited for, and its error
 * is the writer's error. Linux reports a failed writeback to one fsync of the file (the first after
 * it), which may be the helper's; taking that error as its own is what keeps a later fsync of the
 * writer that returns 0 from publishing records the disk lost.
 *
 * The words in shared memory (Int32Array, WB.*): the writer asks (FD, then STATE := ASKED, then
 * ASK_SEQ += 1 and a notify); the helper takes a call with STATE ASKED -> TAKEN, makes it, stores
 * RESULT (0 or the negative errno) and STATE := DONE; the writer cancels with ASKED -> IDLE and
 * collects with DONE -> IDLE. Every transition is a compare-and-exchange or made by the one side that
 * owns that state, so a call is made at most once and never on a descriptor the writer has closed.
 *
 * A helper that ends while it runs a call (an uncaught error, process.exit, out of memory) can no
 * longer move TAKEN on, and the writer's event loop, blocked in settle(), never sees its exit event.
 * So the helper's exit handler stores DIED for a call it holds, and where the OS names threads in
 * /proc the helper stores its thread id (TID) and settle() looks, after each slice of waiting, whether
 * that thread still exists (an end that runs no JavaScript). Either way the writer fails with ERR_IO:
 * whether the data of that fdatasync reached the disk is unknown.
 */
import { osThreadAlive } from '../ring/os-thread.js';
import { Worker } from 'node:worker_threads';
import { getSystemErrorName } from 'node:util';
import { moduleUrl } from '../embedded.js';
import { ErrorCode, LogError } from '../errors.js';
import type { ActiveSegment } from '../segment/active-segment.js';

/** How many bytes the writer writes to the active segment between two write-behind calls. */
export const WRITE_BEHIND_BYTES = 8 * 1024 * 1024;

/** The indices of the write-behind words. */
export const WB = { ASK_SEQ: 0, STATE: 1, FD: 2, RESULT: 3, STOP: 4, TID: 5 } as const;
export const WB_WORDS = 6;
/** WB.RESULT of a call whose helper ended while it ran it (errno results are 0 or negative). */
export const DIED = 1;
/** The states of WB.STATE. */
export const Call = { IDLE: 0, ASKED: 1, TAKEN: 2, DONE: 3 } as const;

/** The helper thread's module text: put in place by the build inside the writer's own bundle (tsup.config.ts). */
declare const REACTIVE_LOG_SYNCER_CODE: string | undefined;

/** How long one wait for a running call sleeps before it looks again. */
const SETTLE_SLICE_MS = 1000;

export class WriteBehind {
  private readonly w = new Int32Array(new SharedArrayBuffer(WB_WORDS * 4));
  private worker: Worker | null = null;
  /** The helper failed to start or died: no more calls (the writer's own fsyncs cover everything). */
  private off = false;
  private bytesSinceCall = 0;

  /**
   * `wanted`: the policy leaves fsyncs apart (not `always`). `code`: the helper's module; without it
   * (a writer run in-process from the sources, such as the power-loss simulation) no call is made.
   */
  constructor(wanted: boolean, private readonly code: string | null = typeof REACTIVE_LOG_SYNCER_CODE === 'string' ? REACTIVE_LOG_SYNCER_CODE : null) {
    if (!wanted || code === null) this.off = true;
  }

  /**
   * `bytes` more were written to `segment`: collects a finished call (throwing its error), and asks
   * for the next one once WRITE_BEHIND_BYTES have been written since the last.
   */
  wrote(bytes: number, segment: ActiveSegment): void {
    if (this.off) return;
    this.bytesSinceCall += bytes;
    const state = Atomics.load(this.w, WB.STATE);
    if (state === Call.DONE) this.collect(segment.path);
    else if (state !== Call.IDLE) return;
    if (this.bytesSinceCall < WRITE_BEHIND_BYTES) return;
    this.bytesSinceCall = 0;
    // Started at the first call, so a producer that never writes 8 MiB has no such thread (it costs
    // some 7 MiB of memory). It takes tens of milliseconds to run: a call it has not taken by the
    // writer's next fsync is cancelled, which costs that call's head start only.
    if (this.worker === null) this.start();
    if (this.off) return;
    Atomics.store(this.w, WB.FD, segment.dataFd);
    Atomics.store(this.w, WB.STATE, Call.ASKED);
    Atomics.add(this.w, WB.ASK_SEQ, 1);
    Atomics.notify(this.w, WB.ASK_SEQ);
  }

  /**
   * Before the writer's own fsync or a close of `segment`: no call is pending or running when it
   * returns. Throws (ERR_IO, ERR_DISK_FULL) when the call that ran failed.
   */
  settle(segment: ActiveSegment): void {
    this.bytesSinceCall = 0;
    if (Atomics.compareExchange(this.w, WB.STATE, Call.ASKED, Call.IDLE) === Call.ASKED) return;
    while (Atomics.load(this.w, WB.STATE) === Call.TAKEN) {
      if (Atomics.wait(this.w, WB.STATE, Call.TAKEN, SETTLE_SLICE_MS) === 'timed-out') this.checkAlive();
    }
    if (Atomics.load(this.w, WB.STATE) === Call.DONE) this.collect(segment.path);
  }

  /**
   * After a failure, before the writer closes its descriptors: cancels a call not yet taken and waits
   * for a running one (at most `boundMs`: a device that hangs must not hang the failure's report), so
   * that no fdatasync lands on a descriptor closed, and perhaps reused, meanwhile. Ignores its result.
   */
  abandon(boundMs = 5_000): void {
    Atomics.compareExchange(this.w, WB.STATE, Call.ASKED, Call.IDLE);
    const until = performance.now() + boundMs;
    while (Atomics.load(this.w, WB.STATE) === Call.TAKEN && performance.now() < until) {
      if (Atomics.wait(this.w, WB.STATE, Call.TAKEN, 100) === 'timed-out' && !this.helperAlive()) break;
    }
    this.stop();
  }

  /** Stops the helper thread (it is between calls: the writer settled first, or abandoned). */
  stop(): void {
    this.off = true;
    Atomics.store(this.w, WB.STOP, 1);
    Atomics.add(this.w, WB.ASK_SEQ, 1);
    Atomics.notify(this.w, WB.ASK_SEQ);
    this.worker = null;
  }

  /** False once the helper's thread is known to be gone (its id listed in /proc no more). */
  private helperAlive(): boolean {
    return osThreadAlive(Atomics.load(this.w, WB.TID));
  }

  /** A call still running after a slice of waiting: its helper's thread ended without a word (see the module comment)? */
  private checkAlive(): void {
    if (this.helperAlive()) return;
    Atomics.store(this.w, WB.RESULT, DIED);
    Atomics.compareExchange(this.w, WB.STATE, Call.TAKEN, Call.DONE);
  }

  private collect(file: string): void {
    const result = Atomics.load(this.w, WB.RESULT);
    Atomics.store(this.w, WB.STATE, Call.IDLE);
    if (result === 0) return;
    if (result === DIED) {
      this.off = true;
      throw new LogError(ErrorCode.IO, `the write-behind thread ended during its fdatasync of ${file}: whether that data reached the disk is unknown`, { file });
    }
    const name = getSystemErrorName(result);
    const err = Object.assign(new Error(`${name}: the write-behind fdatasync failed`), { code: name, errno: result });
    throw LogError.fromSystem(err, 'fdatasync (write-behind)', file);
  }

  /** Starts the helper. It may take a while to run: a call it has not taken yet is cancelled by settle(). */
  private start(): void {
    try {
      const worker = new Worker(moduleUrl(this.code!, 'reactive-log-syncer.mjs'), { workerData: { words: this.w }, name: 'reactive-log syncer', execArgv: [] });
      // A helper that cannot run only costs the speed it would give: its calls stay ASKED and settle() cancels them.
      worker.on('error', () => { this.off = true; });
      worker.unref();
      this.worker = worker;
    } catch {
      this.off = true;
    }
  }
}
