/**
 * The worker-pool workloads (bench/pool.ts):
 * - scaling: a pre-filled log processed by nonblockingProcess with a CPU-bound handler module in a
 *   pool of 1 or 2 workers, and the same handler called inline (no log, no pool) as the reference;
 * - latency: a producer paced at a fixed offered rate (SyncPolicy.never()) while a blocking consumer
 *   (a pool, or the in-process for-await iterator) computes now - intended send time for every record;
 * - physical references: a raw Atomics notify/waitAsync round trip between two threads, and an empty
 *   piscina task round trip.
 * Handlers record into the SharedArrayBuffer of bench/fixtures/pool-shared.mjs.
 */
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, type Handler, type Message, type ProcessContext } from '../../dist/index.js';
import { CTRL, RECORD_BYTES, WARM_MARK, nowMs, readF64, type SharedViews } from '../fixtures/pool-shared.mjs';
import { sleep } from './stats.js';
import { I32, controlViews } from '../../src/ring/layout.js';

export const SPIN_HANDLER = new URL('../fixtures/pool-spin-handler.mjs', import.meta.url);
export const LATENCY_HANDLER = new URL('../fixtures/pool-latency-handler.mjs', import.meta.url);
const NOOP_TASK = new URL('../fixtures/pool-noop.mjs', import.meta.url);
const ECHO_WORKER = new URL('../fixtures/atomics-echo.mjs', import.meta.url);
const SPIN_THREAD = new URL('../fixtures/spin-thread.mjs', import.meta.url);

/** A record whose first 16 bytes are (intended send time or WARM_MARK, index), as float64 LE. */
function stamp(buf: Buffer, intendedMs: number, index: number): Buffer {
  buf.writeDoubleLE(intendedMs, 0);
  buf.writeDoubleLE(index, 8);
  return buf;
}

/** CPU seconds of this process (every thread) between two readings. */
export function cpuSeconds(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

// ---------------------------------------------------------------------------------------------
// Scaling

/** Fills `logDir` with n 100-byte records (never, then flush), closes the producer. Not timed. */
export async function fillScalingLog(logDir: string, n: number): Promise<void> {
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), maxTotalBytes: null });
  try {
    const buf = Buffer.alloc(RECORD_BYTES, 0x63);
    for (let i = 0; i < n; i++) p.append(stamp(buf, i, i));
    await p.flush();
  } finally {
    await p.close();
  }
}

export interface ScalingRun {
  readonly workers: number;
  readonly records: number;
  readonly seconds: number;
  readonly recPerSec: number;
  /** CPU seconds of the process (all threads) over the timed call, per wall second: cores in use. */
  readonly coresUsed: number;
}

/**
 * One run over the whole log with a new nonTx consumer from the oldest record: a warm-up call over the
 * first `warmN` records (starts the pool's workers, loads the handler, lets the JIT compile it; same
 * consumer, so the same pool), then the timed call over the remaining `n`.
 */
export async function scalingRun(logDir: string, workers: number, warmN: number, n: number, batchRecords: number): Promise<ScalingRun> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const warm = await c.nonblockingProcess(warmN, SPIN_HANDLER, { workers, batchRecords });
    if (warm.committed !== warmN) throw new Error(`scaling warm-up: committed ${warm.committed} of ${warmN}`);
    const cpu0 = process.cpuUsage();
    const t0 = nowMs();
    const s = await c.nonblockingProcess(null, SPIN_HANDLER, { workers, batchRecords });
    const seconds = (nowMs() - t0) / 1000;
    const cpu = cpuSeconds(cpu0);
    if (s.committed !== n) throw new Error(`scaling (${workers} workers): committed ${s.committed} of ${n} (${s.stoppedBy})`);
    return { workers, records: n, seconds, recPerSec: n / seconds, coresUsed: cpu / seconds };
  } finally {
    await c.close();
  }
}

