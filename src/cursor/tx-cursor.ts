/**
 * A transactional consumer's cursor: the owner lock, the durable cursor file, and group commit.
 * `advance` moves the cursor in memory; it becomes durable per record (the default: before the next
 * record is handed out) or once per group (everyRecords / everyMs), and always before the consumer
 * waits for new records and at close. A crash repeats at most the records of one unsynced group.
 */
import { dirname, join } from 'node:path';
import { validateConsumerId } from '../consumer/consumer-options.js';
import { ErrorCode, LogError } from '../errors.js';
import { fsyncDir, type FileIO } from '../storage/file-io.js';
import { acquireLock, type HeldLock } from '../storage/lock.js';
import { CursorFile, readCursorFile } from './cursor-file.js';
import { CURSOR_SUFFIX, cursorDir, cursorFolderNames } from './cursor-folder.js';
import { PendingCommit } from './pending-commit.js';

export { CURSOR_DIR, CURSOR_SUFFIX, cursorDir } from './cursor-folder.js';

/** One transactional consumer's cursor, held under its lock (see the module comment). */
export class TxCursor {
  /** In memory: the next offset and state, ahead of the durable cursor within a group. */
  private readonly pending: PendingCommit;
  private closed = false;

  private constructor(
    private readonly io: FileIO,
    private readonly file: CursorFile,
    private readonly lock: HeldLock,
    everyRecords: number,
    everyMs: number | null,
  ) {
    this.pending = new PendingCommit(file.value.offset, file.value.state, everyRecords, everyMs);
  }

  /** Takes the cursor's lock (ERR_CURSOR_LOCKED if a live process has it) and opens its file. */
  static open(io: FileIO, logDir: string, name: string, initialOffset: number, everyRecords: number, everyMs: number | null): TxCursor {
    const dir = cursorDir(logDir);
    try {
      io.mkdirp(dir);
      fsyncDir(io, logDir);
    } catch (e) {
      throw LogError.fromSystem(e, 'creating the cursor directory', dir);
    }
    const lockPath = join(dir, `${name}.lock`);
    // A lock file a dead owner left keeps its information until the open succeeds (claim()): an open
    // refused meanwhile leaves it as it was found.
    const taken = acquireLock(io, lockPath, { keepFound: true });
    if (!taken.ok) {
      throw new LogError(ErrorCode.CURSOR_LOCKED, `cursor ${name} is held by another consumer${taken.ownerPid !== null ? ` (pid ${taken.ownerPid})` : ''}`, { file: lockPath });
    }
    try {
      const file = CursorFile.open(io, dir, `${name}${CURSOR_SUFFIX}`, initialOffset);
      return new TxCursor(io, file, taken.lock, everyRecords, everyMs);
    } catch (e) {
      taken.lock.release();
      throw e;
    }
  }

  /** The open goes on: the lock file gets this owner's information (a dead owner's was kept until now). */
  claim(): void {
    this.lock.claim();
  }

  /** The next offset to hand out (in memory; may be ahead of `committedOffset` within a group). */
  get nextOffset(): number {
    return this.pending.nextOffset;
  }

  /** True while the cursor file holds only the value it was created with. */
  get neverCommitted(): boolean {
    return this.file.value.sequence === 1 && this.pending.nextOffset === this.file.value.offset;
  }

  /** The durable cursor. */
  get committedOffset(): number {
    return this.file.value.offset;
  }

  /** The latest state value (in memory). */
  get currentState(): Uint8Array | null {
    return this.pending.state;
  }

  /** Marks records below `offset` done, with a new state value (undefined keeps the last one). */
  advance(offset: number, state: Uint8Array | null | undefined): void {
    if (this.closed) throw LogError.closed('consumer');
    if (this.pending.advance(offset, state)) this.sync();
  }

  /** Makes the in-memory cursor (and state) durable, if it moved. */
  sync(): void {
    if (this.closed) return;
    const { pending } = this;
    if (pending.nextOffset !== this.file.value.offset || pending.stateChanged) {
      this.file.commit(pending.nextOffset, pending.stateChanged ? pending.state : undefined);
    }
    pending.restart();
  }

