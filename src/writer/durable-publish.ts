/**
 * The writer's publication of its durable offset (durable.offset, then DURABLE_OFFSET in shared memory,
 * then a wake-up of the waiters): only after the writer's own fsync covered it (invariant 1), and never
 * while a write-behind call's result is unknown.
 *
 * Why the second rule: a write-behind call (src/writer/write-behind.ts) runs on a descriptor of its
 * own, and Linux reports a failed writeback to every open file description of the file (errseq_t), so
 * the writer's own fdatasync meets such a failure too. Not every failure travels that way: an error
 * that the file system hands to the caller that started the writeback only (an allocation that fails
 * during writeback, a failed cache flush, a FUSE or network file system, another kernel) can leave the
 * writer's fdatasync returning 0 for pages that were dropped. So an offset the writer's fsync covered
 * while a call ran waits for that call's callback: published when the call ended well, never when it
 * failed (the call's error then fails the log). The writer does not block meanwhile; it lets its event
 * loop turn (LogWriter.run returns 'turn') until the callback ran. Retention deletes nothing while an
 * offset waits (Retention.held), so the log start never passes the published durable offset.
 */
import { I32, I64, bump, storeOffset, type ControlViews } from '../ring/layout.js';
import type { DurableHintWriter } from '../storage/durable-hint.js';
import type { WriteBehind } from './write-behind.js';

export class DurablePublisher {
  private published: number;
  private covered: number;

  constructor(private readonly c: ControlViews, private readonly hint: DurableHintWriter, private readonly behind: WriteBehind, offset: number) {
    this.published = this.covered = offset;
    hint.publish(offset);
    storeOffset(c, I64.DURABLE_OFFSET, offset);
  }

  /** An offset the writer's fsync covered waits for a running write-behind call's end. */
  get waiting(): boolean {
    return this.published < this.covered;
  }

  /**
   * The writer's own fsync covered `offset`: publishes it (without waking waiters) unless a call's
   * result is unknown, and then says true; else it waits for publishWaiting(). Throws a call's error.
   */
  cover(offset: number): boolean {
    this.covered = offset;
    if (this.behind.running) return false;
    this.publish();
    return true;
  }

  /**
   * Publishes an offset that waited, once its call ended well (throws the call's error), with
   * ROLL_PENDING held across `then` (retention, which must never raise the log start past the
   * published durable offset), then wakes the waiters: a flush that resolves sees retention done.
   */
  publishWaiting(then: () => void): void {
    if (!this.waiting || this.behind.running) return;
    Atomics.store(this.c.i32, I32.ROLL_PENDING, 1);
    this.publish();
    then();
    Atomics.store(this.c.i32, I32.ROLL_PENDING, 0);
    bump(this.c, I32.DURABLE_SEQ);
  }

  close(): void {
    this.hint.close();
  }

  private publish(): void {
    this.behind.check();
    this.hint.publish(this.covered);
    this.published = this.covered;
    storeOffset(this.c, I64.DURABLE_OFFSET, this.covered);
  }
}
