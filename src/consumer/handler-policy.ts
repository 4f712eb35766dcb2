/**
 * What a handler's answer means, for both places that call handlers: the in-process loop
 * (src/consumer/process.ts) and a pool worker's lane (src/consumer/pool-lane.ts). One check of the
 * outcome and one retry delay, so both places apply the same table and the same backoff.
 */
import { LogError } from '../errors.js';
import { describe } from '../validate.js';
import type { Outcome } from '../types.js';
import type { ResolvedRetry } from './start-plan.js';

const OUTCOMES = new Set<unknown>(['commit', 'retry', 'skip', 'break'] satisfies Outcome[]);

/** The handler's answer if it is one of the four outcomes; else ERR_INVALID_OPTION naming the handler. */
export function checkOutcome(answer: unknown): Outcome {
  if (!OUTCOMES.has(answer)) {
    throw LogError.invalidOption('handler', `returned ${describe(answer)}; expected 'commit', 'retry', 'skip' or 'break'`);
  }
  return answer as Outcome;
}

/**
 * The wait in ms after failed attempt number `attempt` (counted from 1) before the next one. The
 * exponent stops growing once the delay is past any bound (2 ** 1024 is Infinity, and 0 * Infinity NaN).
 */
export function retryDelayMs(retry: ResolvedRetry, attempt: number): number {
  return retry.backoff === 'fixed' ? retry.delayMs : Math.min(retry.maxDelayMs, retry.delayMs * 2 ** Math.min(attempt - 1, 64));
}

/**
 * What a dead letter keeps of a value the handler threw (its lastError): an Error's message, null for
 * a throw of undefined or null, else the value as a string (valueText).
 */
export function errorText(thrown: unknown): string | null {
  return thrown === undefined || thrown === null ? null : valueText(thrown);
}

/**
 * A thrown value as text: an Error's message, else `String(value)`. One that String() cannot convert
 * (no prototype, a throwing toString or message getter) is its `Object.prototype.toString` tag, so
 * that making the text never throws in place of the handler's own error.
 */
export function valueText(value: unknown): string {
  try {
    const text: unknown = value instanceof Error ? value.message : value;
    return typeof text === 'string' ? text : String(text);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return '[object]';
    }
  }
}
