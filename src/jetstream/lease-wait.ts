/**
 * Why a producer waiting for a renewal of its lease (producer.ts, leaseReady: the lease is not surely
 * live, so nothing is published) stops, and when: the lease found taken or expired stops it with
 * ERR_LOG_LOCKED, no renewal within 2 x timeoutMs of the wait's start (or of the first failed
 * publish, when earlier) with ERR_IO. Renewals the server refused because its JetStream storage is
 * full (lease.ts, refusedFull) stop it with ERR_DISK_FULL instead, whether the bound passed or the
 * lease expired meanwhile: nobody took the lease over, and the refusal is what happened.
 * The bound is the server's, as a ride's (ride.ts): a renewal try sent in its last timeoutMs that
 * failed past it (lost while the server was away) may have missed a server that answers again by
 * then, so one more try follows; only a try sent past the bound ends the wait.
 */
import { ErrorCode, LogError } from '../errors.js';
import type { Lease } from './lease.js';
import { lastTryBeforeBound } from './ride.js';

export interface LeaseWait {
  readonly stream: string;
  readonly timeoutMs: number;
  /** When the wait's bound counts from (performance.now(), ms). */
  readonly since: number;
  /** The first record not acknowledged. */
  readonly acked: number;
}

/** The error that ends the wait for `lease` (not live), or null while a renewal may still come. */
export function leaseWaitFailure(lease: Lease, w: LeaseWait): LogError | null {
  const { stream, timeoutMs, acked } = w;
  const deadline = w.since + 2 * timeoutMs;
  const lastTry = lastTryBeforeBound(lease.lastTrySentAt, deadline, timeoutMs); // one more follows
  const past = performance.now() > deadline && !lastTry;
  const refused = lease.takenOver ? null : lease.refusedFull;
  if (refused !== null && (lease.lost !== null || past)) {
    return new LogError(ErrorCode.DISK_FULL, `the producer's lease on stream ${stream} was not renewed: the server refused its renewals (${refused.message}), its JetStream storage (or the account's) is full; records from offset ${acked} on are not acknowledged`, {}, { cause: refused });
  }
  if (lease.lost !== null) {
    return new LogError(ErrorCode.LOG_LOCKED, `the producer's lease on stream ${stream} is lost (${lease.lost.message}): another producer may append now`, {}, { cause: lease.lost });
  }
  if (past) {
    return new LogError(ErrorCode.IO, `the producer's lease on stream ${stream} was not renewed within 2 x timeoutMs (${2 * timeoutMs} ms): records from offset ${acked} on may or may not be stored`);
  }
  return null;
}
