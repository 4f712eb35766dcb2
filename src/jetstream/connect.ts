/**
 * An open's connect to NATS. Given several servers, nats.js tries each once, in a shuffled order, and
 * rejects with the last one's error only: a refusal (nothing listening, final) from the server tried
 * last hid another's dropped handshake or timeout, which may pass on the next try, and the open
 * failed at once. So a final error with several servers is checked: each server is asked again on
 * its own, all at once. Any that connects, or fails in a way that may pass, makes the failure
 * transient (the open tries again: ride.ts); only when each fails for good (refused, not NATS, the
 * client refused) is it final. The error's message names each server's failure.
 */
import type * as TransportNode from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { ErrorCode, LogError } from '../errors.js';
import type { ResolvedJetStreamOptions } from './options.js';
import { ServerMayAnswer, transientError } from './transient.js';

/** A connect's error in words; nats.js's words for a socket closed with no error before the server's INFO are a connection cut. */
function describe(e: unknown): string {
  const message = (e as Error)?.message ?? String(e);
  return /node provided an undefined error/i.test(message) ? 'the connection was closed during the handshake (node provided an undefined error)' : message;
}

/** Connects to `o.servers` (reconnecting to them for good once connected); a failure as ERR_IO, see the module comment. */
export async function connectNats(transport: typeof TransportNode, o: ResolvedJetStreamOptions): Promise<NatsConnection> {
  const name = `reactive-log ${o.stream}`;
  try {
    return await transport.connect({ servers: o.servers, timeout: o.timeoutMs, maxReconnectAttempts: -1, reconnectTimeWait: 250, name });
  } catch (e) {
    const failed = (why: string, cause: unknown): LogError => new LogError(ErrorCode.IO, `connecting to NATS at ${o.servers.join(', ')} failed: ${why}`, {}, { cause });
    if (o.servers.length < 2 || transientError(e)) throw failed(describe(e), e);
    const each = await Promise.all(o.servers.map(async (server) => {
      try {
        await (await transport.connect({ servers: server, timeout: o.timeoutMs, reconnect: false, name })).close().catch(() => undefined);
        return { server, error: null as unknown, passes: true };
      } catch (x) {
        return { server, error: x, passes: transientError(x) };
      }
    }));
    const why = each.map((r) => `${r.server}: ${r.passes && r.error === null ? 'connected when asked again on its own' : describe(r.error)}`).join('; ');
    if (!each.some((r) => r.passes)) throw failed(why, e);
    throw failed(why, new ServerMayAnswer(why, { cause: each.find((r) => r.passes)?.error ?? e }));
  }
}
