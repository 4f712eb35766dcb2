/**
 * A publish the stream refused for the record itself, not for a failure that may pass: the record is
 * past the stream's max_msg_size (the server's 10054; lowered by someone else since the producer read
 * it at open: ERR_RECORD_TOO_LARGE), the stream is full and discards new messages (its max_msgs,
 * max_bytes or max_msgs_per_subject reached under the "discard new" policy), or the server's or the
 * account's JetStream storage is full (its max_file_store / max_memory_store, the account's
 * max_file / max_mem: "insufficient resources" 10023, "insufficient storage resources available"
 * 10047, refused before the store; "resource limits exceeded for account" 10002, which nats-server 2.9
 * checks after storing the record, then removes it, its sequence left used: resync.ts does not take
 * that missing record for one the stream's limits removed after it landed). A full stream is the
 * local log's full disk: it stays full until someone makes room, and the records appended after
 * this one hold offsets that cannot land without it, so the producer stops with ERR_DISK_FULL
 * (terminal, as locally), not ERR_LOG_FULL (a wait for room the caller may try again). The server
 * checks the publish's expected last sequence first, so such a refusal also says that every record
 * before it is stored (producer.ts has a resync confirm it when their answers are not all in).
 */
import { ErrorCode, LogError } from '../errors.js';

/** The server's JetStream error code of a failed publish, if it has one. */
function apiCode(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Whether the server refused a write because its JetStream storage (or the account's) is full: a
 * record's publish, and as well a lease's or a cursor's write (a key-value bucket is a stream).
 */
export function serverStoreFull(e: unknown): boolean {
  return [10002, 10023, 10047].includes(apiCode(e) ?? 0) || /insufficient (storage )?resources|resource limits exceeded for account/i.test((e as Error)?.message ?? String(e));
}

/** Whether `e` is the account's limit (10002), which nats-server checks after it stored the record (see the module comment). */
function checkedAfterStore(e: unknown): boolean {
  return apiCode(e) === 10002 || /resource limits exceeded for account/i.test((e as Error)?.message ?? String(e));
}

/**
 * The coded error that stops the producer at record `offset` when `e` refuses the record itself; else
 * null. `publishedEnd`: the offset past the last record published when the refusal came. A record
 * refused for the account's limit leaves its sequence used, so the smaller records published after it
 * may have landed past the hole: the error names them as may be stored, not as none stored.
 */
export function storeRefusal(e: unknown, offset: number, stream: string, publishedEnd = offset + 1): LogError | null {
  const message = (e as Error)?.message ?? String(e);
  const stopped = checkedAfterStore(e) && publishedEnd > offset + 1
    ? `the producer stopped: the records before it are stored; the account's limit is checked after the store (the refused record leaves a deleted offset), so records from offset ${offset + 1} to ${publishedEnd - 1}, published before the refusal came, may or may not be stored past it: read the stream before appending them again`
    : `the producer stopped: the records before it are stored, none from it on`;
  if (apiCode(e) === 10054 || /message size exceeds maximum/i.test(message)) {
    return new LogError(ErrorCode.RECORD_TOO_LARGE, `record ${offset} was refused by stream ${stream} (${message}): past its max_msg_size, lowered since the producer opened; ${stopped}`, { offset }, { cause: e });
  }
  // 10077 is the server's code of any failed store: the message tells a full stream apart.
  if (/maximum (messages|bytes|messages per subject) exceeded/i.test(message)) {
    return new LogError(ErrorCode.DISK_FULL, `record ${offset} was refused by stream ${stream} (${message}): the stream is full and discards new messages past its limits; ${stopped}`, { offset }, { cause: e });
  }
  if (serverStoreFull(e)) {
    return new LogError(ErrorCode.DISK_FULL, `record ${offset} was refused by stream ${stream} (${message}): the server's JetStream storage (or the account's) is full; ${stopped}`, { offset }, { cause: e });
  }
  return null;
}
