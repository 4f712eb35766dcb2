/**
 * The control plane between a producer handle and its writer thread: comlink over a MessagePort of
 * its own, typed end to end by {@link WriterControl}. Records never travel here; only calls an
 * operator makes now and then (a roll on demand, the segment list).
 *
 * comlink's Node adapter listens for 'message' events, which a thread receives only when its event
 * loop turns. The writer thread's loop is synchronous (it sleeps in Atomics.wait between groups), so
 * each side has an endpoint of its own here:
 * - {@link HandleEndpoint} (the handle's thread) posts a call, then counts it in I32.CONTROL_CALLS and
 *   wakes the writer, whose sleep would otherwise last up to its bound;
 * - {@link WriterEndpoint} (the writer thread) is drained with receiveMessageOnPort when the writer
 *   loop sees a call counted: the loop returns between two groups of records, the writer thread
 *   answers (comlink posts each answer from a promise callback, so the thread then lets its event
 *   loop turn once) and re-enters the loop.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { expose, type Endpoint } from 'comlink';
import { I32, wakeWriter, type ControlViews } from '../ring/layout.js';

/** A segment as the writer sees it: the active one last, its bytes and end as written so far. */
export interface SegmentEntry {
  /** The offset of its first record (its file is named after it). */
  readonly baseOffset: number;
  /** The offset after its last written record. */
  readonly endOffset: number;
  /** Its size in bytes (header and frames). */
  readonly bytes: number;
  /** The timestamp of its newest record (its creation time while it has none). */
  readonly lastTimestampMs: number;
  /** True for the segment the writer appends to. */
  readonly active: boolean;
}

/** The segment a roll sealed. */
export interface SealedSegment {
  /** The offset of its first record. */
  readonly baseOffset: number;
  /** The offset after its last record. */
  readonly endOffset: number;
  /** Its size in bytes (header and frames). */
  readonly bytes: number;
}

/** What a roll on demand did. */
export interface RollResult {
  /** The segment sealed. */
  readonly sealed: SealedSegment;
  /** The base offset of the new active segment (the sealed one's end). */
  readonly baseOffset: number;
}

/** The calls the writer thread answers. Each runs on the writer thread between two groups of records. */
export interface WriterControl {
  /** Seals the active segment (fsynced with its index) and starts a new one; null when the active segment holds no record. */
  roll(): RollResult | null;
  /** The segments, oldest first, the active one last. */
  segments(): SegmentEntry[];
}

type Listener = Parameters<Endpoint['addEventListener']>[1];

/** Delivers a message to a comlink listener, which is either a function or an object with handleEvent. */
function deliver(listener: Listener, data: unknown): void {
  const event = { data } as MessageEvent;
  if (typeof listener === 'function') listener(event);
  else listener.handleEvent(event);
}

/** The handle's side: comlink's calls go out on the port, then the writer is told and woken. */
export class HandleEndpoint implements Endpoint {
  private readonly listeners = new Map<Listener, (data: unknown) => void>();

  constructor(private readonly port: MessagePort, private readonly c: ControlViews) {
    // The port never keeps the process alive: an open producer does not (its writer thread is unref'd),
    // and while a call waits for its answer the producer refs the writer thread (src/producer/writer-link.ts).
    port.unref();
  }

  postMessage(message: unknown, transfer?: Parameters<Endpoint['postMessage']>[1]): void {
    this.port.postMessage(message, transfer as never);
    Atomics.add(this.c.i32, I32.CONTROL_CALLS, 1); // after the post: the writer that sees the count finds the message
    wakeWriter(this.c);
  }

  addEventListener(_type: string, listener: Listener): void {
    const onMessage = (data: unknown): void => deliver(listener, data);
    this.listeners.set(listener, onMessage);
    this.port.on('message', onMessage);
    this.port.unref(); // on('message') refs the port again
  }

  removeEventListener(_type: string, listener: Listener): void {
    const onMessage = this.listeners.get(listener);
    if (onMessage === undefined) return;
    this.port.off('message', onMessage);
    this.listeners.delete(listener);
  }

  /** Delivers the answers still queued on the port (the writer thread posted them before it exited), then closes it. */
  close(): void {
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
      for (const listener of this.listeners.keys()) deliver(listener, m.message);
    }
    this.port.close();
  }
}

/** The writer's side: drained on demand, synchronously, by {@link WriterEndpoint.drain}. */
export class WriterEndpoint implements Endpoint {
  private readonly listeners = new Set<Listener>();
  /** What a call threw: the writer fails with it (drain() rethrows it). */
  private failure: { readonly error: unknown } | null = null;

  constructor(private readonly port: MessagePort, private readonly c: ControlViews) {}

  postMessage(message: unknown, transfer?: Parameters<Endpoint['postMessage']>[1]): void {
    this.port.postMessage(message, transfer as never);
  }

  addEventListener(_type: string, listener: Listener): void {
    this.listeners.add(listener);
  }

  removeEventListener(_type: string, listener: Listener): void {
    this.listeners.delete(listener);
  }

  /**
   * Answers the calls with `control`'s methods. A method that throws (an fsync that fails in a roll)
   * fails the writer as the loop's own errors do: drain() rethrows the error, and the call is left
   * unanswered, so its caller gets the writer's error with its details, as every other caller does.
   * Calls drained after it in the same pass are not run, and are left unanswered too.
   */
  serve(control: WriterControl): void {
    const guard = <A extends unknown[], R>(method: (...args: A) => R) => (...args: A): R => {
      // After a failure no call runs: the writer is failing, and a call drained behind the one that
      // threw must not do I/O on it (an fsync retried after EIO may report success).
      if (this.failure !== null) return new Promise<never>(() => undefined) as R;
      try {
        return method(...args);
      } catch (error) {
        this.failure ??= { error };
        return new Promise<never>(() => undefined) as R;
      }
    };
    expose({ roll: guard(() => control.roll()), segments: guard(() => control.segments()) } satisfies WriterControl, this);
  }

  /**
   * Takes the count and hands every message the port holds to comlink. Returns how many there were;
   * throws what a call threw (see serve()).
   */
  drain(): number {
    Atomics.exchange(this.c.i32, I32.CONTROL_CALLS, 0); // before the reads: a call counted later is seen next time
    let n = 0;
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
      n++;
      for (const listener of this.listeners) deliver(listener, m.message);
    }
    if (this.failure !== null) throw this.failure.error;
    return n;
  }
}
