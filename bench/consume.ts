/**
 * Consume benchmark: transactional consumers (clientTx) and nonTx reading, every figure beside the
 * physical limit of the same disk, measured in the same run.
 *
 *   node --import tsx bench/consume.ts [--quick] [--dir <base directory for the logs>]
 *
 * Two logs of 100-byte records are filled first (SyncPolicy.never() then flush(); not timed) and the
 * producer closed, so the consumers read the files. Every run opens a consumer with a fresh id: a new
 * cursor at the oldest record. Workloads:
 * 1. clientTx, the default commit policy (a durable commit per record), over the small log, with
 *    nonblockingProcess(null, () => 'commit') and with for...of consumer.iter(); against the raw rate of a
 *    100-byte pwrite in place + fdatasync on one file (a cursor commit's shape), probed right before each
 *    repetition (the target: >= 0.9x) and at the start of the run (shown; a VM disk drifts too much
 *    over a run for it to carry the target).
 * 2. clientTx with group commit (everyRecords 1000 and 10000), over the large log. Target: >= 1,000,000 rec/s.
 * 3. nonTx from the oldest record over the large log (for comparison).
 * Plus untimed runs that count the fs calls of a commit. Prints a table; writes bench/results/consume.json.
 */
import { execFileSync } from 'node:child_process';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupAll, tempRoot } from './lib/cleanup.js';
import { consumeOnce, fillLog, segmentFiles, type ConsumeRun, type Form, type FsCounts } from './lib/consume-workloads.js';
import { pageCacheReadOnce, probeFsyncLimit, tinyInPlaceOnce, type FsyncLimit } from './lib/limits.js';
import { fmt, met, printTable, writeJson, type Row } from './lib/report.js';
import { summarize, type Summary } from './lib/stats.js';
import { ON_DISK_RECORD_BYTES } from './lib/workloads.js';

const quick = process.argv.includes('--quick');
const dirArg = process.argv.indexOf('--dir');
const base = dirArg >= 0 ? process.argv[dirArg + 1]! : tmpdir();
const RESULTS = fileURLToPath(new URL('./results/consume.json', import.meta.url));

const cfg = quick
  ? { probeReps: 3, probeMs: 400, pairMs: 250, reps: 5, perRecordSeconds: 1.2, largeN: 2_000_000, countN: 2_000, countGroups: 50 }
  : { probeReps: 5, probeMs: 1000, pairMs: 500, reps: 7, perRecordSeconds: 3, largeN: 5_000_000, countN: 5_000, countGroups: 200 };
/** Bounds of the small log, sized from the raw fsync rate to take about perRecordSeconds a run. */
const SMALL_MIN = 2_000;
const SMALL_MAX = 500_000;
const GROUPS = [1000, 10_000] as const;
const FORMS: readonly Form[] = ['process', 'iter'];
const FORM_LABEL: Record<Form, string> = { process: 'nonblockingProcess', iter: 'for...of iter()' };
const DRIFT_WARN = 0.3;

const log = (s: string): void => console.log(s);
const n = (x: number): string => x.toLocaleString('en-US');

let ids = 0;
/** A consumer id not used before in this run: a new cursor at the oldest record. */
const freshId = (what: string): string => `${what}-${++ids}`;

interface Timed {
  readonly recPerSec: number;
  /** The rate over a raw in-place fsync probe run just before. */
  readonly paired: number;
}

