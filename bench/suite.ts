/**
 * The benchmark suite (npm run bench): reactive-log beside the physical limit and the stores Node users
 * pick today, measured on the same machine in the same run.
 *
 *   node --import tsx bench/suite.ts [--quick] [--dir <base directory>]
 *
 * 1. Physical limits (start and end of the run): 1 MiB / 16 MiB write+fdatasync, 1 MiB page-cache
 *    writes, 100 B write+fdatasync, an Atomics round trip between two threads, raw reads and a raw
 *    read-and-parse of the same segment files.
 * 2. Append throughput: reactive-log, lmdb, better-sqlite3, Redis streams, NATS JetStream, each in its
 *    own child process (bench/peers/runners), 16 B / 100 B / 1 KiB / 64 KiB, never / periodic / always.
 * 3. reactive-log alone against the limits: one reader from the oldest record, producer-to-consumer
 *    latency at fixed offered rates, fan-out, a slow consumer under blockingMinimumRetention, seeks,
 *    transactional commits, and reopening after kill -9.
 * Prints one table per workload; writes bench/results/suite.json, suite.md (the tables) and suite.svg.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupAll, tempRoot } from './lib/cleanup.js';
import { consumeOnce, fillLog, segmentFiles } from './lib/consume-workloads.js';
import { MiB, pageCacheReadOnce, probeRawLimit } from './lib/limits.js';
import { INFO, SYSTEMS } from './lib/peers.js';
import { atomicsRoundTrip, type LatencyRun } from './lib/pool-workloads.js';
import { reopenAfterKill } from './lib/reopen.js';
import { writeJson } from './lib/report.js';
import { startNats, startRedis, type Server } from './lib/servers.js';
import { summarize, type Summary } from './lib/stats.js';
import { coldSeek, fanOut, rawReadParse, slowConsumer, warmSeeks, type FanOutRun } from './lib/suite-extra.js';
import { markdownTables, printSuiteTable, writeChart, type SuiteRow, type SuiteTable } from './lib/suite-report.js';
import { matrixChart, matrixTables, runMatrix } from './lib/suite-throughput.js';
import { ON_DISK_RECORD_BYTES, readBoth } from './lib/workloads.js';

const quick = process.argv.includes('--quick');
const dirArg = process.argv.indexOf('--dir');
const base = dirArg >= 0 ? process.argv[dirArg + 1]! : tmpdir();
const out = (name: string): string => fileURLToPath(new URL(`./results/${name}`, import.meta.url));

const cfg = quick
  ? { probeReps: 2, probeMs: 300, pings: 5_000, tp: { reps: 2, warmMs: 100, measureMs: 200 }, readN: 1_000_000, readReps: 3, seeks: 200, coldSeeks: 3,
    latWarmMs: 200, latMs: 800, latReps: 1, fanN: 300_000, slowN: 60_000, txPerRecordN: 2_000, txGroupN: 500_000, txReps: 2, fill: 128 * MiB, more: 16 * MiB, kills: 3, cleanOpens: 3 }
  : { probeReps: 5, probeMs: 1000, pings: 20_000, tp: { reps: 5, warmMs: 300, measureMs: 1000 }, readN: 5_000_000, readReps: 5, seeks: 1000, coldSeeks: 7,
    latWarmMs: 500, latMs: 3000, latReps: 3, fanN: 1_000_000, slowN: 200_000, txPerRecordN: 5_000, txGroupN: 2_000_000, txReps: 5, fill: 1024 * MiB, more: 64 * MiB, kills: 5, cleanOpens: 5 };
const RATES = [1_000, 10_000, 100_000] as const;
const DRIFT_WARN = 0.3;

const log = (s: string): void => console.log(s);
const n = (x: number): string => x.toLocaleString('en-US');
const one = (x: number): Summary => summarize([x]);
const row = (system: string, level: string, figure: Summary, unit: string, extra: Partial<SuiteRow> = {}): SuiteRow =>
  ({ system, level, figure, unit, xRaw: null, xRlog: null, target: null, met: null, ...extra });

/** One latency run in a fresh process (bench/latency-run.ts). */
function latencyInChild(spec: { logDir: string; ratePerSec: number; warmMs: number; measureMs: number; durable: boolean; pacer: 'spin' | 'yield' }): LatencyRun {
  const script = fileURLToPath(new URL('./latency-run.ts', import.meta.url));
  const outText = execFileSync(process.execPath, ['--import', 'tsx', script, JSON.stringify(spec)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(outText.trim().split('\n').pop()!) as LatencyRun;
}

async function main(): Promise<void> {
  const t00 = Date.now();
  const root = tempRoot(base);
  const started = new Date().toISOString();
  const machine = `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`;
  const df = execFileSync('df', ['-T', root], { encoding: 'utf8' }).trim().split('\n').pop() ?? '';
  log(`reactive-log benchmark suite${quick ? ' (--quick)' : ''}: ${machine}\n  files in ${root}: ${df}\n  load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const tables: SuiteTable[] = [];
  const warnings: string[] = [];

  log('\nphysical limits (start)...');
  const rawStart = probeRawLimit(root, cfg.probeReps, cfg.probeMs);
  const fsyncMs = 1000 / rawStart.tinyFsyncs.median;
  const atomics = await atomicsRoundTrip(cfg.pings, 1_000, 100);

  log('servers...');
  const servers: Server[] = [];
  const serverSkips: Record<string, string> = {};
  const ports: { redisPort?: number; natsPort?: number } = {};
  for (const [name, start] of [['redis', startRedis], ['nats', startNats]] as const) {
    const s = await start(root);
    if (s.ok) {
      servers.push(s.server);
      if (name === 'redis') ports.redisPort = s.server.port;
      else ports.natsPort = s.server.port;
      log(`  ${name}: ${s.server.version} on 127.0.0.1:${s.server.port}`);
    } else {
      serverSkips[name] = s.reason;
      log(`  ${name}: skipped: ${s.reason}`);
    }
  }
  log(`append throughput: ${cfg.tp.reps} reps (alternating order) x ${SYSTEMS.length} systems, ${cfg.tp.warmMs} ms warm-up + ${cfg.tp.measureMs} ms per cell...`);
  let matrix;
  try {
    matrix = await runMatrix(root, cfg.tp, ports, serverSkips, log);
  } finally {
    for (const s of servers) await s.stop();
  }
  tables.push(...matrixTables(matrix, rawStart));

  log(`read: ${n(cfg.readN)} records of 100 B, ${cfg.readReps} reads, raw read and read-and-parse of the same files...`);
  const readDir = join(root, 'read');
  const reads = await readBoth(readDir, cfg.readN, cfg.readReps);
  const files = segmentFiles(readDir);
  pageCacheReadOnce(files);
  rawReadParse(readDir, false);
  const rawRead = summarize(Array.from({ length: cfg.readReps }, () => pageCacheReadOnce(files) / ON_DISK_RECORD_BYTES));
  const rawParse = summarize(Array.from({ length: cfg.readReps }, () => rawReadParse(readDir, false).recPerSec));
  const rawParseCrc = summarize(Array.from({ length: cfg.readReps }, () => rawReadParse(readDir, true).recPerSec));
  const readFile = summarize(reads.fileModeSec.map((s) => cfg.readN / s));
  const readIn = summarize(reads.inProcessSec.map((s) => cfg.readN / s));
  const readTail = summarize(reads.tailFileModeSec.map((s) => cfg.readN / s));
  const readMet = (f: Summary): boolean => f.median >= 3_000_000 && f.median / rawParse.median >= 0.8;
  tables.push({
    title: 'One reader from the oldest record (100 B records, page cache)',
    rows: [
      row('raw 1 MiB preads', '-', rawRead, 'rec/s eq (B/s / 104)', { xRaw: rawRead.median / rawParse.median }),
      row('raw read-and-parse (whole files, frames, records)', '-', rawParse, 'rec/s', { xRaw: 1 }),
      row('raw read-and-parse + CRC-32 per frame', '-', rawParseCrc, 'rec/s', { xRaw: rawParseCrc.median / rawParse.median }),
      row('reactive-log iter(), file mode', '-', readFile, 'rec/s', { xRaw: readFile.median / rawParse.median, target: '>= 3,000,000 and >= 0.8x raw parse', met: readMet(readFile) }),
      row('reactive-log iter(), producer open', '-', readIn, 'rec/s', { xRaw: readIn.median / rawParse.median, target: '>= 3,000,000 and >= 0.8x raw parse', met: readMet(readIn) }),
      row('reactive-log for await of tail(), file mode', '-', readTail, 'rec/s', { xRaw: readTail.median / rawParse.median }),
    ],
    notes: ['x raw: over the raw read-and-parse of the same segment files, without CRC checks. The reader checks each frame\'s CRC the first time it reads it; the measured passes come after a warm-up pass and trust those frames while the files keep their stamps (docs/architecture.md, "Reader caches").'],
  });

  log(`seek: ${n(cfg.seeks)} warm seeks, ${cfg.coldSeeks} cold...`);
  const warm = await warmSeeks(readDir, cfg.readN, cfg.seeks);
  const colds = [];
  for (let i = 0; i < cfg.coldSeeks; i++) colds.push(await coldSeek(readDir, Math.floor(Math.random() * cfg.readN)));
  rmSync(readDir, { recursive: true, force: true });
  tables.push({
    title: `Seek: Consumer.open at Whence.position(n) + reading record n (${n(cfg.readN)}-record log)`,
    rows: [
      row('raw fdatasync (100 B append), for scale', '-', one(fsyncMs * 1000), 'µs'),
      row('reactive-log, warm (same process), p50', '-', one(warm.p50), 'µs', { target: '< 20 µs', met: warm.p50 < 20 }),
      row('reactive-log, warm, p99', '-', one(warm.p99), 'µs'),
      row(`reactive-log, cold (fresh process${colds.every((c) => c.evicted) ? ', files evicted from the page cache' : ''})`, '-', summarize(colds.map((c) => c.ms * 1000)), 'µs'),
    ],
  });

  log(`latency: ${RATES.map(n).join(', ')} rec/s offered, never/written and always/durable, ${cfg.latReps} x ${cfg.latMs} ms...`);
  const latRows: SuiteRow[] = [row('raw Atomics one-way between threads, p50', '-', one(atomics.oneWayAbUs.p50), 'µs'), row('raw fdatasync, 100 B append', '-', one(fsyncMs * 1000), 'µs')];
  const latJson: Record<string, LatencyRun[]> = {};
  for (const durable of [false, true]) {
    for (const rate of RATES) {
      const runs: LatencyRun[] = [];
      for (let r = 0; r < cfg.latReps; r++) {
        const logDir = join(root, `lat-${durable}-${rate}-${r}`);
        runs.push(latencyInChild({ logDir, ratePerSec: rate, warmMs: cfg.latWarmMs, measureMs: cfg.latMs, durable, pacer: 'yield' }));
        rmSync(logDir, { recursive: true, force: true });
      }
      latJson[`${durable ? 'durable' : 'written'}-${rate}`] = runs;
      const level = durable ? 'always, durable point' : 'never, written-visible';
      const pick = (f: (r: LatencyRun) => number): Summary => summarize(runs.map(f));
      const p50 = pick((r) => r.latencyUs.p50);
      const p99 = pick((r) => r.latencyUs.p99);
      const at100k = rate === 100_000;
      const t50 = durable ? (at100k ? { target: `< 2x fdatasync (${(2 * fsyncMs * 1000).toFixed(0)} µs)`, met: p50.median < 2 * fsyncMs * 1000 } : {}) : at100k ? { target: '< 50 µs', met: p50.median < 50 } : {};
      latRows.push(
        row(`reactive-log ${n(rate)}/s p50`, level, p50, 'µs', { xRaw: durable ? p50.median / (fsyncMs * 1000) : p50.median / atomics.oneWayAbUs.p50, ...t50 }),
        row(`reactive-log ${n(rate)}/s p99`, level, p99, 'µs', !durable && at100k ? { target: '< 500 µs', met: p99.median < 500 } : {}),
        row(`reactive-log ${n(rate)}/s p99.9`, level, pick((r) => r.latencyUs.p999), 'µs'),
        row(`reactive-log ${n(rate)}/s max`, level, pick((r) => r.latencyUs.max), 'µs'),
      );
      if (!durable && at100k) {
        // A pacer that spins reading the clock, which allocates a heap number per read in Node 20
        // (docs/performance.md): a diagnostic, not a target.
        const spin: LatencyRun[] = [];
        for (let r = 0; r < cfg.latReps; r++) {
          const logDir = join(root, `lat-spin-${r}`);
          spin.push(latencyInChild({ logDir, ratePerSec: rate, warmMs: cfg.latWarmMs, measureMs: cfg.latMs, durable, pacer: 'spin' }));
          rmSync(logDir, { recursive: true, force: true });
        }
        latJson[`written-${rate}-spin-pacer`] = spin;
        latRows.push(
          row(`(diagnostic) ${n(rate)}/s p50, allocating spin pacer`, level, summarize(spin.map((r) => r.latencyUs.p50)), 'µs'),
          row(`(diagnostic) ${n(rate)}/s p99, allocating spin pacer`, level, summarize(spin.map((r) => r.latencyUs.p99)), 'µs'),
        );
        const lost = spin.reduce((a, r) => a + r.missing, 0);
        if (lost > 0) warnings.push(`latency (spin pacer) ${rate}/s: ${lost} records never reached the consumer before the deadline`);
      }
      const missing = runs.reduce((a, r) => a + r.missing, 0);
      if (missing > 0) warnings.push(`latency ${level} ${rate}/s: ${missing} records never reached the consumer before the deadline`);
    }
  }
  tables.push({ title: 'Latency, producer to consumer (100 B, for-await iterator in the producer\'s process), from each record\'s intended send time', rows: latRows,
    notes: [
      'x raw: p50 over the raw Atomics one-way p50 (written-visible) or over one raw 100 B write+fdatasync (durable point).',
      'Each run in a fresh process (bench/latency-run.ts). The pacer spins in place without allocating and returns to the event loop when the consumer has records or 1 ms passed.',
    ] });

  log(`fan-out: ${n(cfg.fanN)} records, 0/1/2/4 consumers in threads and as a pool...`);
  const fan: FanOutRun[] = [];
  for (const mode of ['threads', 'pool'] as const) {
    for (const k of mode === 'threads' ? [0, 1, 2, 4] : [1, 2, 4]) {
      const logDir = join(root, `fan-${mode}-${k}`);
      fan.push(await fanOut(logDir, mode, k, cfg.fanN));
      rmSync(logDir, { recursive: true, force: true });
    }
  }
  const alone = fan[0]!.producerRecPerSec;
  tables.push({
    title: 'Fan-out: producer (never) with N consumers from the oldest record (100 B)',
    rows: fan.map((f) => row(f.consumers === 0 ? 'producer alone' : `${f.consumers} consumer${f.consumers > 1 ? 's' : ''} (${f.mode === 'threads' ? 'worker threads' : `pool of ${f.consumers}`})`, 'never',
      one(f.consumers === 0 ? f.producerRecPerSec : f.slowestConsumerRecPerSec), f.consumers === 0 ? 'rec/s producer' : 'rec/s slowest consumer',
      { xRlog: f.producerRecPerSec / alone })),
    notes: ['x reactive-log: the producer\'s rate in that run over the producer alone (its slowdown). One run each. Thread consumers tail the files (another isolate: file mode, 1 ms poll).'],
  });

  log(`slow consumer: ${n(cfg.slowN)} records into a 4 MiB log with blockingMinimumRetention...`);
  const slow = await slowConsumer(join(root, 'slow'), cfg.slowN, 20, 4 * MiB);
  rmSync(join(root, 'slow'), { recursive: true, force: true });
  tables.push({
    title: 'Slow transactional consumer (20 µs a record) against maxTotalBytes 4 MiB + blockingMinimumRetention',
    rows: [
      row('producer rate (held back)', 'never', one(slow.producerRecPerSec), 'rec/s'),
      row('consumer rate', 'clientTx, group 1000', one(slow.consumerRecPerSec), 'rec/s'),
      row('longest append() wait', '-', one(slow.longestAppendMs), 'ms'),
      row('records lost or out of order', '-', one(slow.records - slow.consumed + slow.gaps), 'records', { target: '0', met: slow.consumed === slow.records && slow.gaps === 0 }),
    ],
  });

  log('transactional commits...');
  const txSmall = join(root, 'tx-small');
  const txLarge = join(root, 'tx-large');
  await fillLog(txSmall, cfg.txPerRecordN);
  await fillLog(txLarge, cfg.txGroupN);
  const per: number[] = [];
  const grp: number[] = [];
  for (let r = 0; r < cfg.txReps; r++) {
    const a = await consumeOnce({ logDir: txSmall, consumerId: `per-${r}`, form: 'process', everyRecords: 1, max: null });
    per.push(a.records / a.seconds);
    const b = await consumeOnce({ logDir: txLarge, consumerId: `grp-${r}`, form: 'process', everyRecords: 1000, max: null });
    grp.push(b.records / b.seconds);
  }
  rmSync(txSmall, { recursive: true, force: true });
  rmSync(txLarge, { recursive: true, force: true });
  const perRec = summarize(per);
  tables.push({
    title: 'Transactional commit rate (clientTx, nonblockingProcess, 100 B)',
    rows: [
      row('raw 100 B write+fdatasync', '-', rawStart.tinyFsyncs, 'fsyncs/s', { xRaw: 1 }),
      row('reactive-log, durable commit per record', 'fsynced', perRec, 'rec/s', { xRaw: perRec.median / rawStart.tinyFsyncs.median }),
      row('reactive-log, group commit every 1,000', 'fsynced per group', summarize(grp), 'rec/s'),
    ],
  });

  log(`recovery: fill ${cfg.fill / MiB} MiB${quick ? ' (--quick: not 1 GiB)' : ''}, ${cfg.kills} x kill -9 + open, ${cfg.cleanOpens} x clean open...`);
  const reopen = await reopenAfterKill(join(root, 'reopen'), join(root, 'reopen-warm'), cfg.fill, cfg.more, cfg.kills, cfg.cleanOpens);
  rmSync(join(root, 'reopen'), { recursive: true, force: true });
  const killOpen = summarize(reopen.afterKill.map((k) => k.openMs));
  tables.push({
    title: `Recovery: Producer.open of a ${cfg.fill / MiB} MiB log in a fresh process${quick ? ' (--quick: the target is for 1 GiB)' : ''}`,
    rows: [
      row('raw fdatasync, 100 B append', '-', one(fsyncMs), 'ms'),
      row('reactive-log after kill -9', '-', killOpen, 'ms', { xRaw: killOpen.median / fsyncMs, target: '< 150 ms', met: killOpen.median < 150 }),
      row('reactive-log after a clean close', '-', summarize(reopen.afterCleanCloseMs), 'ms', { xRaw: summarize(reopen.afterCleanCloseMs).median / fsyncMs }),
    ],
  });

  log('physical limits (end)...');
  execFileSync('sync'); // the end probe should meet the disk, not the writeback the workloads left behind
  const rawEnd = probeRawLimit(root, cfg.probeReps, cfg.probeMs);
  const drift = (a: Summary, b: Summary): number => b.median / a.median - 1;
  const drifts = { seq1MiB: drift(rawStart.seq1MiB, rawEnd.seq1MiB), buffered1MiB: drift(rawStart.buffered1MiB, rawEnd.buffered1MiB), tinyFsyncs: drift(rawStart.tinyFsyncs, rawEnd.tinyFsyncs) };
  for (const [k, d] of Object.entries(drifts)) {
    if (Math.abs(d) > DRIFT_WARN) warnings.push(`WARNING: the raw probe ${k} moved ${(d * 100).toFixed(0)}% between the start and the end of the run: ratios to raw are unreliable`);
  }
  tables.unshift({
    title: 'Physical limits (start -> end of the run)',
    rows: [
      row('1 MiB write+fdatasync', 'start', summarize(rawStart.seq1MiB.samples.map((b) => b / 1e6)), 'MB/s'),
      row('1 MiB write+fdatasync', 'end', summarize(rawEnd.seq1MiB.samples.map((b) => b / 1e6)), 'MB/s'),
      row('16 MiB write+fdatasync', 'start', summarize(rawStart.seq16MiB.samples.map((b) => b / 1e6)), 'MB/s'),
      row('1 MiB write, page cache', 'start', summarize(rawStart.buffered1MiB.samples.map((b) => b / 1e6)), 'MB/s'),
      row('1 MiB write, page cache', 'end', summarize(rawEnd.buffered1MiB.samples.map((b) => b / 1e6)), 'MB/s'),
      row('100 B write+fdatasync', 'start', rawStart.tinyFsyncs, 'fsyncs/s'),
      row('100 B write+fdatasync', 'end', rawEnd.tinyFsyncs, 'fsyncs/s'),
      row('Atomics notify/waitAsync one-way, 100 µs apart, p50', '-', one(atomics.oneWayAbUs.p50), 'µs'),
      row('Atomics round trip, p50', '-', one(atomics.rttUs.p50), 'µs'),
    ],
  });

  for (const t of tables) printSuiteTable(t);
  log('\npeers: what an acknowledgement means and what each stores per record');
  for (const s of SYSTEMS) log(`  ${s}: ack: ${INFO[s].ack}\n    framing: ${INFO[s].framing}`);
  const targeted = tables.flatMap((t) => t.rows.filter((r) => r.met !== null));
  const missed = targeted.filter((r) => r.met === false);
  log(`\n${targeted.length - missed.length} of ${targeted.length} targets met${missed.length ? `; MISSED: ${missed.map((r) => `${r.system} ${r.level} (${r.target})`).join('; ')}` : ''}`);
  for (const w of warnings) log(w);
  const seconds = (Date.now() - t00) / 1000;
  log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; the run took ${seconds.toFixed(0)} s`);

  const sub = `${started.slice(0, 16)}Z${quick ? ' (--quick)' : ''}, ${machine}; medians of ${cfg.tp.reps} reps`;
  writeChart(out('suite.svg'), 'Append throughput, payload MB/s', sub, 'payload MB/s', matrixChart(matrix, rawStart));
  writeFileSync(out('suite.md'), `Run ${started}${quick ? ' (--quick)' : ''}, ${seconds.toFixed(0)} s; ${machine}; filesystem: ${df}\n\n${markdownTables(tables)}\n${warnings.map((w) => `${w}\n`).join('')}`);
  writeJson(out('suite.json'), { started, seconds, quick, machine, filesystem: df, config: cfg, raw: { start: rawStart, end: rawEnd, drifts, atomics }, matrix, tables, latency: latJson, fan, slow, reopen, warnings, peers: INFO });
  log(`results: ${out('suite.json')}, suite.md, suite.svg`);
}

try {
  await main();
} finally {
  cleanupAll();
}
