/**
 * A durable cursor: the next offset a transactional consumer will take, and an optional small state
 * value committed atomically with it. Stored in one file as two checksummed slots written alternately
 * (A/B): a commit overwrites the older slot and fdatasyncs, so a crash at any instant leaves either the
 * old or the new value readable, never a torn one, and a commit costs exactly one fsync.
 *
 * Slot layout (little endian), slot k at byte k * SLOT_BYTES:
 *    0  u32  magic 0x52554352 ("RCUR")
 *    4  u32  CRC-32 of bytes 8 .. 32 + state length
 *    8  u64  sequence (1, 2, 3, ...: the slot with the higher valid sequence wins)
 *   16  u64  offset (the next record to deliver)
 *   24  u32  state length (at most MAX_STATE_BYTES)
 *   28  u32  flags (bit 0: a state value is present; bits 1-31 are zero in this format: a valid slot
 *            that sets one was written by a newer format, and the file is refused, ERR_UNSUPPORTED_FORMAT)
 *   32  state bytes
 */
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ErrorCode, LogError, assertInvariant } from '../errors.js';
import { readU64, writeU64 } from '../format/frame.js';
import { fsyncDir, readFull, writeAll, type FileIO } from '../storage/file-io.js';
import { cursorFolderNames } from './cursor-folder.js';

const CURSOR_MAGIC = 0x52554352;
const CURSOR_HEADER_BYTES = 32;
/** The largest state value committed with a cursor. */
export const MAX_STATE_BYTES = 64 * 1024;
/**
 * A state value fits in a slot, or in `max` bytes, what the cursor store takes (ERR_INVALID_OPTION
 * 'state' otherwise); null and undefined always do.
 */
export function checkStateBytes(state: Uint8Array | null | undefined, max = MAX_STATE_BYTES): void {
  if (state !== undefined && state !== null && state.byteLength > max) {
    const why = max < MAX_STATE_BYTES ? ' on this log (the server takes no larger one with its cursor)' : '';
    throw LogError.invalidOption('state', `a cursor state holds at most ${max} bytes${why}, got ${state.byteLength}`);
  }
}

/** The bytes of one slot: slot A at byte 0, slot B at SLOT_BYTES. */
export const SLOT_BYTES = CURSOR_HEADER_BYTES + MAX_STATE_BYTES;

/** What one slot holds. */
export interface CursorValue {
  /** The commit's number: 1 for the value the file was created with, then 2, 3, ... */
  readonly sequence: number;
  /** The next record to deliver. */
  readonly offset: number;
  /** The state committed with it, or null. */
  readonly state: Uint8Array | null;
}

/** Removes a temporary file a failed write left (best effort: the failure that left it is what counts). */
function removeQuietly(io: FileIO, path: string): void {
  try { io.unlink(path); } catch { /* the caller reports the first failure */ }
}

/** Where the slot holding `sequence` lives: the two slots alternate. */
function slotPosition(sequence: number): number {
  return (sequence % 2) * SLOT_BYTES;
}

/** Flag bits this format knows; a newer format that changes the slot sets another one. */
const KNOWN_SLOT_FLAGS = 1;

function decodeSlot(b: Uint8Array, name: string): CursorValue | null {
  if (b.byteLength < CURSOR_HEADER_BYTES) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint32(0, true) !== CURSOR_MAGIC) return null;
  const len = v.getUint32(24, true);
  if (len > MAX_STATE_BYTES || CURSOR_HEADER_BYTES + len > b.byteLength) return null;
  if (crc32(b.subarray(8, CURSOR_HEADER_BYTES + len)) !== v.getUint32(4, true)) return null;
  const flags = v.getUint32(28, true);
  // Never fall back to the other slot here: it holds an older commit, and reading it would move the cursor back.
  if ((flags & ~KNOWN_SLOT_FLAGS) !== 0) throw LogError.unsupportedFormat(`cursor file ${name}`, `slot flags 0x${flags.toString(16)}; this one knows 0x${KNOWN_SLOT_FLAGS.toString(16)}`);
  const hasState = (flags & 1) === 1;
  return {
    sequence: readU64(v, 8),
    offset: readU64(v, 16),
    state: hasState ? Uint8Array.prototype.slice.call(b, CURSOR_HEADER_BYTES, CURSOR_HEADER_BYTES + len) : null,
  };
}

function encodeSlot(value: CursorValue): Buffer {
  const len = value.state?.byteLength ?? 0;
  const b = Buffer.alloc(CURSOR_HEADER_BYTES + len);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  v.setUint32(0, CURSOR_MAGIC, true);
  writeU64(v, 8, value.sequence);
  writeU64(v, 16, value.offset);
  v.setUint32(24, len, true);
  v.setUint32(28, value.state !== null ? 1 : 0, true);
  if (value.state !== null) b.set(value.state, CURSOR_HEADER_BYTES);
  v.setUint32(4, crc32(b.subarray(8)), true);
  return b;
}

