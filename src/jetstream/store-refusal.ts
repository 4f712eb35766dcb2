/**
 * A publish the stream refused for the record itself, not for a failure that may pass: the record is
 * past the stream's max_msg_size (the server's 10054; lowered by someone else since the producer read
 * it at open). The server checks the publish's expected last sequence first, so such a refusal also
 * says that every record before it is stored (producer.ts has a resync confirm it when their answers
 * are not all in). The record's offset and the ones after it were handed out already: the producer
 * stops, with this error, at that record.
 */
import { ErrorCode, LogError } from '../errors.js';

/** The server's JetStream error code of a failed publish, if it has one. */
function apiCode(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The coded error that stops the producer at record `offset` when `e` refuses the record itself; else null. */
export function storeRefusal(e: unknown, offset: number, stream: string): LogError | null {
  const message = (e as Error)?.message ?? String(e);
  const stopped = `the producer stopped: the records before it are stored, none from it on`;
  if (apiCode(e) === 10054 || /message size exceeds maximum/i.test(message)) {
    return new LogError(ErrorCode.RECORD_TOO_LARGE, `record ${offset} was refused by stream ${stream} (${message}): past its max_msg_size, lowered since the producer opened; ${stopped}`, { offset }, { cause: e });
  }
  return null;
}
