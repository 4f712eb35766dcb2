/**
 * uvu formats a failure's `details` as a string; a LogError's `details` is an object, so a LogError
 * escaping a test makes uvu's reporter throw and the run ends with the failure unexplained (and the
 * tests after it unrun). `readableErrors(test)` wraps every test body so that such an error is rethrown
 * as a plain Error naming its code, message and details.
 *
 * uvu also swallows an error thrown by a `before` hook: its runner returns from a `finally` block, so
 * the suite reports "(0 / N)" with no failure and the process exits 0. The wrapper records such an
 * error, prints it, and makes every test of the suite fail with it.
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

function wrap<T>(fn: Callback<T>, hookFailure: { error?: unknown }): Callback<T> {
  return async (ctx) => {
    if (hookFailure.error !== undefined) { const cause = readable(hookFailure.error); throw new Error(`a before hook of this suite failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause }); }
    try {
      await fn(ctx);
    } catch (e) {
      throw readable(e);
    }
  };
}

function guardHook<T>(fn: Callback<T>, hookFailure: { error?: unknown }): Callback<T> {
  return async (ctx) => {
    if (hookFailure.error !== undefined) return;
    try {
      await fn(ctx);
    } catch (e) {
      hookFailure.error = e;
      console.error('before hook failed:', readable(e));
    }
  };
}

export function readableErrors<T>(t: Test<T>): Test<T> {
  const hookFailure: { error?: unknown } = {};
  const w = ((name: string, fn: Callback<T>) => t(name, wrap(fn, hookFailure))) as Test<T>;
  const before = ((fn: Callback<T>) => t.before(guardHook(fn, hookFailure))) as Test<T>['before'];
  before.each = (fn: Callback<T>) => t.before.each(guardHook(fn, hookFailure));
  w.before = before;
  w.after = t.after;
  w.skip = t.skip;
  w.only = ((name: string, fn: Callback<T>) => t.only(name, wrap(fn, hookFailure))) as Test<T>['only'];
  w.run = t.run;
  return w;
}