/** The handler module's default export called inline on this thread, n times, no log: records/s. */
export function inlineRate(handler: Handler, n: number): number {
  const data = stamp(Buffer.alloc(RECORD_BYTES, 0x63), 1, 1);
  const msg: Message = { offset: 0, data: new Uint8Array(data.buffer, data.byteOffset, RECORD_BYTES), timestamp: 0 };
  const ctx: ProcessContext = { attempt: 1, logId: 'inline', offset: 0, state: null, setState() { /* unused */ } };
  const t0 = nowMs();
  for (let i = 0; i < n; i++) handler(msg, ctx);
  return n / ((nowMs() - t0) / 1000);
}

// ---------------------------------------------------------------------------------------------
// Latency

export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentiles of `xs` (sorted in place). */
export function percentiles(xs: Float64Array): Percentiles {
  if (xs.length === 0) return { count: 0, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
  xs.sort();
  const at = (q: number): number => xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))]!;
  let sum = 0;
  for (const x of xs) sum += x;
  return { count: xs.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: xs[xs.length - 1]!, mean: sum / xs.length };
}

export interface Paced {
  /** Records appended (all of them: a late producer appends every record already due, stamped with its intended time). */
  readonly sent: number;
  /** Intended send time of record 0 (ms, timeOrigin-based). */
  readonly t0: number;
  /** Per record: append time - intended send time, µs (how late the producer itself was). */
  readonly lagUs: Float64Array;
}

/**
 * How the pacer waits between sends (see pace()):
 * - `spin`: one turn of the event loop (setImmediate) per pass. Its clock reads allocate in Node 20
 *   (performance.now and Date.now return a fresh heap number), so at a million passes a second it makes
 *   hundreds of MB/s of garbage: scavenges every few ms, each waking V8's helper threads, which then
 *   take the core the writer thread needs. Kept as a diagnostic.
 * - `nap`: sleeps `ms` in Atomics.wait between turns (the kernel's timer slack makes it about 50 µs
 *   more), then sends what fell due in one burst. For consumers on other threads (pools).
 * - `yield`: stays in one turn, spinning without allocation (the clock and `moved()` are read about
 *   once a microsecond), and returns to the event loop only when `moved()` changes (the consumer on
 *   this thread has records to take) or a millisecond passed.
 * - `seq`: as `yield`, but sleeps in Atomics.wait on the log's wake-up counter until the next record
 *   is due; the writer's notify ends the sleep at once, the timeout only after the timer slack.
 */
export type Pacer =
  | { readonly kind: 'spin' }
  | { readonly kind: 'nap'; readonly ms: number }
  | { readonly kind: 'yield'; readonly moved: () => number }
  | { readonly kind: 'seq'; readonly i32: Int32Array; readonly slot: number };

/** The pacer a latency spec asks for; `seq` reaches into the producer's control block (a probe, not API). */
function pacerOf(p: Producer, spec: LatencySpec): Pacer {
  const durable = spec.visibility === 'durable';
  switch (spec.pacer ?? 'spin') {
    case 'spin': return (spec.napMs ?? 0) > 0 ? { kind: 'nap', ms: spec.napMs! } : { kind: 'spin' };
    case 'yield': return { kind: 'yield', moved: durable ? () => p.durableOffset : () => p.writtenOffset };
    case 'seq': {
      const control = (p as unknown as { local: { shared: { control: SharedArrayBuffer } } }).local.shared.control;
      return { kind: 'seq', i32: controlViews(control).i32, slot: durable ? I32.DURABLE_SEQ : I32.WRITTEN_SEQ };
    }
  }
}

/**
 * Appends n records at one every `periodMs`: record i is due at t0 + i * periodMs and carries that
 * intended time, so the pacer's own lateness is part of every latency measured. Each pass appends
 * every record already due; between passes it waits as `pacer` says, and the event loop runs (the
 * consumer's callbacks on this thread) at least once a millisecond.
 */
