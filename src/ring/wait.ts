/**
 * Waiting on a shared-memory slot from an event loop: Atomics.waitAsync (native in Node 20, so no
 * polyfill), bounded by `ms`, or by the caller when `ms` is Infinity (consumer/waiter.ts: a timed wait
 * costs the event loop a wake-up of its own). A pending waitAsync does not keep Node's event loop alive, so while any
 * wait of this thread is pending one ref'd timer is held: `await producer.flush()` or a blocking
 * consumer keeps the process running until it is answered, as any pending I/O would. The timer is
 * shared and only ref'd and unref'd, so a wait allocates no timer of its own (a consumer at the log's
 * end waits once per batch of records, tens of thousands of times a second).
 */
const RESOLVED: Promise<void> = Promise.resolve();
let pending = 0;
let keeper: NodeJS.Timeout | null = null;

function hold(): void {
  if (pending++ === 0) (keeper ??= setInterval(noop, 2 ** 30)).ref();
}

function release(): void {
  if (--pending === 0) keeper?.unref();
}

function noop(): void {}

export function waitSlot(i32: Int32Array, slot: number, seen: number, ms: number): Promise<void> {
  const w = Atomics.waitAsync(i32, slot, seen, ms);
  if (!w.async) return RESOLVED;
  hold();
  return w.value.then(release, release);
}
