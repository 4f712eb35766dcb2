/**
 * Physical-limit probes, run on the same filesystem (the same directory) as the logs:
 * - sequential: write `chunkBytes` with fs.writeSync at the end of a fresh file, fdatasync after every
 *   chunk (the shape of the writer's group commit: extend the file, then fdatasync);
 * - buffered: the same 1 MiB writes with no fdatasync (what the kernel's page cache takes: the
 *   ceiling of `never`, whose writer does exactly these writes);
 * - tiny: 100-byte writes at the end of a fresh file, fdatasync after each (the fsync round trip);
 * - tiny in place: 100-byte pwrites over already written bytes of one file, fdatasync after each (the
 *   shape of a cursor commit: no size change, so no metadata to journal);
 * - page-cache read: positional 1 MiB reads of files just written (the ceiling of a consumer's reads);
 * - raw read-and-parse: segment files read whole and walked frame by frame, record by record (the
 *   ceiling of a reader);
 * and the references of the threads: an Atomics notify/waitAsync ping between two threads (the floor
 * of a wake-up), the wake-up of a thread sleeping in Atomics.wait while this one spins and stores
 * (what a writer thread that sleeps between records pays, the machine busy), an empty piscina task
 * (the floor of one pool dispatch), and the spin handler's work in one and two bare threads (the
 * parallel CPU the machine gives, the ceiling of pool scaling).
 * Each disk repetition uses its own file, removed right after.
 */
import { once } from 'node:events';
import { closeSync, fdatasyncSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { Piscina } from 'piscina';
import { nowMs, percentiles, sleep, summarize, type Percentiles, type Summary } from './run.js';
import { ON_DISK_RECORD_BYTES, RECORD_BYTES, segmentFiles } from './workloads.js';

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
  /** write 1 MiB, no fdatasync (page cache), bytes/s. */
  readonly buffered1MiB: Summary;
  /** fdatasync after a 100-byte append, calls/s. */
  readonly tinyFsyncs: Summary;
}

