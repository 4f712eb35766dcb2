/**
 * The context a pool worker hands its handler with each record (pool-lane.ts). Its own properties are
 * those of a context in the consumer's thread (src/consumer/process.ts): attempt, logId, offset and
 * setState; `Object.keys(ctx)`, a spread and JSON.stringify show them alone. The state is that of the
 * round's start, one buffer for the lane's records, kept private and handed out as a copy at each read.
 */
import { LogError } from '../errors.js';
import type { ProcessContext } from '../types.js';

const refuseState = (): never => { throw LogError.invalidOption('state', 'a state value cannot be committed from a worker pool: records finish out of order'); };

/** The context handed to the handler with one record. */
export class PoolContext implements ProcessContext {
  readonly attempt: number;
  readonly logId: string;
  readonly offset: number;
  readonly setState = refuseState;
  readonly #base: Uint8Array | null; // shared by the lane's records: never handed out itself
  constructor(attempt: number, logId: string, offset: number, base: Uint8Array | null) {
    this.attempt = attempt;
    this.logId = logId;
    this.offset = offset;
    this.#base = base;
  }
  /** The state as of the round's start: a copy, so bytes changed in place reach no other record. */
  get state(): Uint8Array | null { return this.#base === null ? null : this.#base.slice(); }
}

