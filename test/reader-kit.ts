/**
 * Shared by the reader-cache and seek tests: logs of known records written by the built producer
 * (its writer thread runs from dist/), read by the consumer and reader from src/ (so that the tests see
 * the counters of the same module instance), waiting until files are settled for the reader caches.
 */
import { closeSync, openSync, readSync, readdirSync, realpathSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { Producer, SyncPolicy } from '../dist/index.js';
import { Consumer, ConsumerStyle, Whence, type Message } from '../src/index.js';
import { SEGMENT_HEADER_BYTES, type FrameHeader } from '../src/format/frame.js';
import { readerStats, settled } from '../src/reader/verified-cache.js';
import { nodeFileIO, type FileIO } from '../src/storage/file-io.js';
import { scanFrames } from '../src/storage/frame-scan.js';
import { waitFor } from './kit.js';
import { parseSegmentName } from '../src/segment/segment-files.js';

export const payload = (i: number): string => `${i}:`.padEnd(200, String.fromCharCode(97 + (i % 26)));

/**
 * n records of 200 B, closed. Appended in one go, so the writer frames them in full batches of
 * `maxBatchBytes` (32 KiB: above the cache's 16 KiB floor); 512 KiB segments.
 */
export async function makeLog(logDir: string, n: number, options: Record<string, unknown> = {}): Promise<string> {
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), maxBatchBytes: 32 * 1024, fileRollSize: 512 * 1024, maxTotalBytes: null, ...options });
  for (let i = 0; i < n; i++) p.append(payload(i));
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
