/**
 * An Error a pool handler threw, as it crosses from the worker to the consumer's thread (pool-lane.ts
 * errorStop, pool-round.ts): its message and code travel as before, and with them what the caller
 * may branch on: the nearest built-in class (TypeError, RangeError, ...; a subclass arrives as that
 * class, its own class cannot cross), its name, its stack, its cause (a primitive as it is, an Error
 * as one of its message and name, anything else as text) and its own enumerable properties whose
 * values are primitives (an HTTP `status`, say).
 */
import { valueText } from './handler-policy.js';

const BUILTINS = [TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError];
const FIELDS_SKIPPED = new Set(['code', 'message', 'name', 'stack', 'cause']);
type Primitive = string | number | boolean | bigint | null | undefined;

/** The parts of a thrown Error that cross the thread (structured-cloneable). */
export interface ThrownShape {
  readonly base: string;
  readonly name: string;
  readonly stack: string | null;
  readonly cause: { readonly value: Primitive } | { readonly error: { readonly name: string; readonly message: string } } | null;
  readonly fields: Record<string, Primitive>;
}

const primitive = (v: unknown): v is Primitive => v === null || (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol');

/** What crosses of `e`: null when it is no Error. Its getters run the handler's code: the caller catches what they throw. */
export function thrownShape(e: unknown): ThrownShape | null {
  if (!(e instanceof Error)) return null;
  const base = BUILTINS.find((C) => e instanceof C)?.name ?? 'Error';
  const fields: Record<string, Primitive> = {};
  for (const key of Object.keys(e)) {
    const v = (e as unknown as Record<string, unknown>)[key];
    if (!FIELDS_SKIPPED.has(key) && primitive(v)) fields[key] = v;
  }
  let cause: ThrownShape['cause'] = null;
  if ('cause' in e) {
    const c = e.cause;
    cause = primitive(c) ? { value: c } : c instanceof Error ? { error: { name: String(c.name), message: String(c.message) } } : { value: valueText(c) };
  }
  return { base, name: typeof e.name === 'string' ? e.name : base, stack: typeof e.stack === 'string' ? e.stack : null, cause, fields };
}

/** The error the call rejects with: of the shape's built-in class, with its name, stack, cause and fields; `code` when given. */
export function rebuildThrown(message: string, code: string | null, shape: ThrownShape | null): Error {
  const C = BUILTINS.find((B) => B.name === shape?.base) ?? Error;
  const cause = shape?.cause ?? null;
  const options = cause === null ? undefined
    : { cause: 'value' in cause ? cause.value : Object.defineProperty(new Error(cause.error.message), 'name', { value: cause.error.name, writable: true, configurable: true }) };
  const err = new C(message, options);
  if (shape !== null) {
    Object.assign(err, shape.fields);
    if (shape.name !== C.name) Object.defineProperty(err, 'name', { value: shape.name, writable: true, configurable: true });
    if (shape.stack !== null) err.stack = shape.stack;
  }
  return code === null ? err : Object.assign(err, { code });
}