export function pace(p: Producer, n: number, periodMs: number, pacer: Pacer = { kind: 'spin' }): Promise<Paced> {
  const buf = Buffer.alloc(RECORD_BYTES, 0x64);
  const lagUs = new Float64Array(n);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const t0 = nowMs() + 1;
  let i = 0;
  const moved = pacer.kind === 'yield' ? pacer.moved : pacer.kind === 'seq' ? () => Atomics.load(pacer.i32, pacer.slot) : null;
  return new Promise<Paced>((resolve, reject) => {
    const tick = (): void => {
      try {
        const mark = moved?.() ?? 0;
        const turnEnd = nowMs() + YIELD_AT_LEAST_MS;
        for (;;) {
          let t = nowMs();
          while (i < n) {
            const due = t0 + i * periodMs;
            if (due > t) break;
            p.append(stamp(buf, due, i));
            lagUs[i] = (t - due) * 1000;
            i++;
            if ((i & 63) === 0) t = nowMs();
          }
          if (i >= n) return resolve({ sent: n, t0, lagUs });
          if (moved === null || t >= turnEnd) break;
          if (pacer.kind === 'seq') {
            if (Atomics.wait(pacer.i32, pacer.slot, mark, t0 + i * periodMs - t) !== 'timed-out') break;
            continue;
          }
          busy(SPIN_1US);
          if (moved() !== mark) break;
        }
        if (pacer.kind === 'nap') Atomics.wait(nap, 0, 0, pacer.ms);
        setImmediate(tick);
      } catch (e) {
        reject(e);
      }
    };
    setImmediate(tick);
  });
}

/** The yield and seq pacers return to the event loop at least this often (timers, I/O). */
const YIELD_AT_LEAST_MS = 1;

let sink = 0;
/** A busy loop of `n` steps that allocates nothing. */
function busy(n: number): void {
  let x = sink;
  for (let k = 0; k < n; k++) x = (Math.imul(x, 1103515245) + 12345) | 0;
  sink = x;
}

/** Steps of busy() in about a microsecond on this machine (measured once). */
const SPIN_1US = ((): number => {
  for (let k = 0; k < 20_000; k++) busy(500); // optimized as it is called, not on stack replacement
  const t = performance.now();
  for (let k = 0; k < 2_000; k++) busy(500);
  return Math.max(1, Math.round(1_000_000 / ((performance.now() - t) * 1000)));
})();

/** Appends `n` warm-up records at once. */
function appendWarm(p: Producer, n: number): void {
  const buf = Buffer.alloc(RECORD_BYTES, 0x65);
  for (let i = 0; i < n; i++) p.append(stamp(buf, WARM_MARK, i));
}

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = nowMs() + timeoutMs;
  while (!ok()) {
    if (nowMs() > end) {
      console.warn(`  (timed out after ${timeoutMs} ms waiting for ${what})`);
      return false;
    }
    await sleep(2);
  }
  return true;
}

export interface LatencySpec {
  readonly logDir: string;
  readonly ratePerSec: number;
  /** Paced records before the measured window (their latencies are not counted). */
  readonly warmMs: number;
  readonly measureMs: number;
  /** Warm-up records appended at once before pacing starts (start the workers, load the handler). */
  readonly warmRecords: number;
  /** The producer's sync policy (default never) and the consumer's visibility (default written). */
  readonly syncPolicy?: SyncPolicy;
  readonly visibility?: 'written' | 'durable';
  /** The pacer (see Pacer; default spin, or nap with `napMs` > 0). */
  readonly pacer?: 'spin' | 'yield' | 'seq';
  /** With the spin pacer: sleep this long between bursts instead (the `nap` pacer), ms. */
  readonly napMs?: number;
}

export interface LatencyRun {
  /** Over the records whose intended send time is in the measured window. */
  readonly latencyUs: Percentiles;
  /** How late the producer appended, over the same records. */
  readonly producerLagUs: Percentiles;
  readonly sent: number;
  /** Measured-window records whose latency was recorded. */
  readonly measured: number;
  /** Records sent but never seen by the handler before the deadline (they would count as infinite). */
  readonly missing: number;
  /** CPU seconds of the process (all threads) per wall second over the paced part. */
  readonly coresUsed: number;
  /** The same per thread group (Linux): main (producer + consumer or coordinator), writer, pool workers, rest. */
  readonly threads: GroupCpu | null;
  readonly summary?: unknown;
}

/** Latencies of the measured window from parallel arrays (intended >= cutoff). */
function windowed(latUs: Float64Array, intendedMs: Float64Array, count: number, cutoffMs: number): Float64Array {
  const out: number[] = [];
  for (let k = 0; k < count; k++) if (intendedMs[k]! >= cutoffMs) out.push(latUs[k]!);
  return Float64Array.from(out);
}