/**
 * Writes `values` (each to its slot) to `<path>.new`, fdatasyncs it, renames it over `path` and fsyncs
 * the folder: a crash leaves the file that was at `path` (or none) or the new one, whole. A failure
 * removes the temporary file and is a LogError (`what`, naming the cursor). With `keepOpen` the
 * descriptor it wrote through stays open and is returned (it names the file at `path` once renamed):
 * nothing is left to open after the rename, which is the point of no return.
 */
function writeAnew(io: FileIO, dir: string, path: string, name: string, values: readonly CursorValue[], what: string, keepOpen = false): number | null {
  const tmp = `${path}.new`;
  let tmpLeft = false;
  let fd = -1;
  try {
    fd = io.open(tmp, 'w');
    tmpLeft = true;
    // Sequence n lives in slot n % 2.
    for (const v of values) writeAll(io, fd, [encodeSlot(v)], slotPosition(v.sequence));
    io.fdatasync(fd);
    if (!keepOpen) {
      const done = fd;
      fd = -1;
      io.close(done);
    }
    // Written under a temporary name and renamed, so a half-written cursor is never mistaken for damage.
    io.rename(tmp, path);
    tmpLeft = false;
    fsyncDir(io, dir);
    return keepOpen ? fd : null;
  } catch (e) {
    if (fd >= 0) {
      try { io.close(fd); } catch { /* the failure before is what counts */ }
    }
    if (tmpLeft) removeQuietly(io, tmp);
    throw LogError.fromSystem(e, what, name);
  }
}

/** Both slots of a cursor file as read: each one's value when valid, and whether it was never written. */
interface CursorSlots {
  /** The file's size in bytes. */
  readonly bytes: number;
  /** Slot A's value, or null when it is not valid. */
  readonly a: CursorValue | null;
  /** Slot B's value, or null when it is not valid. */
  readonly b: CursorValue | null;
  /** The slot's header bytes are all zero or lie past the end of the file: never written. */
  readonly aUnused: boolean;
  /** As aUnused, for slot B. */
  readonly bUnused: boolean;
}

/**
 * Reads and decodes both slots; null if the file does not exist. I/O errors are LogErrors; a name the
 * directory lists that opens no file (a dangling link) is ERR_LOG_CORRUPT, not a cursor to begin anew.
 */
export function readCursorSlots(io: FileIO, path: string, name: string): CursorSlots | null {
  let fd: number;
  try {
    fd = io.open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw LogError.fromSystem(e, 'opening cursor', name);
    if (!cursorFolderNames(io, dirname(path)).includes(basename(path))) return null;
    throw LogError.corrupt(name, 0, 'the cursors directory lists this file, but opening it finds none (a link to a missing file)');
  }
  try {
    const buf = Buffer.alloc(2 * SLOT_BYTES);
    let n: number;
    try {
      n = readFull(io, fd, buf, 0, buf.byteLength, 0);
    } catch (e) {
      throw LogError.fromSystem(e, 'reading cursor', name);
    }
    const unused = (at: number): boolean => buf.subarray(at, at + CURSOR_HEADER_BYTES).every((x) => x === 0);
    return {
      bytes: n,
      a: decodeSlot(buf.subarray(0, Math.min(n, SLOT_BYTES)), name),
      b: n > SLOT_BYTES ? decodeSlot(buf.subarray(SLOT_BYTES, n), name) : null,
      aUnused: unused(0),
      bUnused: unused(SLOT_BYTES),
    };
  } finally {
    // A read-only descriptor: the slots were read and their CRCs decide; close(2) releases it whatever it reports.
    try { io.close(fd); } catch { /* nothing written through it */ }
  }
}

/** The slot that holds the cursor's value: the valid one with the higher sequence; null if neither is valid. */
export function currentSlot(s: CursorSlots): 'A' | 'B' | null {
  if (s.a === null) return s.b === null ? null : 'B';
  if (s.b === null) return 'A';
  return s.a.sequence >= s.b.sequence ? 'A' : 'B';
}

/** Reads the newest valid slot of a cursor file; null if the file does not exist. */
export function readCursorFile(io: FileIO, path: string, name: string): CursorValue | null {
  const slots = readCursorSlots(io, path, name);
  if (slots === null) return null;
  const which = currentSlot(slots);
  if (which === null) {
    throw new LogError(ErrorCode.LOG_CORRUPT, `cursor file ${name} holds no valid slot (${slots.bytes} bytes): it was damaged`, { file: name, position: 0 });
  }
  return which === 'A' ? slots.a : slots.b;
}

/** readCursorFile, with DAMAGED for a file that holds no valid slot (where it throws ERR_LOG_CORRUPT). */
export function readCursorOrDamage(io: FileIO, path: string, name: string): CursorValue | null | typeof DAMAGED {
  try {
    return readCursorFile(io, path, name);
  } catch (e) {
    if (e instanceof LogError && e.code === ErrorCode.LOG_CORRUPT) return DAMAGED;
    throw e;
  }
}

/** readCursorOrDamage's answer for a cursor file that holds no valid slot. */
export const DAMAGED = 'damaged';