async function main(): Promise<void> {
  const root = tempRoot(base);
  const started = new Date().toISOString();
  log(`reactive-log consume benchmark${quick ? ' (--quick)' : ''}: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`);
  const df = execFileSync('df', ['-T', root], { encoding: 'utf8' }).trim().split('\n').pop() ?? '';
  log(`logs and raw probes in ${root}\n  filesystem: ${df}\n`);

  log('raw fsync limit (start)...');
  const fsyncStart = probeFsyncLimit(root, cfg.probeReps, cfg.probeMs);
  const fsyncRate = fsyncStart.inPlace.median;

  const smallN = Math.min(SMALL_MAX, Math.max(SMALL_MIN, Math.round(fsyncRate * cfg.perRecordSeconds)));
  const smallDir = join(root, 'small');
  const largeDir = join(root, 'large');
  log(`fill: ${n(smallN)} records (per-record commit; ~${cfg.perRecordSeconds} s at the raw fsync rate) and ${n(cfg.largeN)} records, never + flush (not timed)...`);
  const fillSeconds = { small: await fillLog(smallDir, smallN), large: await fillLog(largeDir, cfg.largeN) };
  const largeFiles = segmentFiles(largeDir);

  const readProbe = (): Summary => {
    pageCacheReadOnce(largeFiles); // warm-up
    return summarize(Array.from({ length: cfg.probeReps }, () => pageCacheReadOnce(largeFiles) / ON_DISK_RECORD_BYTES));
  };
  log('raw page-cache read limit (start)...');
  const readStart = readProbe();
  const readRecs = readStart.median;

  // 1. A durable commit per record. Forms interleaved, each rep right after a short raw probe.
  log(`per-record commit: ${cfg.reps} x ${n(smallN)} records per form, each after a ${cfg.pairMs} ms raw fsync probe...`);
  const perRecord: Record<Form, Timed[]> = { process: [], iter: [] };
  for (const form of FORMS) {
    await consumeOnce({ logDir: smallDir, consumerId: freshId(`warm-${form}`), form, everyRecords: 1, max: Math.ceil(smallN / 5) });
  }
  for (let r = 0; r < cfg.reps; r++) {
    for (const form of FORMS) {
      const raw = tinyInPlaceOnce(root, 'raw-pair.bin', cfg.pairMs);
      const run = checked(await consumeOnce({ logDir: smallDir, consumerId: freshId(`rec-${form}`), form, everyRecords: 1, max: null }), smallN);
      const recPerSec = run.records / run.seconds;
      perRecord[form].push({ recPerSec, paired: recPerSec / raw });
    }
  }

  // 2. Group commit, 3. nonTx: CPU-bound reads of the page cache. Interleaved the same way.
  log(`group commit (everyRecords ${GROUPS.map(n).join(', ')}) and nonTx: ${cfg.reps} x ${n(cfg.largeN)} records per form...`);
  const kinds = [...GROUPS.map((g) => ({ key: `group${g}`, every: g, tx: true })), { key: 'nonTx', every: 1, tx: false }];
  const cpuBound: Record<string, Record<Form, number[]>> = {};
  for (const k of kinds) {
    cpuBound[k.key] = { process: [], iter: [] };
    for (const form of FORMS) {
      await consumeOnce({ logDir: largeDir, consumerId: k.tx ? freshId(`warm-${k.key}-${form}`) : null, form, everyRecords: k.every, max: Math.ceil(cfg.largeN / 10) });
    }
  }
  for (let r = 0; r < cfg.reps; r++) {
    for (const k of kinds) {
      for (const form of FORMS) {
        const run = checked(await consumeOnce({ logDir: largeDir, consumerId: k.tx ? freshId(`${k.key}-${form}`) : null, form, everyRecords: k.every, max: null }), cfg.largeN);
        cpuBound[k.key]![form].push(run.records / run.seconds);
      }
    }
  }

  // What a commit costs in fs calls: untimed runs with node:fs counted.
  log('fs calls per commit (untimed, counted)...');
  const counted: Record<string, { records: number; commits: number; fs: FsCounts }> = {};
  for (const form of FORMS) {
    const run = await consumeOnce({ logDir: smallDir, consumerId: freshId(`count-${form}`), form, everyRecords: 1, max: cfg.countN, countFs: true });
    counted[`perRecord-${form}`] = { records: run.records, commits: run.committed!, fs: run.fs! };
  }
  const groupCountN = cfg.countGroups * GROUPS[0];
  const groupRun = await consumeOnce({ logDir: largeDir, consumerId: freshId('count-group'), form: 'process', everyRecords: GROUPS[0], max: groupCountN, countFs: true });
  counted['group1000-process'] = { records: groupRun.records, commits: groupRun.committed!, fs: groupRun.fs! };

  log('raw page-cache read limit (end)...');
  const readEnd = readProbe();
  log('raw fsync limit (end)...\n');
  const fsyncEnd = probeFsyncLimit(root, cfg.probeReps, cfg.probeMs);
  const fsyncDrift = fsyncEnd.inPlace.median / fsyncStart.inPlace.median - 1;
  const readDrift = readEnd.median / readStart.median - 1;

  /** The limit of a consumer that reads the page cache and fsyncs once per `every` records, one after the other. */
  const groupLimit = (every: number): number => 1 / (1 / readRecs + 1 / (fsyncRate * every));
  const syncs = (c: FsCounts): number => c.fdatasyncSync + c.fsyncSync;
  const writes = (c: FsCounts): number => c.writeSync + c.writevSync;

  const rows: Row[] = [
    ...rawRows(fsyncStart, readStart, 'start'),
  ];
  for (const form of FORMS) {
    const runs = perRecord[form];
    const rate = summarize(runs.map((t) => t.recPerSec));
    rows.push(
      { workload: `clientTx commit/record, ${FORM_LABEL[form]}`, figure: rate, unit: 'rec/s', target: null, ratio: rate.median / fsyncRate, ratioOf: 'fsync' },
      { workload: `  ratio to raw fsync (paired probe)`, figure: summarize(runs.map((t) => t.paired)), unit: 'x raw fsync', target: { op: '>=', value: 0.9 }, ratio: null },
      { workload: `  ratio to raw fsync (start probe)`, figure: summarize(runs.map((t) => t.recPerSec / fsyncRate)), unit: 'x raw fsync', target: null, ratio: null },
    );
  }
  for (const form of FORMS) {
    const c = counted[`perRecord-${form}`]!;
    rows.push(
      { workload: `  fdatasync+fsync per commit, ${FORM_LABEL[form]}`, figure: one(syncs(c.fs) / c.commits), unit: 'calls/commit', target: { op: '<=', value: 1 }, ratio: null },
      { workload: `  write calls per commit, ${FORM_LABEL[form]}`, figure: one(writes(c.fs) / c.commits), unit: 'calls/commit', target: null, ratio: null },
    );
  }
  for (const g of GROUPS) {
    for (const form of FORMS) {
      const rate = summarize(cpuBound[`group${g}`]![form]);
      rows.push({
        workload: `clientTx everyRecords ${n(g)}, ${FORM_LABEL[form]}`, figure: rate, unit: 'rec/s', target: { op: '>=', value: 1_000_000 },
        ratio: rate.median / groupLimit(g), ratioOf: 'limit', cacheRatio: rate.median / readRecs,
      });
    }
  }
  const gc = counted['group1000-process']!;
  rows.push({ workload: `  fdatasync+fsync per ${n(GROUPS[0])} records`, figure: one((syncs(gc.fs) / gc.commits) * GROUPS[0]), unit: 'calls/group', target: { op: '<=', value: 1 }, ratio: null });
  for (const form of FORMS) {
    const rate = summarize(cpuBound.nonTx![form]);
    rows.push({ workload: `nonTx, ${FORM_LABEL[form]}`, figure: rate, unit: 'rec/s', target: null, ratio: rate.median / readRecs, ratioOf: 'read', cacheRatio: rate.median / readRecs });
  }
  rows.push(...rawRows(fsyncEnd, readEnd, 'end'));
  printTable(rows);

  log(`\nlogs: ${n(smallN)} records (per-record commit) and ${n(cfg.largeN)} records (${largeFiles.length} segments), 100-byte records, producer closed`);
  log('  (the consumers read the files; reads are served by the page cache). Every run: a fresh clientTx cursor.');
  log('ratio column: "fsync": rec/s over the raw 100 B pwrite-in-place + fdatasync rate of the start probe (one');
  log('  cursor commit is exactly that: a 32+ byte slot overwrite and one fdatasync); "paired" (the target): each');
  log(`  rep over a ${cfg.pairMs} ms raw probe run just before it. "read": over the raw page-cache read rate of the same segment`);
  log('  files (1 MiB pread into one reused buffer, 104 B a record). "limit": over reading and one raw fsync per');
  log('  group done one after the other, 1 / (1/read + 1/(fsync x everyRecords)). to page cache: over the raw read rate.');
  log('fs calls counted in untimed runs (open and close left out):');
  for (const [k, c] of Object.entries(counted)) {
    const nonzero = Object.entries(c.fs).filter(([, v]) => v > 0).map(([f, v]) => `${f.replace(/Sync$/, '')} ${n(v)}`).join(', ');
    log(`  ${k}, ${n(c.records)} records, ${n(c.commits)} committed: ${nonzero}`);
  }

  const warnings: string[] = [];
  if (Math.abs(fsyncDrift) > DRIFT_WARN) {
    warnings.push(`WARNING: the raw in-place fsync rate moved ${(fsyncDrift * 100).toFixed(0)}% between the start and the end of the run; the "fsync" and start-probe ratios are unreliable (the paired ratios, which carry the target, are not affected as much)`);
  }
  if (Math.abs(readDrift) > DRIFT_WARN) {
    warnings.push(`WARNING: the raw page-cache read rate moved ${(readDrift * 100).toFixed(0)}% between the start and the end of the run; "read" and "limit" ratios are unreliable`);
  }
  for (const [k, c] of Object.entries(counted)) {
    if (syncs(c.fs) === 0) warnings.push(`WARNING: ${k} made no fsync at all while committing ${c.records} records`);
  }
  log(`\nraw limit drift, start -> end: in-place fsync ${(fsyncDrift * 100).toFixed(1)}%, page-cache read ${(readDrift * 100).toFixed(1)}%`);
  for (const w of warnings) log(w);
  const targeted = rows.filter((r) => r.target !== null);
  const missed = targeted.filter((r) => met(r) === false);
  log(`${targeted.length - missed.length} of ${targeted.length} targets met${missed.length > 0 ? `; missed: ${missed.map((r) => `${r.workload.trim()} (${fmt(r.figure.median)} ${r.unit})`).join('; ')}` : ''}`);

  writeJson(RESULTS, {
    started, finished: new Date().toISOString(), quick, node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model,
    memoryBytes: totalmem(), filesystem: df, config: cfg, recordBytes: 100, onDiskRecordBytes: ON_DISK_RECORD_BYTES,
    logs: { smallRecords: smallN, largeRecords: cfg.largeN, largeSegments: largeFiles.length, fillSeconds },
    raw: { fsyncStart, fsyncEnd, fsyncDrift, readStartRecPerSec: readStart, readEndRecPerSec: readEnd, readDrift },
    rows: rows.map((r) => ({ ...r, met: met(r) })),
    perRecord, cpuBound, counted, warnings,
  });
  log(`\nresults: ${RESULTS}`);
}

function rawRows(f: FsyncLimit, read: Summary, when: string): Row[] {
  return [
    { workload: `raw 100 B pwrite in place+fdatasync (${when})`, figure: f.inPlace, unit: 'fsyncs/s', target: null, ratio: 1, ratioOf: 'fsync' },
    { workload: `raw 100 B append+fdatasync (${when})`, figure: f.append, unit: 'fsyncs/s', target: null, ratio: null },
    { workload: `raw page-cache read, 1 MiB preads (${when})`, figure: read, unit: 'rec/s eq (B/s / 104)', target: null, ratio: 1, ratioOf: 'read', cacheRatio: 1 },
  ];
}

function checked(run: ConsumeRun, expected: number): ConsumeRun {
  if (run.records !== expected) throw new Error(`consumed ${run.records} records, expected ${expected}`);
  return run;
}

/** A figure measured once (a count, not a rate). */
function one(x: number): Summary {
  return summarize([x]);
}

try {
  await main();
} finally {
  cleanupAll();
}
