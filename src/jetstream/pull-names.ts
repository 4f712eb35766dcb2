/**
 * The pull's handling of nats.js's ordered consumers (pull.ts): stopping one for good, and the names
 * nats.js gives one it makes again (`<prefix>_<n>`, counting up at each reset).
 */
import type { Consumer, ConsumerMessages } from '@nats-io/jetstream';

/** Stops a consumer's messages; nats.js calls their reset() without looking whether they were stopped. */
export function halt(m: ConsumerMessages): void {
  m.stop();
  (m as unknown as { reset: () => void }).reset = () => undefined;
}
/** An ordered consumer's current name (nats.js renames the object when it makes the consumer again). */
export const nameOf = (c: Consumer): string => String((c as { name?: unknown }).name);
/** The name of the consumer info nats.js last received (the consumer it last made). */
export const infoNameOf = (c: Consumer): string => String((c as { _info?: { name?: unknown } })._info?.name);
/** The serial n of `name`, `<prefix>_<n>` as nats.js names an ordered consumer, counting up at each reset (1 for another form). */
export const serialOf = (prefix: string, name: string): number => (name.startsWith(prefix) ? Number(/^_(\d{1,9})$/.exec(name.slice(prefix.length))?.[1] ?? 1) : 1);
