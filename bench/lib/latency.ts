/**
 * Producer-to-consumer latency at a fixed offered rate: the producer appends record i at its intended
 * send time t0 + i * period, stamped with that time, appended as soon as it is due, late or not (no
 * coordinated omission), and the consumer takes now - intended send time for every record. The
 * consumer is the in-process for-await iterator (`iteratorLatencyRun`, the suite's latency question;
 * run it in a fresh process with run.ts inFreshProcess) or a pool of workers whose handler
 * (bench/fixtures/pool-latency-handler.mjs) records into shared memory (`poolLatencyRun`).
 */
import { closeSync, mkdirSync, openSync, readSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../../dist/index.js';
import { CTRL, RECORD_BYTES, WARM_MARK, nowMs, readF64, type SharedViews } from '../fixtures/pool-shared.mjs';
import { cpuSeconds, percentiles, sleep, summarize, type Percentiles, type Summary } from './run.js';
import { row, type Row } from './table.js';

export const LATENCY_MODULE = new URL('./latency.ts', import.meta.url);
const LATENCY_HANDLER = new URL('../fixtures/pool-latency-handler.mjs', import.meta.url);
const RAW_WRITER = new URL('../fixtures/raw-pipeline-writer.mjs', import.meta.url);

export interface LatencySpec {
  readonly logDir: string;
  readonly ratePerSec: number;
  /** Paced records before the measured window (their latencies are not counted). */
  readonly warmMs: number;
  readonly measureMs: number;
  /** Warm-up records appended at once before pacing starts (start the workers, load the handler). */
  readonly warmRecords: number;
  /** SyncPolicy.always() and durable visibility; else never and written visibility. */
  readonly durable: boolean;
  /** rawLatencyRun only: a helper thread fdatasyncs the file every this many bytes written (0: none). */
  readonly rawBehindBytes?: number;
}

export interface LatencyRun {
  /** Over the records whose intended send time is in the measured window. */
  readonly latencyUs: Percentiles;
  /** How late the producer appended, over the same records. */
  readonly producerLagUs: Percentiles;
  /** Measured-window records whose latency was recorded. */
  readonly measured: number;
  /** Records sent but never seen by the consumer before the deadline (they would count as infinite). */
  readonly missing: number;
  /** CPU seconds of the process (all threads) per wall second over the paced part. */
  readonly coresUsed: number;
  /**
   * How often the writer thread slept for want of records over the paced part, per second: each
   * sleep ends in a thread wake-up, which takes milliseconds at times on a busy machine (limits.ts
   * parkedWakeUps). reactive-log: `stats().writerSleeps`; the raw pipeline: its writer's count.
   */
  readonly writerSleepsPerSec: number;
}

/** A record whose first 16 bytes are (intended send time or WARM_MARK, index), as float64 LE. */
function stamp(buf: Buffer, intendedMs: number, index: number): Buffer {
  buf.writeDoubleLE(intendedMs, 0);
  buf.writeDoubleLE(index, 8);
  return buf;
}

/**
 * How the pacer waits between passes:
 * - `nap`: sleeps `ms` in Atomics.wait (the kernel's timer slack makes it about 50 µs more), then sends
 *   what fell due in one burst: for consumers on other threads (pools), which then find a free core;
 * - `yield`: stays in one event-loop turn, spinning without allocating (the clock and `moved()` read
 *   about once a microsecond), and returns to the event loop when `moved()` changes (the consumer on
 *   this thread has records to take) or a millisecond passed.
 * docs/performance.md says why the pacer must not allocate, and what spinning pacers did to the tail.
 */
type Pacer = { readonly kind: 'nap'; readonly ms: number } | { readonly kind: 'yield'; readonly moved: () => number };

interface Paced {
  /** Intended send time of record 0 (ms, timeOrigin-based). */
  readonly t0: number;
  /** Per record: append time - intended send time, µs (how late the producer itself was). */
  readonly lagUs: Float64Array;
}

/** What the pacer appends to: a Producer, or the raw pipeline's shared buffer. */
interface Appender { append(data: Buffer): unknown }

/** The yield pacer returns to the event loop at least this often (timers, I/O). */
const YIELD_AT_LEAST_MS = 1;

/** Appends n records at one every `periodMs`, each pass every record already due, waiting as `pacer` says between passes. */
function pace(p: Appender, n: number, periodMs: number, pacer: Pacer): Promise<Paced> {
  const buf = Buffer.alloc(RECORD_BYTES, 0x64);
  const lagUs = new Float64Array(n);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const t0 = nowMs() + 1;
  let i = 0;
  return new Promise<Paced>((resolve, reject) => {
    const tick = (): void => {
      try {
        const mark = pacer.kind === 'yield' ? pacer.moved() : 0;
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
          if (i >= n) return resolve({ t0, lagUs });
          if (pacer.kind === 'nap' || t >= turnEnd) break;
          busy(SPIN_1US);
          if (pacer.moved() !== mark) break;
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

function appendWarm(p: Appender, n: number): void {
  const buf = Buffer.alloc(RECORD_BYTES, 0x65);
  for (let i = 0; i < n; i++) p.append(stamp(buf, WARM_MARK, i));
}

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const end = nowMs() + timeoutMs;
  while (!ok()) {
    if (nowMs() > end) {
      console.warn(`  (timed out after ${timeoutMs} ms waiting for ${what})`);
      return;
    }
    await sleep(2);
  }
}

/** Latencies of the measured window from parallel arrays (intended >= cutoff). */
function windowed(latUs: Float64Array, intendedMs: Float64Array, count: number, cutoffMs: number): Float64Array {
  const out: number[] = [];
  for (let k = 0; k < count; k++) if (intendedMs[k]! >= cutoffMs) out.push(latUs[k]!);
  return Float64Array.from(out);
}

/**
 * A producer and a nonTx consumer of its log from the oldest record; `consume(c, n)` starts the
 * consumer and returns how to wait for it to see the warm-up records, then all n, and the samples.
 */
async function latencyRun(spec: LatencySpec, pacer: (p: Producer) => Pacer, consume: (c: Consumer, n: number, signal: AbortSignal) => {
  warm(): boolean; all(): Promise<void>; samples(): { latUs: Float64Array; intendedMs: Float64Array; count: number }; end: Promise<unknown>;
}): Promise<LatencyRun> {
  const periodMs = 1000 / spec.ratePerSec;
  const warmN = Math.round(spec.warmMs / periodMs);
  const n = warmN + Math.round(spec.measureMs / periodMs);
  const p = await Producer.open({ logDir: spec.logDir, syncPolicy: spec.durable ? SyncPolicy.always() : SyncPolicy.never(), maxTotalBytes: null });
  try {
    const c = await Consumer.open({ logDir: spec.logDir, style: ConsumerStyle.nonTx(Whence.oldest()), visibility: spec.durable ? 'durable' : 'written' });
    const ac = new AbortController();
    let run: ReturnType<typeof consume> | null = null;
    try {
      run = consume(c, n, ac.signal);
      appendWarm(p, spec.warmRecords);
      await until('the warm-up records', run.warm, 30_000);
      const cpu0 = process.cpuUsage();
      const w0 = nowMs();
      const sleeps0 = p.stats().writerSleeps;
      const paced = await pace(p, n, periodMs, pacer(p));
      const seconds = (nowMs() - w0) / 1000;
      const coresUsed = cpuSeconds(cpu0) / seconds;
      const writerSleepsPerSec = (p.stats().writerSleeps - sleeps0) / seconds; // NaN on a build before the count
      const timer = setTimeout(() => ac.abort(), 10_000);
      await run.all();
      clearTimeout(timer);
      const s = run.samples();
      const lat = windowed(s.latUs, s.intendedMs, s.count, paced.t0 + warmN * periodMs);
      return {
        latencyUs: percentiles(lat), producerLagUs: percentiles(paced.lagUs.slice(warmN)), measured: lat.length, missing: n - s.count,
        coresUsed, writerSleepsPerSec,
      };
    } finally {
      ac.abort();
      await run?.end.catch(() => undefined);
      await c.close();
    }
  } finally {
    await p.close();
  }
}

/** The in-process nonTx iterator (for await over consumer.tail()) on the producer's thread; the yield pacer. */
export function iteratorLatencyRun(spec: LatencySpec): Promise<LatencyRun> {
  return latencyRun(spec, (p) => ({ kind: 'yield', moved: spec.durable ? () => p.durableOffset : () => p.writtenOffset }), (c, n, signal) => {
    const latUs = new Float64Array(n);
    const intendedMs = new Float64Array(n);
    let seen = 0;
    let warmSeen = 0;
    const loop = (async () => {
      for await (const m of c.tail({ signal })) {
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
    loop.catch(() => undefined); // observed by all()
    return { warm: () => warmSeen >= spec.warmRecords, all: () => loop, samples: () => ({ latUs, intendedMs, count: seen }), end: loop };
  });
}

/**
 * The raw pipeline at the same offered rate and with the same pacer, the physical limit of the
 * iterator's rows: the pacer copies each record (u32 length, bytes) into a shared buffer and stores
 * its end; a writer thread (bench/fixtures/raw-pipeline-writer.mjs) writes what is new to a file
 * (with `durable`, fdatasync after each write) and publishes the end; a consumer on the pacer's
 * thread waits for it with Atomics.waitAsync, reads the new bytes back from the file and takes each
 * record's latency. No frames, CRCs, segments, indexes or message objects: what is left is the
 * threads, their wake-ups, the system calls and the machine.
 */
export async function rawLatencyRun(spec: LatencySpec): Promise<LatencyRun> {
  const periodMs = 1000 / spec.ratePerSec;
  const warmN = Math.round(spec.warmMs / periodMs);
  const n = warmN + Math.round(spec.measureMs / periodMs);
  const ctrl = new Int32Array(new SharedArrayBuffer(20)); // [HEAD, DONE, SLEEPING, STOP, SLEEPS] (raw-pipeline-writer.mjs)
  const data = Buffer.from(new SharedArrayBuffer((spec.warmRecords + n) * (4 + RECORD_BYTES)));
  mkdirSync(spec.logDir, { recursive: true });
  const path = join(spec.logDir, 'raw.log');
  const worker = new Worker(RAW_WRITER, { workerData: { ctrl: ctrl.buffer, data: data.buffer, path, durable: spec.durable, spinMs: 0.05, behindBytes: spec.rawBehindBytes ?? 0 } });
  const exited = once(worker, 'exit');
  await once(worker, 'message');
  const fd = openSync(path, 'r');
  let head = 0;
  const pipe: Appender = {
    append(b: Buffer): void {
      data.writeUInt32LE(b.length, head);
      b.copy(data, head + 4);
      head += 4 + b.length;
      Atomics.store(ctrl, 0, head);
      if (Atomics.load(ctrl, 2) === 1) Atomics.notify(ctrl, 0);
    },
  };
  const latUs = new Float64Array(n);
  const intendedMs = new Float64Array(n);
  const back = Buffer.alloc(data.length);
  let seen = 0;
  let warmSeen = 0;
  let stop = false;
  // The consumer's waits take no timeout (a timed waitAsync costs the event loop a wake-up and a
  // timer of its own, as in src/consumer/waiter.ts): this sweep bounds them, and keeps the loop alive.
  const sweep = setInterval(() => Atomics.notify(ctrl, 1), 100);
  const consumer = (async () => {
    let read = 0;
    while (!stop && seen < n) {
      const w = Atomics.waitAsync(ctrl, 1, read);
      if (w.async) await w.value;
      const done = Atomics.load(ctrl, 1);
      if (done === read) continue;
      readSync(fd, back, read, done - read, read);
      while (read < done) {
        const t = nowMs();
        const intended = back.readDoubleLE(read + 4);
        read += 4 + back.readUInt32LE(read);
        if (intended === WARM_MARK) warmSeen++;
        else {
          latUs[seen] = (t - intended) * 1000;
          intendedMs[seen] = intended;
          seen++;
        }
      }
    }
  })();
  try {
    appendWarm(pipe, spec.warmRecords);
    await until('the warm-up records', () => warmSeen >= spec.warmRecords, 30_000);
    const cpu0 = process.cpuUsage();
    const w0 = nowMs();
    const sleeps0 = Atomics.load(ctrl, 4);
    const paced = await pace(pipe, n, periodMs, { kind: 'yield', moved: () => Atomics.load(ctrl, 1) });
    const seconds = (nowMs() - w0) / 1000;
    const coresUsed = cpuSeconds(cpu0) / seconds;
    const writerSleepsPerSec = (Atomics.load(ctrl, 4) - sleeps0) / seconds;
    await until('the consumer to see every paced record', () => seen >= n, 10_000);
    const lat = windowed(latUs, intendedMs, seen, paced.t0 + warmN * periodMs);
    return {
      latencyUs: percentiles(lat), producerLagUs: percentiles(paced.lagUs.slice(warmN)), measured: lat.length, missing: n - seen,
      coresUsed, writerSleepsPerSec,
    };
  } finally {
    stop = true;
    Atomics.store(ctrl, 3, 1);
    Atomics.notify(ctrl, 0);
    Atomics.notify(ctrl, 1); // the consumer, suspended only at its wait, wakes and sees `stop`
    clearInterval(sweep); // before the await: a consumer that failed must not leave a ref'd timer behind
    await consumer;
    await exited;
    closeSync(fd);
  }
}

/**
 * blockingProcess(null, the latency handler, { workers, batchRecords }) on the consumer; the nap
 * pacer. The handler records into `shared` (bench/fixtures/pool-shared.mjs), published before the
 * pool starts.
 */
export function poolLatencyRun(spec: LatencySpec, shared: SharedViews, workers: number, batchRecords: number, napMs: number): Promise<LatencyRun> {
  const { ctrl } = shared;
  for (const k of [CTRL.COUNT, CTRL.WARM, CTRL.DROPPED]) Atomics.store(ctrl, k, 0);
  return latencyRun(spec, () => ({ kind: 'nap', ms: napMs }), (c, n, signal) => {
    if (n > shared.capacity) throw new Error(`latency: ${n} records exceed the shared block's ${shared.capacity} samples`);
    const run = c.blockingProcess(null, LATENCY_HANDLER, { workers, batchRecords, signal });
    run.catch(() => undefined); // the abort ends it: awaited as `end`
    const count = (): number => Math.min(Atomics.load(ctrl, CTRL.COUNT), shared.capacity);
    return {
      warm: () => Atomics.load(ctrl, CTRL.WARM) >= spec.warmRecords,
      all: () => until('the pool to see every paced record', () => Atomics.load(ctrl, CTRL.COUNT) >= n, 10_000),
      samples: () => ({ latUs: shared.latUs, intendedMs: shared.intendedMs, count: count() }),
      end: run,
    };
  });
}

/** A target on a row's median, given the median (table.ts target, or a target of its own). */
type Goal = (median: number) => Partial<Row>;

/**
 * The rows of `runs` (median over the runs of each run's percentile, min .. max): p50 (x raw: over
 * `refUs`), p99, p99.9 and max, each labelled `label` + the percentile; `costs` adds the producer's lag
 * p99 and the process CPU.
 */
export function latencyRows(label: string, level: string, runs: readonly LatencyRun[], refUs: number, goals: { p50?: Goal; p99?: Goal } = {}, costs = false): Row[] {
  const pick = (f: (r: LatencyRun) => number): Summary => summarize(runs.map(f));
  const p50 = pick((r) => r.latencyUs.p50);
  const p99 = pick((r) => r.latencyUs.p99);
  const rows = [
    row(`${label}p50`, level, p50, 'µs', { xRaw: p50.median / refUs, ...goals.p50?.(p50.median) }),
    row(`${label}p99`, level, p99, 'µs', goals.p99?.(p99.median) ?? {}),
    row(`${label}p99.9`, level, pick((r) => r.latencyUs.p999), 'µs'),
    row(`${label}max`, level, pick((r) => r.latencyUs.max), 'µs'),
  ];
  if (!costs) return rows;
  return [...rows, row(`${label}producer lag p99`, level, pick((r) => r.producerLagUs.p99), 'µs'), row(`${label}process CPU`, level, pick((r) => r.coresUsed), 'cores')];
}
