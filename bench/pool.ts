/**
 * Worker-pool benchmark: every figure beside its physical reference, measured in the same run.
 *
 *   node --import tsx bench/pool.ts [--quick] [--dir <base directory for the logs>] [--only scaling|latency]
 *
 * Workloads (100-byte records):
 * 1. Pool scaling: a CPU-bound handler module (bench/fixtures/pool-spin-handler.mjs: FNV-1a rounds over
 *    the record, calibrated at start-up to about 20 µs a record) run by nonblockingProcess with
 *    { workers: 1 } and { workers: 2 } over the same pre-filled log (a new nonTx consumer from the
 *    oldest record per run; a warm-up call starts the pool first). Reference: the same handler called
 *    inline on one thread, no log. Target: 2 workers >= 1.6x one worker.
 * 2. Producer to pool-worker latency under SyncPolicy.never(): the producer appends at a fixed offered
 *    rate (record i due at t0 + i * period, stamped with that intended time, appended as soon as it is
 *    due, late or not: no coordinated omission) while a nonTx consumer runs blockingProcess with a pool
 *    of 2 workers whose handler (bench/fixtures/pool-latency-handler.mjs) records now - intended time
 *    in a SharedArrayBuffer. References: the in-process for-await iterator at the same rate, a raw
 *    Atomics notify/waitAsync round trip between two threads, and an empty piscina task round trip.
 *    Targets: p50 < 100 µs, p99 < 1 ms.
 * Diagnostics beside them: the same scaling with batchRecords 4096 (per-range cost amortized), the CPU
 * each thread group used while pacing (Linux /proc/self/task), and the CPU other processes used during
 * each rep (Linux /proc/stat; this machine has 2 cores, so any other load shows in the figures).
 * `--only scaling|latency` runs one half. Prints a table; writes bench/results/pool.json.
 */
import { rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CTRL, RECORD_BYTES, nowMs, publishShared, spin } from './fixtures/pool-shared.mjs';
import { cleanupAll, tempRoot } from './lib/cleanup.js';
import {
  atomicsRoundTrip, cpuSnapshot, fillScalingLog, otherCores, inlineRate, iteratorLatencyRun, parallelProbe, piscinaRoundTrip, poolLatencyRun, scalingRun,
  type LatencyRun, type LatencySpec, type ParallelProbe, type Percentiles, type ScalingRun,
} from './lib/pool-workloads.js';
import { fmt, met, printTable, writeJson, type Row } from './lib/report.js';
import { summarize, type Summary } from './lib/stats.js';

const quick = process.argv.includes('--quick');
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg >= 0 ? process.argv[onlyArg + 1]! : null;
if (only !== null && only !== 'scaling' && only !== 'latency') throw new Error(`--only: expected scaling or latency, got ${only}`);
const dirArg = process.argv.indexOf('--dir');
const base = dirArg >= 0 ? process.argv[dirArg + 1]! : tmpdir();
const RESULTS = fileURLToPath(new URL('./results/pool.json', import.meta.url));

const cfg = quick
  ? { reps: 3, scalingN: 50_000, scalingWarmN: 6_000, inlineN: 50_000, probeMs: 500, latencyReps: 3, warmMs: 300, measureMs: 2_000, pings: 20_000, piscinaTasks: 5_000 }
  : { reps: 5, scalingN: 200_000, scalingWarmN: 10_000, inlineN: 150_000, probeMs: 1_000, latencyReps: 5, warmMs: 500, measureMs: 5_000, pings: 50_000, piscinaTasks: 20_000 };
const TARGET_SPIN_US = 20;
const RATE = 100_000;
const WORKERS = 2;
/**
 * The pool size of the latency target runs. On this 2-core machine the producer and the log writer
 * already hold a thread each; one worker keeps up with 100,000 rec/s of a handler that does nothing.
 * The 2-worker runs are shown beside it.
 */
const LATENCY_WORKERS = 1;
/** The pool's default dispatch size (PoolOptions.batchRecords). */
const BATCH_RECORDS = Number(process.env.POOL_BATCH_RECORDS ?? 256);
/** A larger dispatch size, run as a diagnostic: how much of the scaling loss is per-range cost. */
const BIG_BATCH_RECORDS = 4096;
const WARM_RECORDS = 2_000;

