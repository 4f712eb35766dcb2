/**
 * `durable.offset`: how far the log is known fsynced, for readers in other processes (which do not
 * share the producer's memory). The writer rewrites it after every fsync; it is itself never fsynced,
 * since it is only a hint: it is written after the fsync it reports returned, so it can lag but never
 * run ahead of durable data. Layout: u64 offset, u32 CRC-32 of those 8 bytes.
 */
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { LogError } from '../errors.js';
import { readU64, writeU64 } from '../format/frame.js';
import { readFull, writeAll, type FileIO } from './file-io.js';

export const DURABLE_HINT_FILE = 'durable.offset';
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
  let fd: number;
  try {
    fd = io.open(join(dir, DURABLE_HINT_FILE), 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw LogError.fromSystem(e, 'reading the durable offset hint', DURABLE_HINT_FILE);
  }
  try {
    const b = Buffer.alloc(HINT_BYTES);
    if (readFull(io, fd, b, 0, HINT_BYTES, 0) < HINT_BYTES) return null;
    if (crc32(b.subarray(0, 8)) !== b.readUInt32LE(8)) return null;
    return readU64(new DataView(b.buffer, b.byteOffset, 8), 0);
  } catch (e) {
    throw LogError.fromSystem(e, 'reading the durable offset hint', DURABLE_HINT_FILE);
  } finally {
    try {
      io.close(fd);
    } catch { /* read-only: nothing to lose */ }
  }
}

/** The writer's handle on the hint file. */
export class DurableHintWriter {
  private readonly fd: number;
  private readonly buf = Buffer.alloc(HINT_BYTES);

  constructor(private readonly io: FileIO, dir: string) {
    this.fd = io.open(join(dir, DURABLE_HINT_FILE), 'w');
  }

  publish(offset: number): void {
    writeAll(this.io, this.fd, [encodeDurableHint(offset, this.buf)], 0);
  }

  close(): void {
    this.io.close(this.fd);
  }
}
