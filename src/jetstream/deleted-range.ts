/**
 * Messages deleted from a stream (`nats stream rmm`), seen from a reader: the record at an offset
 * that is not stored, and the range deleted from there. Deleted at the stream's end, such records
 * would be owed by the pull (pull.ts) and never come.
 */
import type { MsgRequest } from '@nats-io/jetstream';
import { ErrorCode, LogError } from '../errors.js';
import type { Ride } from './ride.js';
import type { Session } from './session.js';

/**
 * ERR_POSITION_EXPIRED when the record at offset `from` is not stored: the stream's first stored
 * message at or past it (by the log's subject) ends the deleted range, which runs to `end` - 1 when
 * there is none (deleted at the stream's end). Null when that record is stored, or when the server
 * does not answer.
 */
export async function deletedAt(session: Session, from: number, end: number): Promise<LogError | null> {
  return checkDeleted(session, from, end).catch(() => null);
}

/** deletedAt, but a request the server does not answer (or that fails) throws, for the caller to try again. */
async function checkDeleted(session: Session, from: number, end: number): Promise<LogError | null> {
  const { stream, subject } = session.options;
  if (from >= end) return null;
  // STREAM.MSG.GET takes next_by_subj with seq (the first message at or past seq); nats.js types it for direct gets only.
  const query = { seq: from + 1, next_by_subj: subject } as MsgRequest;
  const next = await session.jsm.streams.getMessage(stream, query);
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
 * from the stream: the next stored record (`end` when none is); `at` itself when that record is
 * stored. The check rides out a request the server does not answer, as the open's other reads do
 * (`ride`: tried again within the open's bound, then ERR_IO): an open that went on at a deleted
 * record would fail at its first call with the ERR_POSITION_EXPIRED 'oldest' was asked to pass.
 */
export async function pastDeleted(session: Session, at: number, end: number, ride: Ride): Promise<number> {
  const e = await ride.run(`finding the record stored at or past offset ${at} of stream ${session.options.stream}`, () => checkDeleted(session, at, end));
  return e === null ? at : (e.details as { logStartOffset: number }).logStartOffset;
}
