/**
 * The cursors bucket's limits on a cursor's entry (cursor.ts): the largest state a commit can store,
 * and a bucket made beforehand whose max_value_size leaves no room for an entry.
 */
import { MAX_STATE_BYTES } from '../cursor/cursor-file.js';
import { LogError } from '../errors.js';
import { serverMaxPayload } from './producer-options.js';
import type { Session } from './session.js';

/** A bound on what an entry takes besides its state's base64: its other fields, and the update's headers. */
const ENTRY_OVERHEAD_BYTES = 512;

/**
 * The largest state whose entry the server takes: a message past its max_payload (the entry and its
 * headers), or past the cursors bucket's own max_value_size (entryLimit), is refused, so a larger
 * state could never be committed. At most a local cursor's 64 KiB.
 */
export function maxStateFor(maxPayload: number): number {
  return Math.min(MAX_STATE_BYTES, Math.max(0, Math.floor((maxPayload - ENTRY_OVERHEAD_BYTES) / 4) * 3));
}

/** The largest entry the server stores in the cursors bucket: its max_payload, or the bucket's own max_value_size when smaller. */
export function entryLimit(session: Session): number {
  return Math.min(serverMaxPayload(session), session.cursorValueBytes ?? Infinity);
}

/**
 * Refuses a cursors bucket made beforehand with a max_value_size too small for a cursor's entry
 * (ERR_INVALID_OPTION, before the entry is written): its commits would fail at run time.
 */
export function checkBucket(session: Session): void {
  const max = session.cursorValueBytes;
  if (max === null || max >= ENTRY_OVERHEAD_BYTES) return;
  throw LogError.invalidOption('stream', `the cursors bucket rl-${session.options.stream}-cursors exists with a max_value_size of ${max} bytes, but a cursor's entry takes up to ${ENTRY_OVERHEAD_BYTES} bytes besides its state: give it a larger max_value_size (or none), or delete it (docs/jetstream.md)`);
}
