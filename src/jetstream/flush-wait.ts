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
