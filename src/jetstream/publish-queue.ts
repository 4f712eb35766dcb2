/**
 * The JetStream producer's queue (producer.ts): the records appended and not yet acknowledged, in
 * offset order; the first `sent` of them are published and await their acknowledgement. Acknowledged
 * records are dropped by moving `head` (Array.shift() copies the whole array once it is large, which
 * made each acknowledgement cost the queue's length), and the array is compacted when the dropped
 * part is the larger half.
 */
import type { MsgHdrs } from '@nats-io/transport-node';
import { ErrorCode, LogError } from '../errors.js';

/** Bytes a queued record counts beside its data and key (the queue's bookkeeping). */
export const RECORD_OVERHEAD_BYTES = 64;

export interface Queued {
  readonly offset: number;
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | null;
  /** Its Nats-Msg-Id; dropped when the stream took the record for a duplicate the producer's window no longer holds. */
  dedupKey: string | undefined;
  /** What the record counts against maxQueueBytes: its size (data, key, headers) plus RECORD_OVERHEAD_BYTES. */
  readonly bytes: number;
}

export class PublishQueue {
  private items: Array<Queued | undefined> = [];
  private head = 0;
  /** The first `sent` records were published and await their acknowledgement. */
  sent = 0;
  /** What the queued records count against maxQueueBytes. */
  bytes = 0;

  /** Records queued (appended, not yet acknowledged). */
  get length(): number {
    return this.items.length - this.head;
  }

  push(r: Queued): void {
    this.items.push(r);
    this.bytes += r.bytes;
  }

  /** The first record not yet published; it counts as sent from now on. */
  nextToSend(): Queued {
    return this.items[this.head + this.sent++]!;
  }

  /** Drops the oldest record (it is acknowledged) and returns it. */
  shift(): Queued {
    const r = this.items[this.head]!;
    this.items[this.head++] = undefined;
    this.bytes -= r.bytes;
    return r;
  }

  /** Compacts the array once the dropped part is the larger half. */
  compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * Waits while `full()` (the producer's writable()): each wait ends when a waker pushed on `waiters`
 * is called (an acknowledgement, the producer's failure or close), when `signal` aborts (ERR_ABORTED)
 * or at the deadline, `timeoutMs` from now on the monotonic clock (ERR_LOG_FULL: a wall clock stepped
 * neither ends it early nor stretches it); `failure()` (the producer's failure, ERR_LOG_CLOSED once
 * close() was called) ends it with that error, even when room came meanwhile.
 * A wait that ends leaves no timer, no listener on `signal` and no waker behind.
 */
export async function waitForRoom(full: () => boolean, failure: () => LogError | null, waiters: Array<() => void>, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    // The failure first, as locally: a producer failed or closed while this waited has no room to give.
    const failed = failure();
    if (failed !== null) throw failed;
    if (!full()) return;
    if (signal?.aborted === true) throw LogError.aborted('writable()', signal);
    const left = deadline - performance.now();
    if (left <= 0) throw new LogError(ErrorCode.LOG_FULL, `no room in the producer's queue within appendTimeoutMs (${timeoutMs} ms)`);
    await new Promise<void>((resolve) => {
      // Whichever ends the wait, the timer, the listener and the waker go (a wait that timed out
      // left the last two until the next acknowledgement: listeners piled up on a long-lived signal).
      const wake = (): void => {
        clearTimeout(t);
        signal?.removeEventListener('abort', wake);
        const at = waiters.indexOf(wake);
        if (at >= 0) waiters.splice(at, 1);
        resolve();
      };
      const t = setTimeout(wake, left);
      signal?.addEventListener('abort', wake, { once: true });
      waiters.push(wake);
    });
  }
}
