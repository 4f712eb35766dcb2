/**
 * The writer's two small offset files, each rewritten in place (never truncated) and never fsynced
 * (hints: a crash can leave an older value, a torn one reads as unknown). Layout: u64 offset, u32
 * CRC-32 of those 8 bytes.
 *
 * - `durable.offset`: how far the log is known fsynced, for readers in other processes (which do not
 *   share the producer's memory) and for recovery. The writer rewrites it after every fsync, after the
 *   fsync it reports returned, so it can lag but never run ahead of durable data.
 * - `start.offset`: the log start. The writer writes it when it starts, and retention rewrites it before
 *   it deletes the segments below the new start, so recovery can complete a retention that a crash or a
 *   failed unlink interrupted (docs/format.md, "start.offset").
 */
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { LogError } from '../errors.js';
import { readU64, writeU64 } from '../format/frame.js';
import { readFull, writeAll, type FileIO } from './file-io.js';

export const DURABLE_HINT_FILE = 'durable.offset';
/** The end of the temporary name `durable.offset.<pid>-<thread>-<n>.adopt` a consumer makes that file under before it links it into place (readers-lock.ts). */
export const ADOPT_SUFFIX = '.adopt';
export const START_OFFSET_FILE = 'start.offset';
const HINT_BYTES = 12;

export function encodeDurableHint(offset: number, out: Buffer = Buffer.alloc(HINT_BYTES)): Buffer {
  const v = new DataView(out.buffer, out.byteOffset, HINT_BYTES);
  writeU64(v, 0, offset);
  v.setUint32(8, crc32(out.subarray(0, 8)), true);
  return out;
}

/**
 * The durable offset another process's writer last reported, or null when unknown (no file, or a torn
 * one). Failing to read it is an error (ERR_IO): recovery relies on it not to cut durable records.
 */
export function readDurableHint(io: FileIO, dir: string): number | null {
  return readOffsetFile(io, dir, DURABLE_HINT_FILE, 'the durable offset hint');
}

/**
 * Whether durable.offset is there and empty: a reader or a repair created it to hold the readers lock
 * (readers-lock.ts) and no writer has written it since. It holds no hint, as a missing file holds none.
 */
export function durableHintEmpty(io: FileIO, dir: string): boolean {
  let fd: number;
  try {
    fd = io.open(join(dir, DURABLE_HINT_FILE), 'r');
  } catch {
    return false; // missing, or not readable: readDurableHint says what
  }
  try {
    return io.fsize(fd) === 0;
  } finally {
    io.close(fd);
  }
}

/** Reads of durable.offset before one that reads as unknown counts: a read can meet the writer's rewrite half done. */
const SETTLED_HINT_READS = 3;

/**
 * readDurableHint for a reader beside a writer in another process: a read that finds no valid offset
 * (it met the 12-byte rewrite half done) is made again, up to SETTLED_HINT_READS reads, before the
 * hint counts as unknown, so one unlucky read does not take the durable end for the reader's own offset.
 */
export function readDurableHintSettled(io: FileIO, dir: string): number | null {
  for (let i = 1; ; i++) {
    const hint = readDurableHint(io, dir);
    if (hint !== null || i >= SETTLED_HINT_READS) return hint;
  }
}

/**
 * The log start the writer last recorded, or null when unknown (no file, or a torn one). Failing to
 * read it is an error (ERR_IO): recovery relies on it to complete an interrupted retention.
 */
export function readStartOffset(io: FileIO, dir: string): number | null {
  return readOffsetFile(io, dir, START_OFFSET_FILE, 'the recorded log start');
}

function readOffsetFile(io: FileIO, dir: string, file: string, what: string): number | null {
  let fd: number;
  try {
    fd = io.open(join(dir, file), 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw LogError.fromSystem(e, `reading ${what}`, file);
  }
  try {
    const b = Buffer.alloc(HINT_BYTES);
    if (readFull(io, fd, b, 0, HINT_BYTES, 0) < HINT_BYTES) return null;
    if (crc32(b.subarray(0, 8)) !== b.readUInt32LE(8)) return null;
    return readU64(new DataView(b.buffer, b.byteOffset, 8), 0);
  } catch (e) {
    // A directory (or anything else that cannot be read as a file) in its place is damage, not an I/O failure.
    if ((e as NodeJS.ErrnoException).code === 'EISDIR') throw LogError.corrupt(file, 0, `${what} is not a regular file`);
    throw LogError.fromSystem(e, `reading ${what}`, file);
  } finally {
    try {
      io.close(fd);
    } catch { /* read-only: nothing to lose */ }
  }
}

/**
 * The writer's handle on one of its offset files: created when missing, never truncated, so a reader
 * in another process finds the value the last writer left until the first publish overwrites its 12
 * bytes in place (an empty or short file would read as "unknown" meanwhile). A torn overwrite reads
 * as unknown through the checksum.
 */
export class OffsetFileWriter {
  private fd: number;
  private readonly buf = Buffer.alloc(HINT_BYTES);
  private trimmed = false;

  constructor(private readonly io: FileIO, dir: string, file: string) {
    this.fd = io.open(join(dir, file), 'r+c');
  }

  publish(offset: number): void {
    writeAll(this.io, this.fd, [encodeDurableHint(offset, this.buf)], 0);
    if (this.trimmed) return;
    // Bytes past the 12 (written by something else) go once the value is whole: never shorter than 12.
    if (this.io.fsize(this.fd) > HINT_BYTES) this.io.ftruncate(this.fd, HINT_BYTES);
    this.trimmed = true;
  }

  /** Closes the file once (a descriptor number is reused by the next open: never close it twice). */
  close(): void {
    const fd = this.fd;
    if (fd < 0) return;
    this.fd = -1;
    this.io.close(fd);
  }
}

/** The writer's handle on durable.offset. */
export class DurableHintWriter extends OffsetFileWriter {
  constructor(io: FileIO, dir: string) {
    super(io, dir, DURABLE_HINT_FILE);
  }
}

/** Reads of start.offset before a torn one (the writer's rewrite half done) counts as unknown. */
const START_READS = 3;

/**
 * The log start retention recorded, when it names one of `bases` (the segments listed): else null
 * (below it an interrupted retention left segments that are no longer part of the log). Read after a
 * cursor was written, it tells whether retention may delete what that cursor points at: the writer
 * records the new start, then reads the cursors again before it deletes anything (retention.ts).
 */
export function recordedLogStart(io: FileIO, dir: string, bases: readonly number[]): number | null {
  for (let i = 1; ; i++) {
    const start = readStartOffset(io, dir);
    if (start !== null) return bases.includes(start) ? start : null;
    if (i >= START_READS) return null;
  }
}
