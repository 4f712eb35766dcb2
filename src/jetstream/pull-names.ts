/**
 * The pull's handling of nats.js's ordered consumers (pull.ts): stopping one for good, the names
 * nats.js gives one it makes again (`<prefix>_<n>`, counting up at each reset), and the deletes of
 * the consumers the pull stopped (StoppedConsumers).
 */
import type { Consumer, ConsumerMessages } from '@nats-io/jetstream';
import type { Session } from './session.js';

/** How long close() waits for a consumer's get or delete to reach the server (none reaches a server that is away). */
const QUIESCE_MS = 1_000;
/** Consumers stopped by the pull that are watched for nats.js making them again (see pull.ts). */
const DROPPED_WATCHED = 8;

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

/**
 * The consumers a pull stopped, deleted on the server: each name of a stopped consumer's prefix up to
 * its current one (a reset's failed creation may have made one), and again the names nats.js makes
 * them under afterwards; with the requests in flight that close() waits for (quiesce).
 */
export class StoppedConsumers {
  /** Consumers stopped, with their names' prefix and the serial up to which they were deleted. */
  private readonly dropped: Array<{ readonly consumer: Consumer; readonly prefix: string; deleted: number }> = [];
  private readonly requests = new Set<Promise<void>>();

  constructor(private readonly session: Session) {}

  /** Deletes `consumer` (null: none) and what nats.js made again of those stopped before. */
  drop(consumer: Consumer | null): void {
    this.deleteRemade();
    if (consumer === null) return;
    const d = { consumer, prefix: infoNameOf(consumer).replace(/_\d+$/, ''), deleted: 0 };
    this.deleteUpTo(d, serialOf(d.prefix, infoNameOf(consumer)) - 1);
    this.track(consumer.delete()); // that of its last info
    d.deleted++;
    this.dropped.push(d);
    if (this.dropped.length > DROPPED_WATCHED) this.dropped.shift();
  }

  /** Deletes the consumers nats.js made again after the pull stopped them. */
  deleteRemade(): void {
    for (const d of this.dropped) this.deleteUpTo(d, serialOf(d.prefix, nameOf(d.consumer)));
  }

  /** A request close() waits for. */
  track(p: Promise<unknown>): void {
    const q: Promise<void> = p.then(() => undefined, () => undefined).finally(() => this.requests.delete(q));
    this.requests.add(q);
  }

  /** Waits (at most QUIESCE_MS) for the requests tracked to reach the server. */
  async quiesce(): Promise<void> {
    this.deleteRemade();
    let t: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => { t = setTimeout(resolve, QUIESCE_MS); });
    const all = (async () => { while (this.requests.size > 0) await Promise.all([...this.requests]); })();
    await Promise.race([all, bound]);
    clearTimeout(t);
  }

  /** Deletes the names of `d`'s prefix past those deleted, up to serial `last`. */
  private deleteUpTo(d: { readonly prefix: string; deleted: number }, last: number): void {
    const { jsm, options } = this.session;
    for (; d.deleted < last; d.deleted++) this.track(jsm.consumers.delete(options.stream, `${d.prefix}_${d.deleted + 1}`));
  }
}
