/**
 * Append benchmark: every figure beside the physical limit of the same disk, measured in the same run.
 *
 *   node --import tsx bench/append.ts [--quick] [--dir <base directory for the logs>]
 *
 * Workloads (100-byte records): raw write+fdatasync limit (start and end of the run), `always` group
 * commit, `never`, reading 1,000,000 records with consumer.iter() (in-process and file mode), and
 * Producer.open after kill -9 and after a clean close. Prints a table; writes bench/results/append.json.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupAll, tempRoot } from './lib/cleanup.js';
import { MiB, probeRawLimit, sequentialOnce, type RawLimit } from './lib/limits.js';
import { reopenAfterKill } from './lib/reopen.js';
import { fmt, met, printTable, writeJson, type Row } from './lib/report.js';
import { summarize, type Summary } from './lib/stats.js';
import { ON_DISK_RECORD_BYTES, appendAlways, appendNever, readBoth } from './lib/workloads.js';

const quick = process.argv.includes('--quick');
const dirArg = process.argv.indexOf('--dir');
const base = dirArg >= 0 ? process.argv[dirArg + 1]! : tmpdir();
const RESULTS = fileURLToPath(new URL('./results/append.json', import.meta.url));

const cfg = quick
  ? { probeReps: 3, probeMs: 600, pairMs: 300, reps: 3, appendN: 2_000_000, readN: 1_000_000, bursts: 3, burstN: 200_000, fill: 256 * MiB, more: 32 * MiB, kills: 3, cleanOpens: 5 }
  : { probeReps: 5, probeMs: 1500, pairMs: 600, reps: 7, appendN: 5_000_000, readN: 1_000_000, bursts: 5, burstN: 200_000, fill: 1024 * MiB, more: 64 * MiB, kills: 7, cleanOpens: 7 };

const log = (s: string): void => console.log(s);
const rate = (n: number, seconds: readonly number[]): Summary => summarize(seconds.map((s) => n / s));
const recs = (bytesPerSec: Summary): Summary => summarize(bytesPerSec.samples.map((b) => b / ON_DISK_RECORD_BYTES));
const mbps = (bytesPerSec: Summary): Summary => summarize(bytesPerSec.samples.map((b) => b / 1e6));

/** Repeats `run` in a fresh directory each time (removed right after), after one warm-up run. */
async function repeat<T>(root: string, name: string, reps: number, run: (dir: string, warmup: boolean) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let r = -1; r < reps; r++) {
    const dir = join(root, `${name}-${r < 0 ? 'warmup' : r}`);
    try {
      const v = await run(dir, r < 0);
      if (r >= 0) out.push(v);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}

function rawRows(raw: RawLimit, when: string): Row[] {
  return [
    { workload: `raw 1 MiB write+fdatasync (${when})`, figure: mbps(raw.seq1MiB), unit: 'MB/s', target: null, ratio: 1 },
    { workload: `raw 1 MiB write+fdatasync (${when})`, figure: recs(raw.seq1MiB), unit: 'rec/s eq (B/s / 104)', target: null, ratio: 1 },
    { workload: `raw 16 MiB write+fdatasync (${when})`, figure: mbps(raw.seq16MiB), unit: 'MB/s', target: null, ratio: raw.seq16MiB.median / raw.seq1MiB.median },
    { workload: `raw 1 MiB write, no fsync (${when})`, figure: recs(raw.buffered1MiB), unit: 'rec/s eq (B/s / 104)', target: null, ratio: raw.buffered1MiB.median / raw.seq1MiB.median, cacheRatio: 1 },
    { workload: `raw 100 B write+fdatasync (${when})`, figure: raw.tinyFsyncs, unit: 'fsyncs/s', target: null, ratio: null },
  ];
}

async function main(): Promise<void> {
  const root = tempRoot(base);
  const started = new Date().toISOString();
  log(`reactive-log append benchmark${quick ? ' (--quick)' : ''}: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`);
  const df = execFileSync('df', ['-T', root], { encoding: 'utf8' }).trim().split('\n').pop() ?? '';
  log(`logs and raw probes in ${root}\n  filesystem: ${df}\n`);

  log('raw limit (start)...');
  const rawStart = probeRawLimit(root, cfg.probeReps, cfg.probeMs);
  const rawRecs = rawStart.seq1MiB.median / ON_DISK_RECORD_BYTES;
  const cacheRecs = rawStart.buffered1MiB.median / ON_DISK_RECORD_BYTES;
  const vsRaw = (recPerSec: number): number => recPerSec / rawRecs;

  log(`always: ${cfg.reps} x ${cfg.appendN.toLocaleString('en-US')} records, each after a ${cfg.pairMs} ms raw probe...`);
  const always = await repeat(root, 'always', cfg.reps, async (d, w) => {
    const raw = sequentialOnce(root, 'raw-pair.bin', MiB, cfg.pairMs) / ON_DISK_RECORD_BYTES;
    const n = w ? cfg.appendN / 5 : cfg.appendN;
    const recPerSec = n / (await appendAlways(d, n));
    return { recPerSec, paired: recPerSec / raw };
  });
  const alwaysRate = summarize(always.map((a) => a.recPerSec));

  log(`never: ${cfg.reps} x ${cfg.appendN.toLocaleString('en-US')} records, then ${cfg.bursts} bursts of ${cfg.burstN.toLocaleString('en-US')}...`);
  const never = await repeat(root, 'never', cfg.reps, (d, w) => appendNever(d, w ? cfg.appendN / 5 : cfg.appendN, cfg.bursts, cfg.burstN));
  const neverWritten = rate(cfg.appendN, never.map((r) => r.writtenSec));
  const neverFlushed = rate(cfg.appendN, never.map((r) => r.flushedSec));
  const appendNs = summarize(never.map((r) => r.appendNs));
  const burstNs = summarize(never.flatMap((r) => r.burstNs));

  log(`read: ${cfg.readN.toLocaleString('en-US')} records, ${cfg.reps} reads per mode...`);
  const readDir = join(root, 'read');
  const reads = await readBoth(readDir, cfg.readN, cfg.reps);
  rmSync(readDir, { recursive: true, force: true });
  const readIn = rate(cfg.readN, reads.inProcessSec);
  const readFile = rate(cfg.readN, reads.fileModeSec);

  log(`reopen: fill ${cfg.fill / MiB} MiB, ${cfg.kills} x (kill -9, open), ${cfg.cleanOpens} x open after a clean close...`);
  const reopenDir = join(root, 'reopen');
  const reopen = await reopenAfterKill(reopenDir, join(root, 'reopen-warm'), cfg.fill, cfg.more, cfg.kills, cfg.cleanOpens);
  rmSync(reopenDir, { recursive: true, force: true });
  const killOpen = summarize(reopen.afterKill.map((k) => k.openMs));
  const cleanOpen = summarize(reopen.afterCleanCloseMs);
  const fsyncMs = 1000 / rawStart.tinyFsyncs.median;

  log('raw limit (end)...\n');
  const rawEnd = probeRawLimit(root, cfg.probeReps, cfg.probeMs);
  const drift = rawEnd.seq1MiB.median / rawStart.seq1MiB.median - 1;

  const rows: Row[] = [
    ...rawRows(rawStart, 'start'),
    { workload: 'always: append N + flush()', figure: alwaysRate, unit: 'rec/s', target: { op: '>=', value: 3_000_000 }, ratio: vsRaw(alwaysRate.median) },
    { workload: 'always: ratio to raw (start probe)', figure: summarize(always.map((a) => vsRaw(a.recPerSec))), unit: 'x raw', target: { op: '>=', value: 0.6 }, ratio: vsRaw(alwaysRate.median) },
    { workload: 'always: ratio to raw (paired probe)', figure: summarize(always.map((a) => a.paired)), unit: 'x raw', target: null, ratio: null },
    { workload: 'never: append N until written', figure: neverWritten, unit: 'rec/s', target: { op: '>=', value: 5_000_000 }, ratio: vsRaw(neverWritten.median), cacheRatio: neverWritten.median / cacheRecs },
    { workload: 'never: append N + final flush()', figure: neverFlushed, unit: 'rec/s', target: null, ratio: vsRaw(neverFlushed.median), cacheRatio: neverFlushed.median / cacheRecs },
    { workload: 'never: append() main thread, N loop', figure: appendNs, unit: 'ns/append', target: { op: '<', value: 250 }, ratio: vsRaw(1e9 / appendNs.median), cacheRatio: 1e9 / appendNs.median / cacheRecs },
    { workload: `never: append() main thread, ${cfg.burstN / 1000}k burst`, figure: burstNs, unit: 'ns/append', target: null, ratio: vsRaw(1e9 / burstNs.median), cacheRatio: 1e9 / burstNs.median / cacheRecs },
    { workload: 'read 1M iter(), producer open', figure: readIn, unit: 'rec/s', target: { op: '>=', value: 3_000_000 }, ratio: vsRaw(readIn.median) },
    { workload: 'read 1M iter(), file mode', figure: readFile, unit: 'rec/s', target: { op: '>=', value: 3_000_000 }, ratio: vsRaw(readFile.median) },
    { workload: 'Producer.open after kill -9', figure: killOpen, unit: 'ms', target: { op: '<', value: 150 }, ratio: killOpen.median / fsyncMs, ratioOf: 'fsync' },
    { workload: 'Producer.open after clean close', figure: cleanOpen, unit: 'ms', target: { op: '<', value: 150 }, ratio: cleanOpen.median / fsyncMs, ratioOf: 'fsync' },
    ...rawRows(rawEnd, 'end'),
  ];
  printTable(rows);

  log('\nratio to raw: rec/s over the raw 1 MiB write+fdatasync rate of the start probe, counting 104 bytes a record');
  log('  on disk (4-byte length + 100 payload; the 44-byte frame header+trailer per ~1 MiB batch is left out);');
  log('  ns/append as 1e9/ns rec/s; "paired": each rep over a raw 1 MiB probe run just before it; open times as');
  log(`  multiples of one raw 100 B write+fdatasync (${fsyncMs.toFixed(2)} ms). to page cache: over the raw 1 MiB write`);
  log('  rate without fsync (the ceiling for `never`). Reads are served by the page cache (just written).');
  log('  Opens are timed in a fresh plain-node process (bench/fixtures/time-open.mjs), recovery included.');
  log(`\nkill -9 reopens (the ${cfg.fill / MiB} MiB fill took ${reopen.fillSeconds.toFixed(1)} s):`);
  for (const k of reopen.afterKill) {
    const syncMs = (k.activeSegmentBytes / rawStart.seq16MiB.median) * 1000;
    const dirty = k.dirtyBytes === null ? '' : `, ${(k.dirtyBytes / MiB).toFixed(1)} MiB dirty in the page cache (machine-wide)`;
    log(`  open ${k.openMs.toFixed(1)} ms: log ${(k.logBytes / MiB).toFixed(0)} MiB, active segment ${(k.activeSegmentBytes / MiB).toFixed(1)} MiB`
      + ` (its fdatasync at the raw 16 MiB rate: ~${syncMs.toFixed(0)} ms)${dirty}; ${k.writtenBeforeKill} records written before the kill,`
      + ` reopened at ${k.recoveredNextOffset}, torn tail cut: ${k.truncatedBytes} B`);
  }
  const warnings: string[] = [];
  if (Math.abs(drift) > 0.3) {
    warnings.push(`WARNING: the raw 1 MiB write+fdatasync rate moved ${(drift * 100).toFixed(0)}% between the start and the end of the run; ratios to raw are unreliable (see the paired ratio)`);
  }
  log(`\nraw limit drift, start -> end: ${(drift * 100).toFixed(1)}%`);
  for (const w of warnings) log(w);
  const targeted = rows.filter((r) => r.target !== null);
  const missed = targeted.filter((r) => met(r) === false);
  log(`${targeted.length - missed.length} of ${targeted.length} targets met${missed.length > 0 ? `; missed: ${missed.map((r) => `${r.workload} (${fmt(r.figure.median)} ${r.unit})`).join('; ')}` : ''}`);

  writeJson(RESULTS, {
    started, finished: new Date().toISOString(), quick, node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model,
    memoryBytes: totalmem(), filesystem: df, config: cfg, recordBytes: 100, onDiskRecordBytes: ON_DISK_RECORD_BYTES,
    raw: { start: rawStart, end: rawEnd, drift },
    rows: rows.map((r) => ({ ...r, met: met(r) })),
    always, never, reads, reopen, warnings,
  });
  log(`\nresults: ${RESULTS}`);
}

try {
  await main();
} finally {
  cleanupAll();
}