function lagWindow(paced: Paced, warmN: number): Float64Array {
  return paced.lagUs.slice(warmN);
}

/** The threads started since `before` (the writer after Producer.open; the workers after a pool starts). */
function newThreads(before: Set<number>): number[] {
  return [...threadIds()].filter((t) => !before.has(t));
}

/** Pool: blockingProcess(null, latency handler, { workers }) on a nonTx consumer of the producer's log. */
export async function poolLatencyRun(spec: LatencySpec, shared: SharedViews, workers: number, batchRecords: number): Promise<LatencyRun> {
  const periodMs = 1000 / spec.ratePerSec;
  const warmN = Math.round(spec.warmMs / periodMs);
  const n = warmN + Math.round(spec.measureMs / periodMs);
  if (n > shared.capacity) throw new Error(`latency: ${n} records exceed the shared block's ${shared.capacity} samples`);
  const { ctrl } = shared;
  for (const k of [CTRL.COUNT, CTRL.WARM, CTRL.DROPPED]) Atomics.store(ctrl, k, 0);
  const t0s = threadIds();
  const p = await Producer.open({ logDir: spec.logDir, syncPolicy: spec.syncPolicy ?? SyncPolicy.never(), maxTotalBytes: null });
  const writer = newThreads(t0s);
  try {
    const c = await Consumer.open({ logDir: spec.logDir, style: ConsumerStyle.nonTx(Whence.oldest()), visibility: spec.visibility ?? 'written' });
    const ac = new AbortController();
    try {
      const t1s = threadIds();
      const run = c.blockingProcess(null, LATENCY_HANDLER, { workers, batchRecords, signal: ac.signal });
      run.catch(() => undefined); // observed below
      appendWarm(p, spec.warmRecords);
      await until('the pool warm-up records', () => Atomics.load(ctrl, CTRL.WARM) >= spec.warmRecords, 30_000);
      const threadCpu = measureGroups({ main: [process.pid], writer, workers: newThreads(t1s) });
      const cpu0 = process.cpuUsage();
      const w0 = nowMs();
      const paced = await pace(p, n, periodMs, pacerOf(p, spec));
      const coresUsed = cpuSeconds(cpu0) / ((nowMs() - w0) / 1000);
      const threads = threadCpu?.() ?? null;
      await until('the pool to see every paced record', () => Atomics.load(ctrl, CTRL.COUNT) >= n, 10_000);
      ac.abort();
      const summary = await run;
      const count = Math.min(Atomics.load(ctrl, CTRL.COUNT), shared.capacity);
      const lat = windowed(shared.latUs, shared.intendedMs, count, paced.t0 + warmN * periodMs);
      return {
        latencyUs: percentiles(lat), producerLagUs: percentiles(lagWindow(paced, warmN)), sent: paced.sent,
        measured: lat.length, missing: n - Atomics.load(ctrl, CTRL.COUNT), coresUsed, threads, summary,
      };
    } finally {
      ac.abort();
      await c.close();
    }
  } finally {
    await p.close();
  }
}

