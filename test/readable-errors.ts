/**
 * uvu formats a failure's `details` as a string; a LogError's `details` is an object, so a LogError
 * escaping a test makes uvu's reporter throw and the run ends with the failure unexplained (and the
 * tests after it unrun). `readableErrors(test)` wraps every test body so that such an error is rethrown
 * as a plain Error naming its code, message and details.
 */
import type { Callback, Test } from 'uvu';

export function readable(e: unknown): unknown {
  if (e instanceof Error && 'details' in e && typeof (e as { details: unknown }).details !== 'string') {
    const code = (e as { code?: unknown }).code;
    const err = new Error(`${e.name} ${String(code)}: ${e.message} (details ${JSON.stringify((e as { details: unknown }).details)})`, { cause: e });
    err.stack = `${err.message}\n${(e.stack ?? '').split('\n').slice(1).join('\n')}`;
    return err;
  }
  return e;
}

function wrap<T>(fn: Callback<T>): Callback<T> {
  return async (ctx) => {
    try {
      await fn(ctx);
    } catch (e) {
      throw readable(e);
    }
  };
}

export function readableErrors<T>(t: Test<T>): Test<T> {
  const w = ((name: string, fn: Callback<T>) => t(name, wrap(fn))) as Test<T>;
  w.before = t.before;
  w.after = t.after;
  w.run = t.run;
  return w;
}
