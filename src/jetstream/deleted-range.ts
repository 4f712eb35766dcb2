/**
 * Messages deleted from a stream (`nats stream rmm`), seen from a reader: the record at an offset
 * that is not stored, and the range deleted from there. Deleted at the stream's end, such records
 * would be owed by the pull (pull.ts) and never come.
 */
import type { MsgRequest } from '@nats-io/jetstream';
import { ErrorCode, LogError } from '../errors.js';
import type { Session } from './session.js';

/**
 * ERR_POSITION_EXPIRED when the record at offset `from` is not stored: the stream's first stored
 * message at or past it (by the log's subject) ends the deleted range, which runs to `end` - 1 when
 * there is none (deleted at the stream's end). Null when that record is stored, or when the server
 * does not answer.
 */
export async function deletedAt(session: Session, from: number, end: number): Promise<LogError | null> {
  const { stream, subject } = session.options;
  if (from >= end) return null;
  // STREAM.MSG.GET takes next_by_subj with seq (the first message at or past seq); nats.js types it for direct gets only.
  const query = { seq: from + 1, next_by_subj: subject } as MsgRequest;
  const next = await session.jsm.streams.getMessage(stream, query).catch(() => undefined);
  if (next === undefined) return null;
  const to = next === null ? end : next.seq - 1;
  if (to <= from) return null; // the record at `from` is stored
  return deletedError(stream, from, to);
}

/**
 * ERR_POSITION_EXPIRED for offsets `from` to `to` - 1 no longer stored: deleted from the stream (then
 * the log does not start at `to`), or removed from its start (`why` says which may be). `details.logStartOffset` is `to`, where a consumer opened again with
 * onPositionExpired 'oldest' goes on (index.ts), as it goes on at the log start past a purge.
 */
export function deletedError(stream: string, from: number, to: number, why = 'their messages were deleted from the stream'): LogError {
  return new LogError(ErrorCode.POSITION_EXPIRED,
    `offsets ${from} to ${to - 1} of stream ${stream} are no longer stored (${why}); the next stored record is at offset ${to}: open the consumer with onPositionExpired 'oldest' to go on there`,
    { offset: from, logStartOffset: to });
}

/**
 * Where a consumer opened with onPositionExpired 'oldest' starts when the record at `at` was deleted
 * from the stream: the next stored record (`end` when none is). `at` itself when that record is
 * stored, or when the server does not answer (the first call then finds the deleted range: reader.ts).
 */
export async function pastDeleted(session: Session, at: number, end: number): Promise<number> {
  const e = await deletedAt(session, at, end);
  return e === null ? at : (e.details as { logStartOffset: number }).logStartOffset;
}