const log = (s: string): void => console.log(s);
const n = (x: number): string => x.toLocaleString('en-US');

/**
 * Rounds of spin() for about TARGET_SPIN_US a record on this thread: JIT warm-up, then a probe scaled
 * to the target. Returns the rounds and the µs a record then takes (median of 5).
 */
function calibrate(): { rounds: number; usPerRecord: Summary } {
  const data = Buffer.alloc(RECORD_BYTES, 0x63);
  const timeUs = (rounds: number, calls: number): number => {
    const t0 = nowMs();
    let h = 0;
    for (let i = 0; i < calls; i++) h ^= spin(data, rounds);
    if (h === 0x5eed) log('(sink)');
    return ((nowMs() - t0) * 1000) / calls;
  };
  timeUs(200, 5_000); // JIT warm-up
  const probe = 200;
  const perRound = summarize(Array.from({ length: 5 }, () => timeUs(probe, 2_000) / probe)).median;
  const rounds = Math.max(1, Math.round(TARGET_SPIN_US / perRound));
  return { rounds, usPerRecord: summarize(Array.from({ length: 5 }, () => timeUs(rounds, 5_000))) };
}

function latencyRows(label: string, runs: readonly LatencyRun[], targets: boolean, refP50: number | null): Row[] {
  const pick = (f: (p: Percentiles) => number): Summary => summarize(runs.map((r) => f(r.latencyUs)));
  const p50 = pick((p) => p.p50);
  return [
    { workload: `${label}: p50`, figure: p50, unit: 'µs', target: targets ? { op: '<', value: 100 } : null, ratio: refP50 === null ? null : p50.median / refP50, ratioOf: 'atomics 1-way p50' },
    { workload: `${label}: p99`, figure: pick((p) => p.p99), unit: 'µs', target: targets ? { op: '<', value: 1000 } : null, ratio: null },
    { workload: `${label}: p99.9`, figure: pick((p) => p.p999), unit: 'µs', target: null, ratio: null },
    { workload: `${label}: max`, figure: pick((p) => p.max), unit: 'µs', target: null, ratio: null },
    { workload: `${label}: producer lag p99`, figure: summarize(runs.map((r) => r.producerLagUs.p99)), unit: 'µs', target: null, ratio: null },
    { workload: `${label}: process CPU`, figure: summarize(runs.map((r) => r.coresUsed)), unit: 'cores', target: null, ratio: null },
    ...Object.keys(runs[0]?.threads ?? {}).map((k): Row => ({
      workload: `${label}: CPU, ${k === 'main' ? 'main thread (producer + consumer)' : k === 'writer' ? 'writer thread' : k === 'workers' ? 'pool workers' : 'other threads'}`,
      figure: summarize(runs.map((r) => r.threads?.[k] ?? NaN)), unit: 'cores', target: null, ratio: null,
    })),
  ];
}

function pctRows(label: string, reps: readonly Percentiles[]): Row[] {
  const row = (name: string, f: (p: Percentiles) => number): Row => ({ workload: `${label} ${name}`, figure: summarize(reps.map(f)), unit: 'µs', target: null, ratio: null });
  return [row('p50', (p) => p.p50), row('p99', (p) => p.p99), row('p99.9', (p) => p.p999), row('max', (p) => p.max)];
}

/** Cores used by other processes, per rep (null off Linux). */
const others: Record<string, Array<number | null>> = {};
const othersText = (o: number | null): string => (o === null ? '' : `; other processes ${o.toFixed(2)} cores${o > OTHERS_WARN ? ' (SHARED CPUs)' : ''}`);
/** Other processes using more than this many cores during a rep make its figures suspect. */
const OTHERS_WARN = 0.15;

/**
 * The pacer's sleep between bursts in the pool runs (ms; see pace() in lib/pool-workloads.ts). A
 * spinning pacer holds one of this machine's 2 cores, and a pool worker woken meanwhile then waits up
 * to a scheduler slice (about 3 ms here) for a CPU: that was the whole p99. The spinning runs stay as
 * a diagnostic.
 */