/** An open cursor file: commit() writes the older slot and fdatasyncs it. One owner at a time (lock). */
export class CursorFile {
  private constructor(
    private readonly io: FileIO,
    private fd: number,
    private readonly name: string,
    private current: CursorValue,
    /** The file's path. */
    readonly path: string,
    /** True when this open created the file (it did not exist before). */
    readonly created: boolean,
  ) {}

  /**
   * Opens (or creates at `initialOffset`, durably) the cursor file at `dir/name`. With
   * `replaceDamaged` (the cursor admin's reset), a file that holds no valid slot is written anew, by
   * the same rename over it that creates one; otherwise it is ERR_LOG_CORRUPT.
   */
  static open(io: FileIO, dir: string, name: string, initialOffset: number, replaceDamaged = false): CursorFile {
    const path = join(dir, name);
    const read = replaceDamaged ? readCursorOrDamage(io, path, name) : readCursorFile(io, path, name);
    const existing = read === DAMAGED ? null : read;
    if (existing !== null) {
      let fd: number;
      try {
        fd = io.open(path, 'r+');
      } catch (e) {
        throw LogError.fromSystem(e, 'opening cursor', name);
      }
      return new CursorFile(io, fd, name, existing, path, false);
    }
    const first: CursorValue = { sequence: 1, offset: initialOffset, state: null };
    let fd: number;
    try {
      writeAnew(io, dir, path, name, [first], 'creating cursor');
      try {
        fd = io.open(path, 'r+');
      } catch (e) {
        throw LogError.fromSystem(e, 'creating cursor', name);
      }
    } catch (e) {
      // No file was there: one renamed into place before the failure (a folder fsync, the open after
      // it) goes again, so a failed open leaves no cursor holding retention back. A damaged file that
      // a failed reset did not replace stays.
      if (read !== DAMAGED) {
        removeQuietly(io, path);
        try { fsyncDir(io, dir); } catch { /* the failure that left it is what counts */ }
      }
      throw e;
    }
    return new CursorFile(io, fd, name, first, path, true);
  }

  /** Whether `path` still names the file this holds open (false when it cannot tell: the file layer has no stat, or it fails). */
  atPath(): boolean {
    try {
      const mine = this.io.stamp?.(this.fd);
      const there = this.io.stampPath?.(this.path);
      return mine !== undefined && there !== undefined && mine.dev === there.dev && mine.ino === there.ino;
    } catch {
      return false;
    }
  }

  /** The current value (the last commit). */
  get value(): CursorValue {
    return this.current;
  }

  /**
   * Durably moves the cursor to `offset` (never backwards) with `state` (undefined keeps the last one).
   * Always one write and one fdatasync: an unsynced slot write could later tear the only good slot, so
   * group commit batches in memory and calls this once per group instead.
   */
  commit(offset: number, state: Uint8Array | null | undefined): void {
    // Callers only ever move a cursor forward: a step back is a bug here, not damage on disk.
    assertInvariant(offset >= this.current.offset, () => `cursor ${this.name} would move backwards from ${this.current.offset} to ${offset}`, { file: this.name });
    this.write(offset, state);
  }

  /**
   * An operator's reset (resetCursor, under the cursor's lock): as commit, in either direction, the
   * value written to both slots of a new file that is renamed over this one (writeAnew). A crash
   * leaves the old file or the new one, each whole: never a newer slot below an older one, which
   * reads as a cursor that moved backwards (verify's check of the two slots).
   */
  reset(offset: number, state: Uint8Array | null | undefined): void {
    const kept = state === undefined ? this.current.state : state;
    checkStateBytes(kept);
    const first: CursorValue = { sequence: this.current.sequence + 1, offset, state: kept };
    const second: CursorValue = { ...first, sequence: first.sequence + 1 };
    // Later commits go to the new file, through the descriptor it was written with: opened before the
    // rename, so a reset that is done (renamed, the folder synced) never reports a failure after it.
    const fd = writeAnew(this.io, dirname(this.path), this.path, this.name, [first, second], 'resetting cursor', true)!;
    this.current = second;
    try { this.io.close(this.fd); } catch { /* every write through it was fdatasynced */ }
    this.fd = fd;
  }

  private write(offset: number, state: Uint8Array | null | undefined): void {
    const next: CursorValue = {
      sequence: this.current.sequence + 1,
      offset,
      state: state === undefined ? this.current.state : state,
    };
    checkStateBytes(next.state);
    try {
      writeAll(this.io, this.fd, [encodeSlot(next)], slotPosition(next.sequence));
      this.io.fdatasync(this.fd);
    } catch (e) {
      throw LogError.fromSystem(e, 'committing cursor', this.name);
    }
    this.current = next;
  }

  /**
   * Closes the file where a failure of the close tells nothing: every write through the descriptor was
   * fdatasynced, and close(2) frees it even when it reports an error (an admin's reset, done once
   * renamed and synced, must not read as failed because of it).
   */
  closeSynced(): void {
    try { this.io.close(this.fd); } catch { /* nothing unsynced was written through it */ }
  }

  /** Closes the file; nothing is written. */
  close(): void {
    try {
      this.io.close(this.fd);
    } catch (e) {
      throw LogError.fromSystem(e, 'closing cursor', this.name);
    }
  }
}