/** Reference: the in-process nonTx iterator (for await over consumer.tail()) on the producer's thread. */
export async function iteratorLatencyRun(spec: LatencySpec): Promise<LatencyRun> {
  const periodMs = 1000 / spec.ratePerSec;
  const warmN = Math.round(spec.warmMs / periodMs);
  const n = warmN + Math.round(spec.measureMs / periodMs);
  const latUs = new Float64Array(n);
  const intendedMs = new Float64Array(n);
  let seen = 0;
  let warmSeen = 0;
  const t0s = threadIds();
  const p = await Producer.open({ logDir: spec.logDir, syncPolicy: spec.syncPolicy ?? SyncPolicy.never(), maxTotalBytes: null });
  const writer = newThreads(t0s);
  try {
    const c = await Consumer.open({ logDir: spec.logDir, style: ConsumerStyle.nonTx(Whence.oldest()), visibility: spec.visibility ?? 'written' });
    const ac = new AbortController();
    try {
      const loop = (async () => {
        for await (const m of c.tail({ signal: ac.signal })) {
          const t = nowMs();
          const intended = readF64(m.data, 0);
          if (intended === WARM_MARK) {
            warmSeen++;
            continue;
          }
          latUs[seen] = (t - intended) * 1000;
          intendedMs[seen] = intended;
          if (++seen >= n) break;
        }
      })();
      loop.catch(() => undefined); // observed below
      appendWarm(p, spec.warmRecords);
      await until('the iterator warm-up records', () => warmSeen >= spec.warmRecords, 30_000);
      const threadCpu = measureGroups({ main: [process.pid], writer });
      const cpu0 = process.cpuUsage();
      const w0 = nowMs();
      const paced = await pace(p, n, periodMs, pacerOf(p, spec));
      const coresUsed = cpuSeconds(cpu0) / ((nowMs() - w0) / 1000);
      const threads = threadCpu?.() ?? null;
      const timer = setTimeout(() => ac.abort(), 10_000);
      await loop;
      clearTimeout(timer);
      const lat = windowed(latUs, intendedMs, seen, paced.t0 + warmN * periodMs);
      return {
        latencyUs: percentiles(lat), producerLagUs: percentiles(lagWindow(paced, warmN)), sent: paced.sent, measured: lat.length, missing: n - seen, coresUsed, threads,
      };
    } finally {
      ac.abort();
      await c.close();
    }
  } finally {
    await p.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Physical references

export interface RoundTrip {
  /** A: notify, then waitAsync for the answer; µs from A's store to A's wake-up. */
  readonly rttUs: Percentiles;
  /** A -> B: B's wake-up (waitAsync) minus A's send time, µs (clocks: each thread's timeOrigin + now()). */
  readonly oneWayAbUs: Percentiles;
  /** B -> A, the same way. */
  readonly oneWayBaUs: Percentiles;
  /** (median A->B - median B->A) / 2: an estimate of the offset between the two threads' clocks, µs. */
  readonly clockSkewUs: number;
}

/**
 * Raw Atomics ping-pong between this thread (A) and a worker thread (B), both waiting with
 * Atomics.waitAsync in their event loops (as the pool coordinator and the iterator do) and answering
 * with Atomics.notify. The first `warm` round trips are left out.
 */
export async function atomicsRoundTrip(n: number, warm: number, gapUs: number): Promise<RoundTrip> {
  const total = n + warm;
  const sab = new SharedArrayBuffer(32);
  const out = new SharedArrayBuffer(total * 8);
  const i32 = new Int32Array(sab, 0, 4);
  const f64 = new Float64Array(sab, 16, 2);
  const PING = 0;
  const PONG = 1;
  const w = new Worker(ECHO_WORKER, { workerData: { sab, out } });
  // A pending waitAsync does not keep the event loop alive: a ref'd timer does, until the end.
  const keepAlive = setInterval(() => undefined, 1_000);
  try {
    await once(w, 'online');
    await sleep(20); // let B reach its first wait
    const rtt = new Float64Array(total);
    const ba = new Float64Array(total);
    for (let i = 1; i <= total; i++) {
      if (gapUs > 0) {
        const until = nowMs() + gapUs / 1000;
        while (nowMs() < until) { /* spin: both threads idle between pings, as between records */ }
      }
      const t0 = nowMs();
      f64[0] = t0;
      Atomics.store(i32, PING, i);
      Atomics.notify(i32, PING);
      const r = Atomics.waitAsync(i32, PONG, i - 1, 5_000);
      if (r.async) await r.value;
      const t1 = nowMs();
      if (Atomics.load(i32, PONG) !== i) throw new Error(`atomics round trip ${i}: no answer within 5 s`);
      rtt[i - 1] = (t1 - t0) * 1000;
      ba[i - 1] = (t1 - f64[1]!) * 1000;
    }
    Atomics.store(i32, PING, -1);
    Atomics.notify(i32, PING);
    await once(w, 'exit');
    const ab = new Float64Array(out).slice(warm);
    const res = { rttUs: percentiles(rtt.slice(warm)), oneWayAbUs: percentiles(ab), oneWayBaUs: percentiles(ba.slice(warm)) };
    return { ...res, clockSkewUs: (res.oneWayAbUs.p50 - res.oneWayBaUs.p50) / 2 };
  } finally {
    clearInterval(keepAlive);
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

export interface ParallelProbe {
  /** One bare thread running spin() flat out, records/s. */
  readonly oneThread: number;
  /** Two bare threads at once, records/s together. */
  readonly twoThreads: number;
  /** twoThreads / oneThread: the parallel CPU the machine gives now (2.0 on two idle cores). */
  readonly speedup: number;
}

async function spinThreads(k: number, rounds: number, ms: number): Promise<number> {
  const startAt = nowMs() + 150; // after every thread has started and warmed up
  const ws = Array.from({ length: k }, () => new Worker(SPIN_THREAD, { workerData: { rounds, ms, startAt } }));
  try {
    const rates = await Promise.all(ws.map(async (w) => ((await once(w, 'message')) as [{ recPerSec: number }])[0].recPerSec));
    return rates.reduce((a, b) => a + b, 0);
  } finally {
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

/**
 * The physical ceiling of pool scaling on this machine, now: the spin handler's work in one bare
 * worker thread, then in two at once (no log, no pool, no messages).
 */
export async function parallelProbe(rounds: number, ms: number): Promise<ParallelProbe> {
  const oneThread = await spinThreads(1, rounds, ms);
  const twoThreads = await spinThreads(2, rounds, ms);
  return { oneThread, twoThreads, speedup: twoThreads / oneThread };
}

// ---------------------------------------------------------------------------------------------
// Other load on the machine

export interface CpuSnapshot {
  readonly atMs: number;
  /** Machine-wide busy CPU time (ms) from /proc/stat; null where it cannot be read. */
  readonly machineBusyMs: number | null;
  readonly process: NodeJS.CpuUsage;
}

/** Busy ms of all CPUs since boot from /proc/stat (user+nice+system+irq+softirq+steal), or null. */
function machineBusyMs(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
    return (busy * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

export function cpuSnapshot(): CpuSnapshot {
  return { atMs: nowMs(), machineBusyMs: machineBusyMs(), process: process.cpuUsage() };
}

/**
 * Cores used by other processes since `from`: machine-wide busy time minus this process's, per wall
 * second (null off Linux). Anything well above 0 means the figures since `from` are not this machine's
 * best: its CPUs were shared.
 */
export function otherCores(from: CpuSnapshot): number | null {
  const to = cpuSnapshot();
  if (from.machineBusyMs === null || to.machineBusyMs === null) return null;
  const wallMs = to.atMs - from.atMs;
  const own = process.cpuUsage(from.process);
  return Math.max(0, (to.machineBusyMs - from.machineBusyMs - (own.user + own.system) / 1000) / wallMs);
}

// ---------------------------------------------------------------------------------------------
// Where the CPU goes, per thread (Linux: /proc/self/task)

/** The ids of this process's threads now (empty off Linux). */
export function threadIds(): Set<number> {
  try {
    return new Set(readdirSync('/proc/self/task').map(Number));
  } catch {
    return new Set();
  }
}

/** utime + stime of thread `tid` in ms (0 if it is gone). */
function threadCpuMs(tid: number): number {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // fields 14 and 15, in USER_HZ (100) ticks
  } catch {
    return 0;
  }
}

export type ThreadGroups = Record<string, readonly number[]>;

export interface GroupCpu {
  /** Cores used by each group of threads over the interval, and by every other thread of the process ("rest"). */
  readonly [group: string]: number;
}

/** Per-group CPU from now until the returned function is called (cores: CPU seconds per wall second). */
export function measureGroups(groups: ThreadGroups): (() => GroupCpu) | null {
  const all = threadIds();
  if (all.size === 0) return null;
  const t0 = nowMs();
  const sum = (tids: Iterable<number>): number => {
    let s = 0;
    for (const t of tids) s += threadCpuMs(t);
    return s;
  };
  const named = new Set(Object.values(groups).flat());
  const start = Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, sum(v)]));
  const restStart = sum([...all].filter((t) => !named.has(t)));
  return () => {
    const wall = nowMs() - t0;
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(groups)) out[k] = (sum(v) - start[k]!) / wall;
    out.rest = (sum([...threadIds()].filter((t) => !named.has(t))) - restStart) / wall;
    return out;
  };
}
