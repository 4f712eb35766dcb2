/**
 * Shared by the test files that run on src/ (reader-cache, seek-position, lane-reader): logs of known
 * records written by a producer in a child process (ChildProducer: its writer thread starts only from
 * dist/, and these files load no module of dist/), read by the consumer and reader from src/ (so that the
 * tests see the counters of the same module instance), waiting until files are settled for the reader
 * caches.
 */
import { closeSync, openSync, readSync, readdirSync, realpathSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Whence, type Message } from '../src/index.js';
import { SEGMENT_HEADER_BYTES, type FrameHeader } from '../src/format/frame.js';
import { readerStats, settled } from '../src/reader/verified-cache.js';
import { nodeFileIO, type FileIO } from '../src/storage/file-io.js';
import { scanFrames } from '../src/storage/frame-scan.js';
import { Child } from './child.js';
import { waitFor } from './kit.js';
import { parseSegmentName } from '../src/segment/segment-files.js';

export const payload = (i: number): string => `${i}:`.padEnd(200, String.fromCharCode(97 + (i % 26)));

/** What a ChildProducer reports after an append or close. */
export type ChildProducerState = {
  readonly nextOffset: number;
  readonly writtenOffset: number;
  readonly logStartOffset: number;
};

/** A Producer in a child process (fixtures/log-writer.mjs), for the test files that run on src/. */
export class ChildProducer {
  private constructor(private readonly child: Child) {}

  /** Opens `logDir` with Producer `options` (syncPolicy in text form: 'never', 'periodic:50'). */
  static async open(logDir: string, options: Record<string, unknown>): Promise<ChildProducer> {
    const child = Child.fork('log-writer.mjs', [logDir, JSON.stringify(options)], { execArgv: [] });
    await child.next('open');
    return new ChildProducer(child);
  }

  /**
   * Appends `records` in one go (with `batch`: by appendBatch, `batch` records a call, each call one
   * frame), then waits until the writer wrote them ('written'), until they are durable ('durable',
   * flush()) or one turn of the child's event loop ('none').
   */
  async append(records: readonly string[], wait: 'written' | 'durable' | 'none', batch?: number): Promise<ChildProducerState> {
    this.child.send({ type: 'append', records: [...records], wait, batch });
    return this.child.next<ChildProducerState & { type: string }>('appended');
  }

  async close(): Promise<ChildProducerState> {
    this.child.send({ type: 'close' });
    const m = await this.child.next<ChildProducerState & { type: string }>('closed');
    await this.child.exited;
    return m;
  }
}

/**
 * n records of 200 B, closed, in frames of 150 records (about 30 KiB: above the cache's 16 KiB floor;
 * maxBatchBytes 32 KiB) and 512 KiB segments. Each 150 is one appendBatch: appended one by one, the
 * frames would be whatever the ring held when the writer woke, small ones when it keeps up.
 */
export async function makeLog(logDir: string, n: number, options: Record<string, unknown> = {}): Promise<string> {
  const p = await ChildProducer.open(logDir, { syncPolicy: 'never', maxBatchBytes: 32 * 1024, fileRollSize: 512 * 1024, maxTotalBytes: null, ...options });
  await p.append(Array.from({ length: n }, (_, i) => payload(i)), 'none', 150);
  await p.close();
  return realpathSync(logDir);
}

/** Waits (polling) until the directory and every file in it are settled: old enough to be cached. */
export async function settle(logDir: string): Promise<void> {
  const paths = [logDir, ...readdirSync(logDir).map((n) => join(logDir, n))];
  await waitFor(() => paths.every((p) => settled(nodeFileIO.stampPath!(p), Date.now())), 'the log files to settle');
}

export interface FrameAt {
  readonly path: string;
  readonly pos: number;
  readonly h: FrameHeader;
}

/** Every frame of every segment, in order (scanned and checked without the reader). */
export function framesOf(logDir: string): FrameAt[] {
  const out: FrameAt[] = [];
  for (const name of readdirSync(logDir).sort()) {
    const base = parseSegmentName(name);
    if (base === null) continue;
    const path = join(logDir, name);
    const fd = openSync(path, 'r');
    try {
      scanFrames(nodeFileIO, fd, statSync(path).size, SEGMENT_HEADER_BYTES, base, (pos, h) => out.push({ path, pos, h }));
    } finally {
      closeSync(fd);
    }
  }
  return out;
}

/** Flips the byte at `pos` of the file, in place (its size unchanged). */
export function damage(path: string, pos: number): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, pos);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, pos);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads from `whence` to the end with the src consumer, checking each record; returns the offsets
 * (also pushed to `seen` as they come, for a read that fails).
 */
export async function readFrom(logDir: string, whence = Whence.oldest(), seen: number[] = []): Promise<number[]> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(whence) });
  try {
    for (const m of c.iter()) {
      checkRecord(m);
      seen.push(m.offset);
    }
    return seen;
  } finally {
    await c.close();
  }
}

export function checkRecord(m: Message | null | undefined | void, offset?: number): void {
  assert.ok(m !== null && m !== undefined, `a record${offset === undefined ? '' : ` at ${offset}`}`);
  if (m === null || m === undefined) return;
  if (offset !== undefined) assert.is(m.offset, offset);
  assert.is(Buffer.from(m.data).toString(), payload(m.offset), `the bytes of record ${m.offset}`);
}

export type Stats = typeof readerStats;

/** Starts counting: the returned function gives the counters' growth since. */
export function track(): () => Stats {
  const before = { ...readerStats };
  return () => Object.fromEntries(Object.entries(readerStats).map(([k, v]) => [k, v - before[k as keyof Stats]])) as Stats;
}

/** nodeFileIO that counts the bytes read (reset() starts again from 0). */
export function countingIO(): { io: FileIO; bytesRead: () => number; reset: () => void } {
  let n = 0;
  const io: FileIO = {
    ...nodeFileIO,
    read: (fd, buf, offset, length, position) => {
      const got = nodeFileIO.read(fd, buf, offset, length, position);
      n += got;
      return got;
    },
  };
  return { io, bytesRead: () => n, reset: () => { n = 0; } };
}

/** Stamps frame `i` of the log with `value` and writes its checksum anew: a valid frame with that timestamp. */
export function restamp(logDir: string, i: number, value: number): void {
  const f = framesOf(logDir)[i]!;
  const fd = openSync(f.path, 'r+');
  try {
    const b = Buffer.alloc(f.h.frameBytes);
    readSync(fd, b, 0, b.byteLength, f.pos);
    b.writeDoubleLE(value, 24);
    b.writeUInt32LE(crc32(b.subarray(8, b.byteLength - 4)), 4);
    writeSync(fd, b, 0, b.byteLength, f.pos);
  } finally {
    closeSync(fd);
  }
}