const NAP_MS = 0.001;

async function latencyReps(root: string, name: string, reps: number, run: (spec: LatencySpec) => Promise<LatencyRun>, napMs = 0): Promise<LatencyRun[]> {
  const out: LatencyRun[] = [];
  for (let r = 0; r < reps; r++) {
    const logDir = join(root, `${name}-${r}`);
    try {
      const snap = cpuSnapshot();
      const res = await run({ logDir, ratePerSec: RATE, warmMs: cfg.warmMs, measureMs: cfg.measureMs, warmRecords: WARM_RECORDS, napMs });
      const o = otherCores(snap);
      (others[name] ??= []).push(o);
      const l = res.latencyUs;
      log(`  rep ${r + 1}: p50 ${fmt(l.p50)}  p99 ${fmt(l.p99)}  p99.9 ${fmt(l.p999)}  max ${fmt(l.max)} µs over ${n(res.measured)} records`
        + `${res.missing > 0 ? `, ${n(res.missing)} MISSING` : ''}; producer lag p99 ${fmt(res.producerLagUs.p99)} µs; ${res.coresUsed.toFixed(2)} cores`
        + `${res.threads === null ? '' : ` (${Object.entries(res.threads).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')})`}${othersText(o)}`);
      out.push(res);
    } finally {
      rmSync(logDir, { recursive: true, force: true });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const root = tempRoot(base);
  const started = new Date().toISOString();
  const cores = availableParallelism();
  log(`reactive-log pool benchmark${quick ? ' (--quick)' : ''}: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), `
    + `available parallelism ${cores}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`);
  log(`logs in ${root}`);
  const loadStart = loadavg();
  log(`load average at start: ${loadStart.map((l) => l.toFixed(2)).join(' ')} (each rep below also reports the CPU other processes used during it)`);
  if (cores <= 2) {
    log(`note: this machine has ${cores} cores. The latency runs have 3 or 4 threads that want a CPU at times (main: producer`
      + ' + coordinator; the log writer; 1 or 2 pool workers). The pool runs pace the producer with short sleeps between bursts;'
      + ' the diagnostic runs marked "spinning pacer" spin the main thread instead.');
  }
  log('');

  // One shared block for every pool started from now on (environment data is copied at worker start).
  const capacity = Math.ceil((RATE * (cfg.warmMs + cfg.measureMs)) / 1000 * 1.05) + 1024;
  const shared = publishShared(capacity);
  const rows: Row[] = [];
  const notes: string[] = [];
  const json: Record<string, unknown> = {};

  if (only === null || only === 'scaling') {
    log(`calibrating the spin handler to ~${TARGET_SPIN_US} µs a record...`);
    const cal = calibrate();
    Atomics.store(shared.ctrl, CTRL.ROUNDS, cal.rounds);
    log(`  ${cal.rounds} rounds of FNV-1a over 100 bytes: ${cal.usPerRecord.median.toFixed(2)} µs a record (min ${cal.usPerRecord.min.toFixed(2)}, max ${cal.usPerRecord.max.toFixed(2)})`);
    const handler = (await import('./fixtures/pool-spin-handler.mjs')).default;

    const scalingDir = join(root, 'scaling');
    log(`scaling: fill ${n(cfg.scalingWarmN + cfg.scalingN)} records (not timed), then ${cfg.reps} x (1 worker, 2 workers, inline, bare threads) over ${n(cfg.scalingN)} records...`);
    await fillScalingLog(scalingDir, cfg.scalingWarmN + cfg.scalingN);
    inlineRate(handler, 5_000); // warm-up
    const one: ScalingRun[] = [];
    const two: ScalingRun[] = [];
    const inline: number[] = [];
    const bare: ParallelProbe[] = [];
    const oneBig: ScalingRun[] = [];
    const twoBig: ScalingRun[] = [];
    for (let r = 0; r < cfg.reps; r++) {
      const snap = cpuSnapshot();
      const a = await scalingRun(scalingDir, 1, cfg.scalingWarmN, cfg.scalingN, BATCH_RECORDS);
      const b = await scalingRun(scalingDir, 2, cfg.scalingWarmN, cfg.scalingN, BATCH_RECORDS);
      const c = inlineRate(handler, cfg.inlineN);
      const d = await parallelProbe(cal.rounds, cfg.probeMs);
      const a4 = await scalingRun(scalingDir, 1, cfg.scalingWarmN, cfg.scalingN, BIG_BATCH_RECORDS);
      const b4 = await scalingRun(scalingDir, 2, cfg.scalingWarmN, cfg.scalingN, BIG_BATCH_RECORDS);
      oneBig.push(a4);
      twoBig.push(b4);
      const o = otherCores(snap);
      (others.scaling ??= []).push(o);
      one.push(a);
      two.push(b);
      inline.push(c);
      bare.push(d);
      log(`  rep ${r + 1}: 1 worker ${n(Math.round(a.recPerSec))} rec/s (${a.coresUsed.toFixed(2)} cores), 2 workers ${n(Math.round(b.recPerSec))} rec/s`
        + ` (${b.coresUsed.toFixed(2)} cores), ratio ${(b.recPerSec / a.recPerSec).toFixed(2)}x; inline ${n(Math.round(c))} rec/s;`
        + ` bare threads 1: ${n(Math.round(d.oneThread))}, 2: ${n(Math.round(d.twoThreads))} rec/s (${d.speedup.toFixed(2)}x);`
        + ` batchRecords ${BIG_BATCH_RECORDS}: ${n(Math.round(a4.recPerSec))} / ${n(Math.round(b4.recPerSec))} rec/s (${(b4.recPerSec / a4.recPerSec).toFixed(2)}x)${othersText(o)}`);
    }
    rmSync(scalingDir, { recursive: true, force: true });
    const inlineRate_ = summarize(inline);
    const oneRate = summarize(one.map((x) => x.recPerSec));
    const twoRate = summarize(two.map((x) => x.recPerSec));
    const ratioPerRep = summarize(one.map((a, i) => two[i]!.recPerSec / a.recPerSec));
    const bareSpeedup = summarize(bare.map((d) => d.speedup));
    rows.push(
      { workload: 'spin handler, calibrated (inline)', figure: cal.usPerRecord, unit: 'µs/record', target: null, ratio: null },
      { workload: 'scaling: handler inline, 1 thread, no log', figure: inlineRate_, unit: 'rec/s', target: null, ratio: 1, ratioOf: 'inline' },
      { workload: 'scaling: pool, 1 worker', figure: oneRate, unit: 'rec/s', target: null, ratio: oneRate.median / inlineRate_.median, ratioOf: 'inline' },
      { workload: 'scaling: pool, 2 workers', figure: twoRate, unit: 'rec/s', target: null, ratio: twoRate.median / inlineRate_.median, ratioOf: 'inline' },
      { workload: 'scaling: 2 workers / 1 worker (per rep)', figure: ratioPerRep, unit: 'x', target: { op: '>=', value: 1.6 }, ratio: ratioPerRep.median / bareSpeedup.median, ratioOf: 'bare 2/1' },
      { workload: 'scaling: bare threads 2 / 1 (CPU ceiling)', figure: bareSpeedup, unit: 'x', target: null, ratio: 1, ratioOf: 'bare 2/1' },
      { workload: 'scaling: 2 workers, process CPU', figure: summarize(two.map((x) => x.coresUsed)), unit: 'cores', target: null, ratio: null },
      { workload: `scaling: pool, 1 worker, batchRecords ${BIG_BATCH_RECORDS}`, figure: summarize(oneBig.map((x) => x.recPerSec)), unit: 'rec/s', target: null, ratio: summarize(oneBig.map((x) => x.recPerSec)).median / inlineRate_.median, ratioOf: 'inline' },
      { workload: `scaling: pool, 2 workers, batchRecords ${BIG_BATCH_RECORDS}`, figure: summarize(twoBig.map((x) => x.recPerSec)), unit: 'rec/s', target: null, ratio: summarize(twoBig.map((x) => x.recPerSec)).median / inlineRate_.median, ratioOf: 'inline' },
      { workload: `scaling: 2 / 1 workers, batchRecords ${BIG_BATCH_RECORDS}`, figure: summarize(oneBig.map((a, i) => twoBig[i]!.recPerSec / a.recPerSec)), unit: 'x', target: null, ratio: null },
    );
    notes.push(`scaling: ${cal.rounds} spin rounds a record; records spun by the pools (approximate count): ${n(Atomics.load(shared.ctrl, CTRL.SPUN))}.`
      + ' "bare threads": the same work in one, then two, plain worker threads at once (no log, no pool): the CPU the machine gives now.');
    json.calibration = { targetUs: TARGET_SPIN_US, rounds: cal.rounds, usPerRecord: cal.usPerRecord };
    json.scaling = { oneWorker: one, twoWorkers: two, inlineRecPerSec: inline, bareThreads: bare, bigBatch: { batchRecords: BIG_BATCH_RECORDS, oneWorker: oneBig, twoWorkers: twoBig } };
  }

  if (only === null || only === 'latency') {
    log(`\nphysical reference: raw Atomics round trip between two threads (notify + waitAsync), ${n(cfg.pings)} pings...`);
    const atomicsBack = await atomicsRoundTrip(cfg.pings, 2_000, 0);
    const atomicsGap = await atomicsRoundTrip(Math.round(cfg.pings / 2), 1_000, 100);
    log(`  back to back: rtt p50 ${fmt(atomicsBack.rttUs.p50)} µs, one-way p50 ${fmt(atomicsBack.oneWayAbUs.p50)} / ${fmt(atomicsBack.oneWayBaUs.p50)} µs (A->B / B->A), clock skew estimate ${fmt(atomicsBack.clockSkewUs)} µs`);
    log(`  100 µs apart:  rtt p50 ${fmt(atomicsGap.rttUs.p50)} µs, one-way p50 ${fmt(atomicsGap.oneWayAbUs.p50)} / ${fmt(atomicsGap.oneWayBaUs.p50)} µs, p99 ${fmt(atomicsGap.oneWayAbUs.p99)} µs`);
    log(`reference: empty piscina task round trip, ${n(cfg.piscinaTasks)} tasks...`);
    const piscinaRtt = await piscinaRoundTrip(cfg.piscinaTasks, 1_000);
    log(`  p50 ${fmt(piscinaRtt.p50)} µs, p99 ${fmt(piscinaRtt.p99)} µs`);

    log(`\nlatency, pool of ${LATENCY_WORKERS} worker: ${cfg.latencyReps} x (${cfg.warmMs} ms warm-up + ${cfg.measureMs} ms measured) at ${n(RATE)} rec/s offered, SyncPolicy.never(), pacer napping ${NAP_MS} ms between bursts...`);
    const pool = await latencyReps(root, 'lat-pool', cfg.latencyReps, (spec) => poolLatencyRun(spec, shared, LATENCY_WORKERS, BATCH_RECORDS), NAP_MS);
    log(`latency, pool of ${WORKERS} workers, same pacer and rate: ${cfg.latencyReps} reps...`);
    const pool2 = await latencyReps(root, 'lat-pool2', cfg.latencyReps, (spec) => poolLatencyRun(spec, shared, WORKERS, BATCH_RECORDS), NAP_MS);
    log(`latency, pool of ${LATENCY_WORKERS} worker, spinning pacer (diagnostic), same rate: ${cfg.latencyReps} reps...`);
    const poolSpin = await latencyReps(root, 'lat-pool-spin', cfg.latencyReps, (spec) => poolLatencyRun(spec, shared, LATENCY_WORKERS, BATCH_RECORDS));
    log(`latency, in-process for-await iterator (reference; the suite's non-allocating yield pacer), same rate: ${cfg.latencyReps} reps...`);
    const iter = await latencyReps(root, 'lat-iter', cfg.latencyReps, (spec) => iteratorLatencyRun({ ...spec, pacer: 'yield' }));

    const oneWayRef = atomicsGap.oneWayAbUs.p50;
    rows.push(
      ...latencyRows(`latency: pool ${LATENCY_WORKERS} worker`, pool, true, oneWayRef),
      ...latencyRows(`latency: pool ${WORKERS} workers`, pool2, false, oneWayRef),
      ...latencyRows(`latency: pool ${LATENCY_WORKERS} worker, spinning pacer`, poolSpin, false, oneWayRef),
      ...latencyRows('latency: for-await iterator', iter, false, oneWayRef),
      ...pctRows('raw Atomics 1-way A->B, 100 µs apart:', [atomicsGap.oneWayAbUs]),
      ...pctRows('raw Atomics round trip, back to back:', [atomicsBack.rttUs]),
      ...pctRows('empty piscina task round trip:', [piscinaRtt]),
    );
    notes.push(`latency: µs from each record's intended send time (t0 + i x ${1000 / RATE * 1000} µs) to its handler's clock read, over the records`
      + `\n  of the measured window; per-rep percentiles, median (min .. max) over ${cfg.latencyReps} reps. "producer lag": how late the producer`
      + '\n  itself appended (part of the latency). "process CPU": CPU seconds of all threads per wall second while pacing.'
      + `\n  Pacer: the pool rows sleep ${NAP_MS} ms (plus the kernel's timer slack, about 50 µs) between bursts of the records due;`
      + '\n  the "spinning pacer" row spins the main thread between bursts (one core of 2 held by the pacer, and its clock reads'
      + '\n  allocate); the iterator row spins in place without allocating and yields when its consumer has records.'
      + '\n  Clocks: performance.timeOrigin + performance.now() on each thread; the'
      + `\n  Atomics ping-pong puts the offset between two threads' clocks at about ${fmt(atomicsBack.clockSkewUs)} µs.`);
    json.latency = { napMs: NAP_MS, workers: LATENCY_WORKERS, pool, poolTwoWorkers: pool2, poolSpinningPacer: poolSpin, iterator: iter };
    json.references = { atomicsBackToBack: atomicsBack, atomics100usApart: atomicsGap, piscinaEmptyTask: piscinaRtt };
  }

  const othersRows = Object.entries(others).filter(([, v]) => v.every((x) => x !== null));
  for (const [name, v] of othersRows) {
    rows.push({ workload: `other processes' CPU during ${name}`, figure: summarize(v as number[]), unit: 'cores', target: null, ratio: null });
  }
  log('');
  printTable(rows);
  log('');
  for (const note of notes) log(note);
  const shared_ = othersRows.filter(([, v]) => (v as number[]).some((x) => x > OTHERS_WARN)).map(([k]) => k);
  if (shared_.length > 0) {
    log(`WARNING: other processes used more than ${OTHERS_WARN} cores during some reps of ${shared_.join(', ')}: those figures`
      + ' understate this machine (it has only 2 cores); rerun on an idle machine.');
  }
  const loadEnd = loadavg();
  log(`load average at the end: ${loadEnd.map((l) => l.toFixed(2)).join(' ')}`);
  const targeted = rows.filter((r) => r.target !== null);
  const missed = targeted.filter((r) => met(r) === false);
  log(`${targeted.length - missed.length} of ${targeted.length} targets met${missed.length > 0 ? `; missed: ${missed.map((r) => `${r.workload} (${fmt(r.figure.median)} ${r.unit})`).join('; ')}` : ''}`);

  writeJson(RESULTS, {
    started, finished: new Date().toISOString(), quick, only, node: process.version, cpus: cpus().length, availableParallelism: cores,
    cpuModel: cpus()[0]?.model, memoryBytes: totalmem(), config: { ...cfg, rate: RATE, workers: WORKERS, latencyWorkers: LATENCY_WORKERS, batchRecords: BATCH_RECORDS, warmRecords: WARM_RECORDS, recordBytes: RECORD_BYTES },
    loadAverage: { start: loadStart, end: loadEnd }, otherProcessesCores: others,
    rows: rows.map((r) => ({ ...r, met: met(r) })),
    ...json,
  });
  log(`\nresults: ${RESULTS}`);
}

try {
  await main();
} finally {
  cleanupAll();
}
