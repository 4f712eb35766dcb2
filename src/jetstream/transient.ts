/**
 * Which failures may pass when a request (or a connect) is tried again: a timeout, no responders, a
 * leader election, a lost connection, a connection the server accepted and dropped before the
 * handshake ended. ride.ts tries those again; session.ts classifies a failed connect with them.
 */
import { ErrorCode, LogError } from '../errors.js';

/** Errors after which the server may answer again. "connection closed" is the handle's own close: final. */
const TRANSIENT = /timeout|timed out|no responders|503|disconnect|reconnect|jetstream is not enabled|temporarily unavailable|leader|heartbeat|consumer not found|no record arrived/i;
/**
 * A connect whose connection the server accepted, then lost before the handshake ended: reset or
 * aborted (Node's codes, a TLS handshake cut included), or closed with no error (nats.js's "node
 * provided an undefined error", session.ts words it). Not a refusal (ECONNREFUSED, nothing
 * listening: final), nor a server that answered something else than NATS, or refused the client.
 */
const DROPPED_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
const droppedConnection = (e: unknown): boolean => {
  const code = (e as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && DROPPED_CODES.has(code)) || /node provided an undefined error/i.test((e as Error)?.message ?? '');
};

/**
 * Whether a failed request may succeed when tried again (see TRANSIENT). A LogError is final, unless
 * it is an ERR_IO wrapping a transient error (session.ts codes the errors of its requests).
 */
export function transientError(e: unknown): boolean {
  if (e instanceof LogError) return e.code === ErrorCode.IO && e.cause !== undefined && !(e.cause instanceof LogError) && transientError(e.cause);
  if (droppedConnection(e) || e instanceof ServerMayAnswer) return true;
  const message = (e as Error)?.message ?? String(e);
  return TRANSIENT.test(message) && !/connection closed/i.test(message);
}

/**
 * A connect that failed for good to the servers together, though one of them, asked again on its own,
 * connected or failed in a way that may pass (connect.ts): tried again, as a transient failure is.
 */
export class ServerMayAnswer extends Error {}
