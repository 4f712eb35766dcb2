/**
 * Physical-limit probes, run on the same filesystem (the same directory) as the logs:
 * - sequential: write `chunkBytes` with fs.writeSync at the end of a fresh file, fdatasync after every
 *   chunk (the shape of the writer's group commit: extend the file, then fdatasync);
 * - buffered: the same 1 MiB writes with no fdatasync (what the kernel's page cache takes: the
 *   ceiling of `never`, whose writer does exactly these writes);
 * - tiny: 100-byte writes at the end of a fresh file, fdatasync after each (the fsync round trip);
 * - tiny in place: 100-byte pwrites over already written bytes of one file, fdatasync after each (the
 *   shape of a cursor commit: no size change, so no metadata to journal);
 * - page-cache read: positional 1 MiB reads of files just written (the ceiling of a consumer's reads).
 * Each repetition uses its own file, removed right after.
 */
import { closeSync, fdatasyncSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { nowMs, summarize, type Summary } from './stats.js';

export const MiB = 1024 * 1024;

/** Cap of one buffered probe file, so the page cache is not flooded with dirty pages. */
const BUFFERED_CAP_BYTES = 512 * MiB;

/**
 * Bytes/s of writes of `chunkBytes` each, with an fdatasync after each one when `sync`, over about
 * `durationMs` (at least 4 chunks).
 */
export function sequentialOnce(dir: string, name: string, chunkBytes: number, durationMs: number, sync = true): number {
  const path = join(dir, name);
  const buf = Buffer.alloc(chunkBytes, 0x5a);
  const fd = openSync(path, 'w');
  try {
    let pos = 0;
    const t0 = nowMs();
    let chunks = 0;
    while (chunks < 4 || (nowMs() - t0 < durationMs && (sync || pos < BUFFERED_CAP_BYTES))) {
      let off = 0;
      while (off < chunkBytes) off += writeSync(fd, buf, off, chunkBytes - off, pos + off);
      if (sync) fdatasyncSync(fd);
      pos += chunkBytes;
      chunks++;
    }
    return pos / ((nowMs() - t0) / 1000);
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}

/**
 * fdatasync calls per second over about `durationMs`, each after a 100-byte write at `at(n)` for the
 * nth call, after `prefill` bytes were written and synced first.
 */
function fsyncRate(dir: string, name: string, durationMs: number, prefill: number, at: (n: number) => number): number {
  const path = join(dir, name);
  const buf = Buffer.alloc(100, 0x5a);
  const fd = openSync(path, 'w');
  try {
    if (prefill > 0) {
      writeSync(fd, Buffer.alloc(prefill), 0, prefill, 0);
      fdatasyncSync(fd);
    }
    let n = 0;
    const t0 = nowMs();
    while (n < 10 || nowMs() - t0 < durationMs) {
      writeSync(fd, buf, 0, buf.length, at(n));
      fdatasyncSync(fd);
      n++;
    }
    return n / ((nowMs() - t0) / 1000);
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}

/** fdatasync calls per second, each after a 100-byte append. */
export function tinyOnce(dir: string, name: string, durationMs: number): number {
  return fsyncRate(dir, name, durationMs, 0, (n) => n * 100);
}

export interface RawLimit {
  /** write 1 MiB + fdatasync, bytes/s. */
  readonly seq1MiB: Summary;
  /** write 16 MiB + fdatasync, bytes/s (the writer's largest group commit, MAX_GROUP_BYTES). */
  readonly seq16MiB: Summary;
  /** write 1 MiB, no fdatasync (page cache), bytes/s. */
  readonly buffered1MiB: Summary;
  /** fdatasync after a 100-byte append, calls/s. */
  readonly tinyFsyncs: Summary;
}

/** Runs the three probes `reps` times each (after one short warm-up) and summarizes them. */
export function probeRawLimit(dir: string, reps: number, durationMs: number): RawLimit {
  sequentialOnce(dir, 'raw-warmup.bin', MiB, durationMs / 4);
  const seq1: number[] = [];
  const seq16: number[] = [];
  const buffered: number[] = [];
  const tiny: number[] = [];
  for (let i = 0; i < reps; i++) {
    seq1.push(sequentialOnce(dir, `raw-seq1-${i}.bin`, MiB, durationMs));
    seq16.push(sequentialOnce(dir, `raw-seq16-${i}.bin`, 16 * MiB, durationMs));
    buffered.push(sequentialOnce(dir, `raw-buffered-${i}.bin`, MiB, durationMs / 2, false));
    tiny.push(tinyOnce(dir, `raw-tiny-${i}.bin`, durationMs / 2));
  }
  return { seq1MiB: summarize(seq1), seq16MiB: summarize(seq16), buffered1MiB: summarize(buffered), tinyFsyncs: summarize(tiny) };
}

/** Where the in-place probe writes: two slots 64 KiB + 32 bytes apart, as a cursor file's A/B slots are. */
const IN_PLACE_SLOT_BYTES = 64 * 1024 + 32;

/**
 * fdatasync calls per second, each after a 100-byte pwrite over bytes already in the file (alternately
 * at two positions, as the cursor's A/B slots): the raw cost of one cursor commit, over about `durationMs`.
 */
export function tinyInPlaceOnce(dir: string, name: string, durationMs: number): number {
  return fsyncRate(dir, name, durationMs, 2 * IN_PLACE_SLOT_BYTES, (n) => (n % 2) * IN_PLACE_SLOT_BYTES);
}

export interface FsyncLimit {
  /** 100-byte pwrite in place + fdatasync, calls/s (the cursor commit's shape). */
  readonly inPlace: Summary;
  /** 100-byte append + fdatasync, calls/s. */
  readonly append: Summary;
}

/**
 * The two tiny fsync probes, `reps` times each after a short warm-up. All in-place runs come first: an
 * in-place run right after an append run (whose file is then deleted) measures the journal catching up
 * too, and comes out lower and noisier.
 */
export function probeFsyncLimit(dir: string, reps: number, durationMs: number): FsyncLimit {
  tinyInPlaceOnce(dir, 'raw-fsync-warmup.bin', durationMs / 4);
  const inPlace: number[] = [];
  const append: number[] = [];
  for (let i = 0; i < reps; i++) inPlace.push(tinyInPlaceOnce(dir, `raw-inplace-${i}.bin`, durationMs));
  for (let i = 0; i < reps; i++) append.push(tinyOnce(dir, `raw-tiny-${i}.bin`, durationMs));
  return { inPlace: summarize(inPlace), append: summarize(append) };
}

/**
 * Bytes/s of positional 1 MiB reads (into one reused buffer) through `paths` in order, each file from
 * start to end: what the page cache serves when the files were just written.
 */
export function pageCacheReadOnce(paths: readonly string[]): number {
  const buf = Buffer.allocUnsafe(MiB);
  let bytes = 0;
  const t0 = nowMs();
  for (const p of paths) {
    const fd = openSync(p, 'r');
    try {
      let pos = 0;
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n === 0) break;
        pos += n;
      }
      bytes += pos;
    } finally {
      closeSync(fd);
    }
  }
  return bytes / ((nowMs() - t0) / 1000);
}
