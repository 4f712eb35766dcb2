/**
 * The producer's resync after a failed publish (src/jetstream/producer.ts). A publish that fails
 * leaves the records in flight in doubt: stored or not, the client cannot tell (a leader change, a
 * lost connection, an acknowledgement that timed out). The stream can: its last sequence says how
 * far the log goes. Records up to it are the producer's own when nobody else could have appended,
 * that is when the producer's lease still holds the revision of its last renewal (a take, a release
 * or an expiry would have changed it). Then they count as acknowledged and publishing goes on from
 * there; the fence (each publish's expected last sequence) keeps every later publish in order.
 */
import { ErrorCode, LogError } from '../errors.js';
import type { Lease } from './lease.js';
import type { Session } from './session.js';

/** Between two reads of a stream that does not answer (a leader election takes seconds). */
const RETRY_MS = 250;

/**
 * Returns the offset the log ends at, every record below it stored and this producer's: `acked`
 * (acknowledged so far) up to `next` (the offset the next append gets). Tries until `deadline` (ms).
 * @throws {@link LogError} `ERR_LOG_LOCKED` when another producer may have appended; `ERR_IO` when
 *   the stream does not answer in time, is gone, or ends before records it acknowledged.
 */
export async function resync(session: Session, lease: Lease, acked: number, next: number, failedOffset: number, cause: unknown, deadline: number): Promise<number> {
  const { stream, timeoutMs } = session.options;
  if (Date.now() > deadline) {
    throw new LogError(ErrorCode.IO, `publishing record ${failedOffset} to stream ${stream} failed (${(cause as Error)?.message ?? String(cause)}), and no publish was acknowledged for ${2 * timeoutMs} ms since the first failure: records from offset ${acked} on may or may not be stored`, { offset: failedOffset }, { cause });
  }
  const what = `publishing record ${failedOffset} to stream ${stream} failed (${(cause as Error)?.message ?? String(cause)})`;
  let last = cause;
  for (;;) {
    let endOffset: number;
    let held = true;
    try {
      endOffset = (await session.bounds()).endOffset;
      if (endOffset > acked && endOffset <= next) held = await lease.stillHeld();
    } catch (e) {
      // The stream or the bucket not answering yet (an election, a reconnect): read again, bounded.
      last = e;
      const left = deadline - Date.now();
      if (left <= 0 || /stream not found/i.test((e as Error)?.message ?? '')) {
        throw new LogError(ErrorCode.IO, `${what}, and the stream did not answer within ${2 * timeoutMs} ms of the first failure (${(last as Error)?.message ?? String(last)}): records from offset ${acked} on may or may not be stored`, { offset: failedOffset }, { cause: last });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_MS, left)));
      continue;
    }
    if (endOffset > next) {
      throw new LogError(ErrorCode.LOG_LOCKED, `${what}, and the stream holds records up to offset ${endOffset - 1}, past this producer's last (${next - 1}): another producer appended`, { offset: failedOffset }, { cause });
    }
    if (endOffset < acked) {
      throw new LogError(ErrorCode.IO, `${what}, and the stream ends at offset ${endOffset}, below the ${acked} records it acknowledged: the engine lost acknowledged records`, { offset: failedOffset }, { cause });
    }
    if (!held) {
      throw new LogError(ErrorCode.LOG_LOCKED, `${what}, and the producer's lease changed hands meanwhile: records from offset ${acked} on may be another producer's`, { offset: failedOffset }, { cause });
    }
    return endOffset;
  }
}
