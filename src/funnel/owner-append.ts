/**
 * The owner's appends of one client batch (owner-connection.ts): as one run of records copied into
 * the ring when it can, else one record at a time, each record's offset or refusal into the reply.
 */
import { ErrorCode, type LogError } from '../errors.js';
import { forEachRecord, type ReplyBuilder } from './batch-codec.js';
import { asLogError, withoutStacks, type FunnelTarget, type RunResult } from './owner-util.js';

/** Errors that refuse one record only; any other stops the rest of its APPEND (the producer is full or stopped). */
const PER_RECORD = new Set<string>([ErrorCode.INVALID_RECORD, ErrorCode.RECORD_TOO_LARGE, ErrorCode.INVALID_OPTION]);

/**
 * Appends the batch `body` (checked by checkBatch; `run`: its records can go in as one run); returns
 * the error that stopped the rest, or null. `beat` runs after each record or piece (each may have
 * waited for ring room). The errors of refused records are made without a stack (withoutStacks).
 */
export function appendBatch(target: FunnelTarget, body: Buffer, reply: ReplyBuilder, run: boolean, beat: () => void): LogError | null {
  return withoutStacks(() => {
    const stopped = run ? appendRun(target, body, reply, beat) : false;
    return stopped === false ? appendEach(target, body, reply, beat) : stopped;
  });
}

/**
 * The batch as one run of records (FunnelTarget.appendRun): one copy into the ring instead of one
 * append a record. Returns the error that stopped it (or null), or false when the target takes
 * records one at a time only.
 */
function appendRun(target: FunnelTarget, body: Buffer, reply: ReplyBuilder, beat: () => void): LogError | null | false {
  let r: RunResult | null | undefined;
  try {
    r = target.appendRun?.(body, 4, body.byteLength, beat);
  } catch (e) {
    r = { first: 0, appended: 0, error: asLogError(e) };
  }
  if (r === null || r === undefined) return false;
  for (let i = 0; i < r.appended; i++) reply.accepted(r.first + i);
  if (r.error !== null) for (let i = r.appended; i < reply.count; i++) reply.refused(r.error.code, r.error.message);
  return r.error;
}

/** The batch one record at a time; returns the error that stopped the rest, or null. */
function appendEach(target: FunnelTarget, body: Buffer, reply: ReplyBuilder, beat: () => void): LogError | null {
  let stopped: LogError | null = null;
  forEachRecord(body, (data, opts, invalid) => {
    if (stopped !== null) return reply.refused(stopped.code, stopped.message);
    if (invalid !== undefined) return reply.refused(invalid.code, invalid.message);
    try {
      reply.accepted(target.append(data, opts));
    } catch (e) {
      const err = asLogError(e);
      reply.refused(err.code, err.message);
      if (!PER_RECORD.has(err.code)) stopped = err;
    }
    beat();
  });
  return stopped;
}
