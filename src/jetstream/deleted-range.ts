/**
 * Messages deleted from a stream (`nats stream rmm`), seen from a reader: the record at an offset
 * that is not stored, and the range deleted from there. Deleted at the stream's end, such records
 * would be owed by the pull (pull.ts) and never come.
 */
import type { MsgRequest } from '@nats-io/jetstream';
import { LogError } from '../errors.js';
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
  return LogError.expired(from, to, `offsets ${from} to ${to - 1} of stream ${stream} (deleted messages)`);
}
