/**
 * The feeder of a pool round on a backend (a RecordSupply, src/consumer/pool-supply.ts): on the
 * coordinator's thread it pulls the records from the consumer's own reader (the backend's, async:
 * fill and wait as a processing call in the caller's thread does), writes them into the round's
 * shared record window (src/consumer/pool-window.ts) in offset order, and publishes their end into
 * a block the lanes watch, so a lane wakes on Atomics as it does on a producer's block.
 *
 * The feeder runs ahead of the lanes as far as the window lets it: when the slots or the arena are
 * full it waits (bounded) for the committed prefix to move (the coordinator bumps SETTLED_SEQ). When
 * the round ends, the records it pulled and that are not done go back to the consumer's reader, which
 * hands them out again first (the next round or call). A read that fails (records removed from the
 * stream past those fed) fails the round only once the lanes finished the records fed, as a call
 * without a pool hands out the records before the failure: else no call ever got past them.
 */
import { ErrorCode, LogError } from '../errors.js';
import type { ControlViews } from '../ring/layout.js';
import type { Message } from '../types.js';
import type { PoolCall } from './pool-host.js';
import { P32, type EndSource, type ProgressViews } from './pool-protocol.js';
import { ownEndSource, publishOwnEnd, type RecordSupply } from './pool-supply.js';
import { WindowWriter } from './pool-window.js';

/** Records written between two publications of the end while the reader has more at hand. */
const PUBLISH_EVERY = 64;
/** The longest one wait for room lasts before the stop flag is looked at again (ms). */
const ROOM_SLICE_MS = 100;

/** The records reach the lanes through a shared window the feeder fills (see the module comment). */
export class WindowSupply implements RecordSupply {
  readonly end: EndSource;
  readonly window: SharedArrayBuffer;
  private readonly own: ControlViews;
  private readonly writer: WindowWriter;
  /** The offset after the last record written into the window. */
  private fed: number;
  /** A record pulled and not written yet (waiting for room). */
  private held: Message | null = null;
  private readonly stopping = new AbortController();
  private readonly signal: AbortSignal;
  private readonly running: Promise<void>;

  constructor(private readonly call: PoolCall, arenaBytes: number, private readonly pv: ProgressViews,
    originOffset: number, private readonly endOffset: number, onFailure: (e: unknown) => void) {
    const { views, end } = ownEndSource();
    this.own = views;
    this.end = end;
    this.writer = new WindowWriter(arenaBytes);
    this.window = this.writer.buffer;
    this.fed = originOffset;
    this.signal = call.signal === undefined ? this.stopping.signal : AbortSignal.any([this.stopping.signal, call.signal]);
    this.running = this.feed().catch(onFailure);
  }

  gone(): boolean {
    return false;
  }

  more(): null {
    return null; // the feeder runs on its own and reports a failure through onFailure
  }

  async close(doneOffset: number): Promise<void> {
    this.stopping.abort();
    await this.running;
    const back: Message[] = [];
    for (let o = doneOffset; o < this.fed; o++) back.push(this.writer.message(o));
    if (this.held !== null) back.push(this.held);
    this.held = null;
    if (back.length > 0) this.call.host.giveBack(back);
  }

  private stopped(): boolean {
    return this.signal.aborted || Atomics.load(this.pv.i32, P32.STOP) !== 0;
  }

  /** Pulls, writes and publishes until `endOffset`, a stop, or a failure (thrown). */
  private async feed(): Promise<void> {
    const { host } = this.call;
    let unpublished = 0;
    while (this.fed < this.endOffset && !this.stopped()) {
      let m: Message | null;
      try {
        m = this.held ?? host.pullRecord();
        if (m === null) {
          this.publish();
          unpublished = 0;
          if (!(await this.fetchMore())) return;
          continue;
        }
      } catch (e) {
        // A read that failed (records gone from the log past those fed, an outage past its bound): as
        // without a pool, the records before it are handled first; stopped meanwhile, the reader keeps
        // the failure for the next read, after the records given back (close()).
        if (await this.fedDone()) throw e;
        return;
      }
      this.held = m;
      if (m.offset !== this.fed) {
        throw new LogError(ErrorCode.INTERNAL, `internal invariant broken: the pool's feeder expected record ${this.fed}, the reader gave ${m.offset}`, { offset: m.offset });
      }
      const seq = Atomics.load(this.pv.i32, P32.SETTLED_SEQ); // before the prefix is read: a move after it changes seq
      if (!this.writer.put(m, Number(Atomics.load(this.pv.i64, 0)), this.fed)) {
        this.publish();
        unpublished = 0;
        const w = Atomics.waitAsync(this.pv.i32, P32.SETTLED_SEQ, seq, ROOM_SLICE_MS);
        if (w.async) await w.value;
        continue;
      }
      this.held = null;
      this.fed++;
      if (++unpublished >= PUBLISH_EVERY) {
        this.publish();
        unpublished = 0;
      }
    }
    this.publish();
  }

  /** Publishes the records fed and waits until each is done: true then, false when the round stopped first. */
  private async fedDone(): Promise<boolean> {
    this.publish();
    for (;;) {
      const seq = Atomics.load(this.pv.i32, P32.SETTLED_SEQ); // before the prefix is read: a move after it changes seq
      if (this.stopped()) return false;
      if (Number(Atomics.load(this.pv.i64, 0)) >= this.fed) return true;
      const w = Atomics.waitAsync(this.pv.i32, P32.SETTLED_SEQ, seq, ROOM_SLICE_MS);
      if (w.async) await w.value;
    }
  }

  /** Waits for more records (a blocking call), or fetches them (nonblocking); false: there are no more. */
  private async fetchMore(): Promise<boolean> {
    const { host, blocking } = this.call;
    if (blocking) {
      await host.wait(this.signal, this.fed);
      return true;
    }
    const filled = host.fill(this.signal);
    if (filled !== false && await filled) return true;
    if (this.stopped() || host.isClosed()) return false;
    throw new LogError(ErrorCode.IO, `the log ended at offset ${this.fed} while the pool's call was to run to offset ${this.endOffset}`, { offset: this.fed });
  }

  private publish(): void {
    publishOwnEnd(this.own, this.fed);
  }
}