  /**
   * After an open that failed: closes without committing, so an existing cursor file stays as it was.
   * A cursor file this open created is removed (no record was handed out through it, and a file left
   * behind would stand for a consumer that never opened, holding retention back under
   * blockingMinimumRetention), then the lock is released.
   */
  abandon(): void {
    if (!this.file.created) {
      this.drop();
      return;
    }
    if (this.closed) return;
    this.closed = true;
    try {
      // The file goes whether or not its close succeeds: close(2) frees the descriptor even when it
      // reports an error, and nothing was written through it since it was created durably.
      try {
        this.file.close();
      } finally {
        this.io.unlink(this.file.path);
        fsyncDir(this.io, dirname(this.file.path));
      }
    } finally {
      this.lock.release();
    }
  }

  /**
   * After an open that found its log directory replaced meanwhile (Consumer.open): abandon() when the
   * cursor's path still names the file this open created (in the directory there now), else drop():
   * the path may name another log's cursor, or this one's file lies in the old directory.
   */
  abandonReplaced(): void {
    if (this.file.created && this.file.atPath()) this.abandon();
    else this.drop();
  }

  /**
   * Closes without committing (Consumer.destroy): what moved since the last sync is not made durable,
   * so those records are handed out again, as after a crash. Then the lock is released.
   */
  drop(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.file.close();
    } finally {
      this.lock.release();
    }
  }

  /** Makes the cursor durable (sync), closes the file and releases the lock, whichever of them fails. */
  close(): void {
    if (this.closed) return;
    try {
      this.sync(); // before the cursor is marked closed: sync() commits nothing after that
    } finally {
      this.closed = true;
      try {
        this.file.close();
      } finally {
        this.lock.release();
      }
    }
  }
}

/**
 * Whether `name` is a cursor file a consumer can own: `global.cursor`, or `client.<id>.cursor` for a
 * valid consumer id; the ones inspectLog lists and deleteCursor removes (cursorIdOfFile in
 * src/admin/cursor-ids.ts).
 */
function isOwnedCursorFile(name: string): boolean {
  if (name === `global${CURSOR_SUFFIX}`) return true;
  if (!name.startsWith('client.') || !name.endsWith(CURSOR_SUFFIX)) return false;
  try {
    validateConsumerId(name.slice('client.'.length, -CURSOR_SUFFIX.length));
    return true;
  } catch {
    return false;
  }
}

/**
 * The lowest offset any transactional cursor of the log still needs (its committed offset), or null
 * when there are none. A cursor file that cannot be read counts as needing everything (0), so damage
 * never lets retention delete records a consumer may still need. Other files in cursors/ (a copy named
 * `client.billing copy.cursor`) are no consumer's cursor: they hold nothing back, as inspectLog does
 * not list them and deleteCursor could not remove them.
 */
export function lowestCursorOffset(io: FileIO, logDir: string): number | null {
  const dir = cursorDir(logDir);
  let names: string[];
  try {
    names = io.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return 0; // cannot list the cursors: protect everything, as for a cursor file that cannot be read
  }
  let low: number | null = null;
  for (const n of names) {
    if (!isOwnedCursorFile(n)) continue;
    let off = 0;
    try {
      off = readCursorFile(io, join(dir, n), n)?.offset ?? 0;
    } catch {
      off = 0;
    }
    low = low === null ? off : Math.min(low, off);
  }
  return low;
}

/**
 * The transactional cursor that names the highest offset (its file name in cursors/, and the offset),
 * or null when none names one above 0. Recovery asks when a log has no segment (such a cursor shows
 * records were written) and where the log ends: a cursor it cannot see would let a new log's records
 * pass under it, so a folder or file that cannot be read is ERR_IO, never "none"; a damaged cursor
 * file or one of a newer format names nothing (its consumer's open refuses it).
 */
export function highestCursor(io: FileIO, logDir: string): { name: string; offset: number } | null {
  const dir = cursorDir(logDir);
  let high: { name: string; offset: number } | null = null;
  for (const name of cursorFolderNames(io, dir).filter(isOwnedCursorFile)) {
    let offset = 0;
    try {
      offset = readCursorFile(io, join(dir, name), name)?.offset ?? 0;
    } catch (e) {
      if (!(e instanceof LogError) || (e.code !== ErrorCode.LOG_CORRUPT && e.code !== ErrorCode.UNSUPPORTED_FORMAT)) throw e;
    }
    if (offset > (high?.offset ?? 0)) high = { name, offset };
  }
  return high;
}
