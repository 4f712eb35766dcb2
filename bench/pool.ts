/**
 * One question: what a worker pool gives (scaling of a CPU-bound handler) and what it costs (latency
 * from the producer to a pool worker), beside the physical references of the same run.
 *
 *   node --import tsx bench/pool.ts [--quick] [--dir <base>] [--only scaling,latency]
 *
 * 1. Scaling: bench/fixtures/pool-spin-handler.mjs (about 20 µs a record) run by nonblockingProcess
 *    with 1 and 2 workers over a pre-filled log; references: the handler inline on one thread (no log)
 *    and the same work in one and two bare threads (the parallel CPU the machine gives now).
 *    Target: 2 workers >= 1.6x one worker.
 * 2. Latency at 100,000 rec/s offered, `never`: blockingProcess with a pool of 1 (targets: p50 < 100 µs,
 *    p99 < 1 ms) and 2 workers whose handler (bench/fixtures/pool-latency-handler.mjs) records now -
 *    intended send time in shared memory; references: the in-process for-await iterator at the same
 *    rate, a raw Atomics notify/waitAsync between two threads, an empty piscina task round trip.
 * Every rep reports the CPU other processes used meanwhile (2 cores: any other load shows).
 * A full run writes bench/results/pool.json.
 */
import { CTRL, publishShared } from './fixtures/pool-shared.mjs';
import { iteratorLatencyRun, latencyRows, poolLatencyRun, type LatencyRun, type LatencySpec } from './lib/latency.js';
import { atomicsRoundTrip, parallelSpeedup, piscinaRoundTrip } from './lib/limits.js';
import { OTHERS_WARN, inDir, log, n, one, runBench, summarize, watchOthers, type Percentiles } from './lib/run.js';
import { calibrate, inlineRate, scalingRun, type ScalingRun } from './lib/scaling.js';
import { finish, fmt, row, target, type Row, type Table } from './lib/table.js';
import { fillLog } from './lib/workloads.js';

const TARGET_SPIN_US = 20;
const RATE = 100_000;
const WARM_RECORDS = 2_000;
/** The pool's default dispatch size (PoolOptions.batchRecords). */
const BATCH_RECORDS = 256;
/**
 * The pacer of the pool runs sleeps this long (ms, plus the kernel's timer slack) between bursts: a
 * pacer spinning on one of 2 cores leaves a woken worker waiting a scheduler slice for a CPU
 * (docs/performance.md, "Consumer pools").
 */
const NAP_MS = 0.001;

