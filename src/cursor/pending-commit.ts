/**
 * The group commit of a transactional cursor, the same on every backend: the next offset and state
 * handed out but not yet committed, and whether a commit is due (after `everyRecords` records, or once
 * `everyMs` has passed since the last commit).
 */
import { checkStateBytes } from './cursor-file.js';

export class PendingCommit {
  /** The next offset to hand out (ahead of the committed cursor within a group). */
  nextOffset: number;
  /** The latest state value. */
  state: Uint8Array | null;
  /** Whether `state` was set since the last commit. */
  stateChanged = false;
  private sinceCommit = 0;
  /** On a clock that never steps back (performance.now): a wall clock set back would hold a group open. */
  private lastCommitMs = performance.now();

  constructor(offset: number, state: Uint8Array | null, private readonly everyRecords: number, private readonly everyMs: number | null) {
    this.nextOffset = offset;
    this.state = state;
  }

  /**
   * Marks records below `offset` done, with a new state (undefined keeps the last one); true when a
   * commit is due. A step over many records (a pool's coordinator advances by whole prefixes) counts
   * each of them; a call that moves nothing counts as one.
   */
  advance(offset: number, state: Uint8Array | null | undefined): boolean {
    checkStateBytes(state);
    this.sinceCommit += Math.max(1, offset - this.nextOffset);
    this.nextOffset = offset;
    if (state !== undefined) {
      this.state = state;
      this.stateChanged = true;
    }
    return this.sinceCommit >= this.everyRecords || (this.everyMs !== null && performance.now() - this.lastCommitMs >= this.everyMs);
  }

  /** The pending values are being committed: a new group starts. */
  restart(): void {
    this.stateChanged = false;
    this.sinceCommit = 0;
    this.lastCommitMs = performance.now();
  }
}