/** Runs the three probes `reps` times each (after one short warm-up) and summarizes them. */
export function probeRawLimit(dir: string, reps: number, durationMs: number): RawLimit {
  sequentialOnce(dir, 'raw-warmup.bin', MiB, durationMs / 4);
  const seq1: number[] = [];
  const buffered: number[] = [];
  const tiny: number[] = [];
  for (let i = 0; i < reps; i++) {
    seq1.push(sequentialOnce(dir, `raw-seq1-${i}.bin`, MiB, durationMs));
    buffered.push(sequentialOnce(dir, `raw-buffered-${i}.bin`, MiB, durationMs / 2, false));
    tiny.push(tinyOnce(dir, `raw-tiny-${i}.bin`, durationMs / 2));
  }
  return { seq1MiB: summarize(seq1), buffered1MiB: summarize(buffered), tinyFsyncs: summarize(tiny) };
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

/** The page-cache read of `paths` in records/s (ON_DISK_RECORD_BYTES a record), `reps` times after a warm-up read. */
export function pageCacheRecords(paths: readonly string[], reps: number): Summary {
  pageCacheReadOnce(paths);
  return summarize(Array.from({ length: reps }, () => pageCacheReadOnce(paths) / ON_DISK_RECORD_BYTES));
}

/** A raw probe that moves more than this between the start and the end of a run makes its ratios suspect. */
const DRIFT_WARN = 0.3;

/** The warning when raw probe `what` moved more than DRIFT_WARN from `start` to `end` (its consequence: `meaning`), else none. */
export function driftWarnings(what: string, start: Summary, end: Summary, meaning: string): string[] {
  const d = end.median / start.median - 1;
  return Math.abs(d) > DRIFT_WARN ? [`WARNING: ${what} moved ${(d * 100).toFixed(0)}% between the start and the end of the run: ${meaning}`] : [];
}

const SEGMENT_HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 40;

/** The raw reader's read size: the reactive-log reader's too (src/reader/segment-file.ts CHUNK_BYTES). */
const RAW_READ_BYTES = 1024 * 1024;
/** Where the raw reader hands each record out: a view the caller keeps (so V8 cannot drop it). */
let handedOut: Uint8Array | null = null;
/** The same for `message`: a record shaped as reactive-log's Message. */
let messageOut: { offset: number; data: Buffer; timestamp: number; key: null; headers: null } | null = null;
/** Node's Buffer class, made without `subarray`'s checks (as src/reader/record-bytes.ts does). */
const FastBuffer = (Buffer as unknown as { [Symbol.species]: new (b: ArrayBufferLike, o: number, l: number) => Buffer })[Symbol.species];

/**
 * The raw reader of the log's bytes, written as tightly as this format allows: every segment file of
 * `logDir` read front to back in 1 MiB preads, each into a fresh buffer (the records handed out stay
 * valid, as a reader's must), its frames walked by their sizes and their records by their u32 length
 * words, each record handed out as a Uint8Array view of the bytes read. With `checkCrc` also the CRC-32
 * of every frame (`zlib.crc32`, as the reader). With `message`, each record is handed out as an object
 * of reactive-log's Message shape (offset, a Buffer view, the frame's timestamp, no key or headers)
 * instead: the least a reader with that API makes per record. Returns records/s. The format is
 * docs/format.md's; no validation beyond that; it must find `expected` records.
 */
export function rawReadParse(logDir: string, checkCrc: boolean, expected: number, message = false): number {
  let records = 0;
  let bytes = 0;
  const t0 = nowMs();
  for (const path of segmentFiles(logDir)) {
    const fd = openSync(path, 'r');
    try {
      let position = SEGMENT_HEADER_BYTES;
      for (;;) {
        const buf = Buffer.allocUnsafeSlow(RAW_READ_BYTES);
        const got = readSync(fd, buf, 0, RAW_READ_BYTES, position);
        const view = new DataView(buf.buffer, buf.byteOffset, got);
        let p = 0;
        while (p + FRAME_HEADER_BYTES <= got) {
          const size = view.getUint32(p + 8, true);
          const count = view.getUint32(p + 12, true);
          if (size < 48 || p + size > got) break;
          if (checkCrc && crc32(buf.subarray(p + 8, p + size - 4)) !== view.getUint32(p + 4, true)) throw new Error(`crc mismatch in ${path} at ${position + p}`);
          let r = p + FRAME_HEADER_BYTES;
          const timestamp = view.getFloat64(p + 24, true);
          for (let i = 0; i < count; i++) {
            const len = view.getUint32(r, true) & 0x7fffffff;
            if (message) {
              messageOut = { offset: records + i, data: new FastBuffer(buf.buffer, buf.byteOffset + r + 4, len), timestamp, key: null, headers: null };
              bytes += messageOut.data.byteLength;
            } else {
              handedOut = new Uint8Array(buf.buffer, buf.byteOffset + r + 4, len);
              bytes += handedOut.byteLength;
            }
            r += 4 + len;
          }
          records += count;
          p += size;
        }
        if (p === 0) break; // the end of the file's frames (a frame longer than a read does not occur here)
        position += p;
      }
    } finally {
      closeSync(fd);
    }
  }
  const seconds = (nowMs() - t0) / 1000;
  if (records !== expected || bytes !== records * RECORD_BYTES) throw new Error(`raw parse: ${bytes} bytes in ${records} records, expected ${expected} records`);
  return records / seconds;
}

const ECHO_WORKER = new URL('../fixtures/atomics-echo.mjs', import.meta.url);
const NOOP_TASK = new URL('../fixtures/pool-noop.mjs', import.meta.url);
const SPIN_THREAD = new URL('../fixtures/spin-thread.mjs', import.meta.url);
const PARK_THREAD = new URL('../fixtures/park-thread.mjs', import.meta.url);

export interface RoundTrip {
  /** A: notify, then waitAsync for the answer; µs from A's store to A's wake-up. */
  readonly rttUs: Percentiles;
  /** A -> B: B's wake-up (waitAsync) minus A's send time, µs (clocks: each thread's timeOrigin + now()). */
  readonly oneWayAbUs: Percentiles;
  /** B -> A, the same way. */
  readonly oneWayBaUs: Percentiles;
  /** (median A->B - median B->A) / 2: an estimate of the offset between the two threads' clocks, µs. */
  readonly clockSkewUs: number;
  /** Round trips that got no answer within 1 s and were asked again (their time counts in the tail). */
  readonly lostWakeups: number;
}

/** Wall-clock ms comparable across threads (the echo thread stamps with the same clock). */
const wallMs = (): number => performance.timeOrigin + performance.now();

/**
 * Raw Atomics ping-pong between this thread (A) and a worker thread (B), both waiting with
 * Atomics.waitAsync in their event loops (as the pool coordinator and the iterator do) and answering
 * with Atomics.notify, `gapUs` apart. The first `warm` round trips are left out.
 */
export async function atomicsRoundTrip(n: number, warm: number, gapUs: number): Promise<RoundTrip> {
  const total = n + warm;
  const sab = new SharedArrayBuffer(32);
  const out = new SharedArrayBuffer(total * 8);
  const i32 = new Int32Array(sab, 0, 4);
  const f64 = new Float64Array(sab, 16, 2);
  const w = new Worker(ECHO_WORKER, { workerData: { sab, out } });
  // A pending waitAsync does not keep the event loop alive: a ref'd timer does, until the end. The
  // waits take no timeout (a timed waitAsync costs the event loop a wake-up and a timer of its own,
  // as in src/consumer/waiter.ts): the same timer bounds each to a second.
  const keepAlive = setInterval(() => Atomics.notify(i32, 1), 1_000);
  try {
    await once(w, 'online');
    await sleep(20); // let B reach its first wait
    const rtt = new Float64Array(total);
    const ba = new Float64Array(total);
    let lostWakeups = 0;
    for (let i = 1; i <= total; i++) {
      const until = wallMs() + gapUs / 1000;
      while (wallMs() < until) { /* spin: both threads idle between pings, as between records */ }
      const t0 = wallMs();
      f64[0] = t0;
      Atomics.store(i32, 0, i);
      Atomics.notify(i32, 0);
      // The keep-alive timer's notify ends a wait early, and it runs only while this thread awaits, so
      // within a round trip: a wake counts as lost (asked again) only after a second without an answer.
      for (let asked = t0; Atomics.load(i32, 1) !== i;) {
        const now = wallMs();
        if (now - t0 >= 5_000) throw new Error(`atomics round trip ${i}: no answer within 5 s`);
        if (now - asked >= 1_000) {
          lostWakeups++; // seen on a heavily shared machine: ask again rather than stop the run
          asked = now;
          Atomics.notify(i32, 0);
        }
        const r = Atomics.waitAsync(i32, 1, i - 1);
        if (r.async) await r.value;
      }
      const t1 = wallMs();
      rtt[i - 1] = (t1 - t0) * 1000;
      ba[i - 1] = (t1 - f64[1]!) * 1000;
    }
    Atomics.store(i32, 0, -1);
    Atomics.notify(i32, 0);
    await once(w, 'exit');
    const res = { rttUs: percentiles(rtt.slice(warm)), oneWayAbUs: percentiles(new Float64Array(out).slice(warm)), oneWayBaUs: percentiles(ba.slice(warm)) };
    return { ...res, clockSkewUs: (res.oneWayAbUs.p50 - res.oneWayBaUs.p50) / 2, lostWakeups };
  } finally {
    clearInterval(keepAlive);
    await w.terminate();
  }
}

export interface ParkedWakeUps {
  /** From this thread's notify to the sleeping thread's return from Atomics.wait, µs (clocks as in RoundTrip). */
  readonly wakeUs: Percentiles;
  /** The share of the wake-ups that took over 500 µs. */
  readonly overHalfMs: number;
  /** How often the other thread slept, per second. */
  readonly sleepsPerSec: number;
}

/**
 * The wake-up of a thread that sleeps for want of work while this thread spins and hands it work: a
 * worker (bench/fixtures/park-thread.mjs) takes what a counter says, watches it for 50 µs when nothing
 * is new, then sleeps in Atomics.wait on it, as reactive-log's writer does between records; this thread
 * spins for `ms` without allocating and stores the counter every `periodUs` (100,000 stores a second at
 * 10), and the store that finds the worker asleep notifies it, once a sleep. Both cores stay busy, as in the latency cells,
 * where the pacer spins on one. No log, no files, no collector at work.
 */
export async function parkedWakeUps(ms: number, periodUs: number): Promise<ParkedWakeUps> {
  const ctrl = new Int32Array(new SharedArrayBuffer(16)); // [HEAD, SLEEPING, STOP, COUNT] (park-thread.mjs)
  const capacity = Math.ceil((ms * 1000) / periodUs) + 1;
  const stamps = new Float64Array(new SharedArrayBuffer(capacity * 8));
  const notified = new Float64Array(capacity);
  const w = new Worker(PARK_THREAD, { workerData: { ctrl: ctrl.buffer, stamps: stamps.buffer } });
  try {
    await once(w, 'message');
    let notifies = 0;
    let i = 0;
    const t0 = performance.now();
    const end = t0 + ms;
    // As the latency cells' pacer: spins within a turn of the event loop and lets it turn every ms.
    await new Promise<void>((resolve) => {
      const turn = (): void => {
        for (const turnEnd = performance.now() + 1; ;) {
          const due = t0 + ((i + 1) * periodUs) / 1000;
          let now = performance.now();
          while (now < due && now < turnEnd) now = performance.now();
          if (now >= end) return resolve();
          if (now >= turnEnd) break;
          Atomics.store(ctrl, 0, ++i);
          // As reactive-log's producer: the store that finds SLEEPING set clears it and notifies, once a sleep.
          if (Atomics.load(ctrl, 1) === 1 && Atomics.compareExchange(ctrl, 1, 1, 0) === 1) {
            notified[notifies++] = wallMs();
            Atomics.notify(ctrl, 0);
          }
        }
        setImmediate(turn);
      };
      setImmediate(turn);
    });
    const seconds = (performance.now() - t0) / 1000;
    Atomics.store(ctrl, 2, 1);
    Atomics.notify(ctrl, 0);
    await once(w, 'exit');
    const wakes = Atomics.load(ctrl, 3);
    const us = new Float64Array(wakes);
    let k = 0;
    let j = 0;
    for (let i = 0; i < wakes; i++) {
      const t = stamps[i]!;
      while (j + 1 < notifies && notified[j + 1]! <= t) j++;
      if (notifies > 0 && notified[j]! <= t) us[k++] = (t - notified[j]!) * 1000;
    }
    const measured = us.subarray(0, k);
    const over = measured.reduce((a, x) => a + (x > 500 ? 1 : 0), 0);
    return { wakeUs: percentiles(measured.slice()), overHalfMs: k === 0 ? 0 : over / k, sleepsPerSec: wakes / seconds };
  } finally {
    await w.terminate();
  }
}

/** Round trip of an empty piscina task (one worker), µs: the floor of one pool dispatch. */
export async function piscinaRoundTrip(n: number, warm: number): Promise<Percentiles> {
  const pool = new Piscina({ filename: NOOP_TASK.href, minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: 1 });
  try {
    const us = new Float64Array(n);
    for (let i = 0; i < n + warm; i++) {
      const t0 = nowMs();
      await pool.run(i);
      if (i >= warm) us[i - warm] = (nowMs() - t0) * 1000;
    }
    return percentiles(us);
  } finally {
    await pool.destroy();
  }
}

async function spinThreads(k: number, rounds: number, ms: number): Promise<number> {
  const startAt = wallMs() + 150; // after every thread has started and warmed up
  const ws = Array.from({ length: k }, () => new Worker(SPIN_THREAD, { workerData: { rounds, ms, startAt } }));
  try {
    const rates = await Promise.all(ws.map(async (w) => ((await once(w, 'message')) as [{ recPerSec: number }])[0].recPerSec));
    return rates.reduce((a, b) => a + b, 0);
  } finally {
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

/**
 * The ceiling of pool scaling on this machine, now: the spin handler's work (`rounds` a record) in
 * one bare worker thread, then in two at once (no log, no pool, no messages). Returns 2-thread rate /
 * 1-thread rate (2.0 on two idle cores).
 */
export async function parallelSpeedup(rounds: number, ms: number): Promise<number> {
  const oneThread = await spinThreads(1, rounds, ms);
  return (await spinThreads(2, rounds, ms)) / oneThread;
}