await runBench('pool', 'reactive-log pool benchmark', async (b) => {
  const cfg = b.pick(
    { reps: 5, scalingN: 200_000, scalingWarmN: 10_000, inlineN: 150_000, probeMs: 1_000, latencyReps: 5, warmMs: 500, measureMs: 5_000, pings: 50_000, piscinaTasks: 20_000 },
    { reps: 3, scalingN: 50_000, scalingWarmN: 6_000, inlineN: 50_000, probeMs: 500, latencyReps: 3, warmMs: 300, measureMs: 2_000, pings: 20_000, piscinaTasks: 5_000 },
  );
  const only = b.only(['scaling', 'latency']);
  // One shared block for every pool started from now on (environment data is copied at worker start).
  const shared = publishShared(Math.ceil((RATE * (cfg.warmMs + cfg.measureMs)) / 1000 * 1.05) + 1024);
  const others: Record<string, number[]> = {};
  /** Runs `fn`, noting the cores other processes used meanwhile under `name`. */
  const watched = async <T>(name: string, fn: () => Promise<T>): Promise<[T, string]> => {
    const stop = watchOthers();
    const v = await fn();
    const o = stop();
    if (o !== null) (others[name] ??= []).push(o);
    return [v, o === null ? '' : `; other processes ${o.toFixed(2)} cores${o > OTHERS_WARN ? ' (SHARED CPUs)' : ''}`];
  };
  const tables: Table[] = [];
  const json: Record<string, unknown> = {};

  if (only.has('scaling')) {
    log(`calibrating the spin handler to ~${TARGET_SPIN_US} µs a record...`);
    const cal = calibrate(TARGET_SPIN_US);
    Atomics.store(shared.ctrl, CTRL.ROUNDS, cal.rounds);
    log(`  ${cal.rounds} rounds: ${cal.usPerRecord.median.toFixed(2)} µs a record; fill ${n(cfg.scalingWarmN + cfg.scalingN)} records, then ${cfg.reps} x (1 worker, 2 workers, inline, bare threads)...`);
    await inDir(b.root, 'scaling', async (dir) => {
      await fillLog(dir, cfg.scalingWarmN + cfg.scalingN);
      await inlineRate(5_000); // warm-up
      const runs: Array<{ one: ScalingRun; two: ScalingRun; inline: number; bare: number }> = [];
      for (let r = 0; r < cfg.reps; r++) {
        const [x, o] = await watched('scaling', async () => ({
          one: await scalingRun(dir, 1, cfg.scalingWarmN, cfg.scalingN),
          two: await scalingRun(dir, 2, cfg.scalingWarmN, cfg.scalingN),
          inline: await inlineRate(cfg.inlineN),
          bare: await parallelSpeedup(cal.rounds, cfg.probeMs),
        }));
        log(`  rep ${r + 1}: 1 worker ${n(Math.round(x.one.recPerSec))} rec/s, 2 workers ${n(Math.round(x.two.recPerSec))} rec/s (${(x.two.recPerSec / x.one.recPerSec).toFixed(2)}x);`
          + ` inline ${n(Math.round(x.inline))} rec/s; bare threads 2/1 ${x.bare.toFixed(2)}x${o}`);
        runs.push(x);
      }
      const inline = summarize(runs.map((x) => x.inline));
      const oneW = summarize(runs.map((x) => x.one.recPerSec));
      const twoW = summarize(runs.map((x) => x.two.recPerSec));
      const ratio = summarize(runs.map((x) => x.two.recPerSec / x.one.recPerSec));
      const bare = summarize(runs.map((x) => x.bare));
      tables.push({
        title: `Scaling: a CPU-bound handler (${cal.usPerRecord.median.toFixed(1)} µs a record), ${n(cfg.scalingN)} records`,
        rows: [
          row('handler inline, 1 thread, no log', '-', inline, 'rec/s', { xPeer: 1 }),
          row('pool, 1 worker', '-', oneW, 'rec/s', { xPeer: oneW.median / inline.median }),
          row('pool, 2 workers', '-', twoW, 'rec/s', { xPeer: twoW.median / inline.median }),
          row('pool, 2 workers, process CPU', '-', summarize(runs.map((x) => x.two.coresUsed)), 'cores'),
          row('bare threads 2 / 1 (CPU ceiling)', '-', bare, 'x', { xRaw: 1 }),
          row('2 workers / 1 worker (per rep)', '-', ratio, 'x', { xRaw: ratio.median / bare.median, ...target('>=', 1.6, ratio.median) }),
        ],
        peer: 'x inline',
        notes: ['x raw: over the bare-thread speedup of the same reps (the same work in one, then two, plain worker threads: no log, no pool).'],
      });
      json.scaling = { calibration: cal, runs };
    });
  }

  if (only.has('latency')) {
    log(`physical references: raw Atomics round trips (${n(cfg.pings)} pings), empty piscina tasks (${n(cfg.piscinaTasks)})...`);
    const atomicsBack = await atomicsRoundTrip(cfg.pings, 2_000, 0);
    const atomicsGap = await atomicsRoundTrip(Math.round(cfg.pings / 2), 1_000, 100);
    const piscina = await piscinaRoundTrip(cfg.piscinaTasks, 1_000);
    const ref = atomicsGap.oneWayAbUs.p50;
    const latency = async (name: string, run: (spec: LatencySpec) => Promise<LatencyRun>): Promise<LatencyRun[]> => {
      log(`latency, ${name}: ${cfg.latencyReps} x (${cfg.warmMs} ms warm-up + ${cfg.measureMs} ms) at ${n(RATE)} rec/s offered...`);
      const out: LatencyRun[] = [];
      for (let r = 0; r < cfg.latencyReps; r++) {
        const [res, o] = await watched(name, () => inDir(b.root, `lat-${r}`, (logDir) => run({ logDir, ratePerSec: RATE, warmMs: cfg.warmMs, measureMs: cfg.measureMs, warmRecords: WARM_RECORDS, durable: false })));
        const l = res.latencyUs;
        log(`  rep ${r + 1}: p50 ${fmt(l.p50)}  p99 ${fmt(l.p99)}  p99.9 ${fmt(l.p999)}  max ${fmt(l.max)} µs over ${n(res.measured)} records${res.missing > 0 ? `, ${n(res.missing)} MISSING` : ''}; `
          + `producer lag p99 ${fmt(res.producerLagUs.p99)} µs; ${res.coresUsed.toFixed(2)} cores${o}`);
        out.push(res);
      }
      return out;
    };
    const pool1 = await latency('pool of 1 worker', (spec) => poolLatencyRun(spec, shared, 1, BATCH_RECORDS, NAP_MS));
    const pool2 = await latency('pool of 2 workers', (spec) => poolLatencyRun(spec, shared, 2, BATCH_RECORDS, NAP_MS));
    const iter = await latency('for-await iterator (reference)', iteratorLatencyRun);
    const pct = (label: string, p: Percentiles): Row[] => [row(`${label}: p50`, '-', one(p.p50), 'µs'), row(`${label}: p99.9`, '-', one(p.p999), 'µs')];
    tables.push({
      title: `Latency, producer to consumer (100 B, ${n(RATE)} rec/s offered, never, written-visible), from each record's intended send time`,
      rows: [
        ...latencyRows('pool 1 worker: ', 'never', pool1, ref, { p50: (m) => target('<', 100, m), p99: (m) => target('<', 1000, m) }, true),
        ...latencyRows('pool 2 workers: ', 'never', pool2, ref, {}, true),
        ...latencyRows('for-await iterator: ', 'never', iter, ref, {}, true),
        row('raw Atomics one-way A->B, 100 µs apart: p50', '-', one(ref), 'µs', { xRaw: 1 }),
        ...pct('raw Atomics round trip, back to back', atomicsBack.rttUs),
        ...pct('empty piscina task round trip', piscina),
      ],
      notes: [
        `x raw: p50 over the raw Atomics one-way p50. Per-rep percentiles, median (min .. max) over ${cfg.latencyReps} reps; producer lag: how late the producer itself appended.`,
        `Pacer: the pool rows sleep ${NAP_MS} ms (plus the kernel's timer slack) between bursts of the records due; the iterator row spins in place without allocating`,
        `and yields when its consumer has records. Clocks: timeOrigin + now() on each thread; their offset is about ${fmt(atomicsBack.clockSkewUs)} µs (the Atomics ping-pong).`,
      ],
    });
    json.latency = { napMs: NAP_MS, pool1, pool2, iterator: iter, references: { atomicsBack, atomicsGap, piscina } };
  }

  const othersRows = Object.entries(others).map(([name, v]) => row(`other processes' CPU during ${name}`, '-', summarize(v), 'cores'));
  if (othersRows.length > 0) tables.push({ title: 'Other load on the machine during the reps', rows: othersRows });
  const busy = Object.entries(others).filter(([, v]) => v.some((x) => x > OTHERS_WARN)).map(([k]) => k);
  finish(b, tables, { config: { ...cfg, rate: RATE, batchRecords: BATCH_RECORDS, warmRecords: WARM_RECORDS }, only: [...only], otherProcessesCores: others, ...json },
    busy.length > 0 ? [`WARNING: other processes used more than ${OTHERS_WARN} cores during some reps of ${busy.join(', ')}: those figures understate this machine; rerun on an idle machine.`] : []);
});
