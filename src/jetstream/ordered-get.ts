/**
 * The get of an ordered consumer (nats.js consumers.get(), which creates it on the server) under a
 * name chosen here, `<prefix>_1` with a random prefix. A get that fails may still have made the
 * consumer (its answer came after the request timed out, as on a loaded machine: the timer fires
 * before the answer is read); the server would keep it for its inactivity threshold (5 minutes).
 * Only a name chosen before the request lets that consumer be deleted.
 */
import { randomBytes } from 'node:crypto';
import type { Consumer, JetStreamClient, OrderedConsumerOptions } from '@nats-io/jetstream';
import type { Session } from './session.js';

export interface OrderedGet {
  /** The get: the consumer it made. */
  readonly getting: Promise<Consumer>;
  /** Deletes the consumer a failed get may have made (rejects as the delete does: not found, when it made none). */
  readonly deleteLost: () => Promise<unknown>;
}

/** Starts the get of an ordered consumer of the session's stream with `opts` (its name_prefix chosen here). */
export function getOrdered(session: Session, client: JetStreamClient, opts: Partial<OrderedConsumerOptions>): OrderedGet {
  const { stream } = session.options;
  const prefix = randomBytes(12).toString('hex');
  return {
    getting: client.consumers.get(stream, { ...opts, name_prefix: prefix }),
    deleteLost: () => session.jsm.consumers.delete(stream, `${prefix}_1`),
  };
}
