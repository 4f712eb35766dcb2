/**
 * How the records of a pool round reach its lanes, seen from the coordinator (src/consumer/pool-round.ts):
 * - FileSupply: the lanes read the segment files; they watch the producer's control block when it
 *   runs in this process, else a block the coordinator publishes into as it tails the files;
 * - WindowSupply (src/consumer/pool-feeder.ts): on a backend, the coordinator's feeder copies the
 *   records into a shared window (src/consumer/pool-window.ts) and publishes their end.
 * Either way the lanes wait on an EndSource with Atomics, and the coordinator only commits.
 */
import { CONTROL_BYTES, I32, I64, bump, controlViews, endSlots, loadOffset, storeOffset, type ControlViews } from '../ring/layout.js';
import type { PoolCall } from './pool-host.js';
import type { EndSource } from './pool-protocol.js';

/** Where a round's lanes find their records. */
export interface RecordSupply {
  /** The block the lanes watch for the end of the readable records. */
  readonly end: EndSource;
  /** The shared record window, or null: the lanes read the files. */
  readonly window: SharedArrayBuffer | null;
  /** True once the producer's block the lanes watch went away: the round ends, another follows. */
  gone(): boolean;
  /** Something for the coordinator's wait to race (tailing the files for the lanes), or null. */
  more(stopped: boolean): Promise<unknown> | null;
  /** The round's lanes are done: stop supplying; records read past `doneOffset` go back to the consumer. */
  close(doneOffset: number): Promise<void>;
}

/** A block of its own the coordinator publishes ends into (the lanes watch it as they watch a producer's). */
export function ownEndSource(): { views: ControlViews; end: EndSource } {
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  return { views: controlViews(control), end: { control, ...endSlots('written'), strict: false, writerFrames: false } };
}

/** Publishes `end` into an own block when it moved forward; wakes the lanes waiting on it. */
export function publishOwnEnd(views: ControlViews, end: number): void {
  if (end > loadOffset(views, I64.WRITTEN_OFFSET)) {
    storeOffset(views, I64.WRITTEN_OFFSET, end);
    bump(views, I32.WRITTEN_SEQ);
  }
}

/** The lanes read the segment files (see the module comment). */
export class FileSupply implements RecordSupply {
  readonly end: EndSource;
  readonly window = null;
  /** The own block, when the producer does not run in this process. */
  private readonly own: ControlViews | null = null;
  private tailing: Promise<void> | null = null;

  constructor(private readonly call: PoolCall) {
    const producer = call.host.endSource();
    if (producer !== null) {
      this.end = producer;
    } else {
      const { views, end } = ownEndSource();
      this.own = views;
      this.end = end;
      this.publishEnd();
    }
  }

  gone(): boolean {
    return this.own === null && this.call.host.endSource()?.control !== this.end.control;
  }

  more(stopped: boolean): Promise<unknown> | null {
    const { call, own } = this;
    if (!call.blocking || own === null || stopped) return null;
    // Tail the files for the lanes: publish each new end into the block they watch. A wait that fails
    // (the log directory removed: ERR_IO) fails the round, as a failed look at the end does.
    this.tailing ??= call.host.wait(call.signal, loadOffset(own, I64.WRITTEN_OFFSET))
      .then(() => this.publishEnd()).finally(() => { this.tailing = null; });
    return this.tailing;
  }

  async close(): Promise<void> {
    // The files stay where they are; the consumer's reader is placed anew after the call.
  }

  private publishEnd(): void {
    if (this.own !== null) publishOwnEnd(this.own, this.call.host.availableEndOffset());
  }
}
