/**
 * Waiting on a shared-memory slot from an event loop: Atomics.waitAsync (native in Node 20, so no
 * polyfill), bounded by `ms`. A pending waitAsync does not keep Node's event loop alive, so a ref'd
 * timer runs beside it: `await producer.flush()` or a blocking consumer keeps the process running
 * until it is answered, as any pending I/O would.
 */
export function waitSlot(i32: Int32Array, slot: number, seen: number, ms: number): Promise<void> {
  const w = Atomics.waitAsync(i32, slot, seen, ms);
  if (!w.async) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const keepAlive = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms + 5); });
  return Promise.race([w.value.then(() => undefined), keepAlive]).finally(() => clearTimeout(timer));
}
