/**
 * A flush() of the JetStream producer waiting for its records' acknowledgements: its signal ends the
 * wait with ERR_ABORTED (the signal's reason as the cause), as `producer.flush({ signal })` does on
 * a local log. Only the wait ends: the records go on to the
 * stream, and the waiter left in the producer's list settles a promise already settled.
 */
import { LogError } from '../errors.js';

/** What the producer keeps of a waiting flush: ends it once its records are acknowledged, or with an error. */
export interface FlushSettle {
  resolve(): void;
  reject(e: Error): void;
}

/** ERR_ABORTED of a flush whose signal aborted before its records were acknowledged. */
export function flushAborted(signal: AbortSignal): LogError {
  return LogError.aborted('flush', signal, ': the records may not be acknowledged yet');
}

/** Waits until `register`'s waiter is settled, or `signal` aborts (its listener removed either way). */
export function waitFlush(signal: AbortSignal | undefined, register: (w: FlushSettle) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal === undefined) return register({ resolve, reject });
    const onAbort = (): void => reject(flushAborted(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (): void => signal.removeEventListener('abort', onAbort);
    register({ resolve: () => { done(); resolve(); }, reject: (e) => { done(); reject(e); } });
  });
}

/** The producer's waiting flushes, each waiting until the records below its target are acknowledged. */
export class FlushWaiters {
  private waiters: Array<FlushSettle & { readonly target: number }> = [];

  add(target: number, w: FlushSettle): void { this.waiters.push({ target, ...w }); }

  /** Resolves the flushes whose records below `acked` are all acknowledged. */
  settleThrough(acked: number): void {
    if (this.waiters.length === 0) return;
    const still = this.waiters.filter((w) => w.target > acked);
    for (const w of this.waiters) if (w.target <= acked) w.resolve();
    this.waiters = still;
  }

  rejectAll(e: Error): void { for (const w of this.waiters.splice(0)) w.reject(e); }
}
