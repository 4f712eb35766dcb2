/**
 * The benchmark suite (npm run bench): reactive-log beside the physical limits of its machine and the
 * stores Node users pick today, measured on the same machine in the same run.
 *
 *   node --import tsx bench/suite.ts [--quick] [--dir <base directory>] [--only throughput,read,...]
 *
 * 1. Physical limits (start and end of the run): 1 MiB write+fdatasync, 1 MiB page-cache writes,
 *    100 B write+fdatasync, an Atomics round trip between two threads.
 * 2. throughput: reactive-log, lmdb, better-sqlite3, Redis streams, NATS JetStream, each in its own
 *    child process just after the raw 1 MiB writes it is paired with, and the raw 16 MiB writes and
 *    two-thread pipeline, 16 B / 100 B / 1 KiB / 64 KiB, never / periodic / always. The peers are
 *    installed (npm run bench:setup) when missing; a peer that cannot run fails the suite.
 * 3. reactive-log alone against the limits: read (one reader from the oldest record, beside raw reads
 *    and a raw read-and-parse of the same files), seek, latency at fixed offered rates, fanout, slow
 *    (a slow consumer under blockingMinimumRetention), tx (transactional commits), recovery (reopen
 *    after kill -9). `--only` runs some of these sections.
 * Prints one table per section; a full run writes bench/results/suite.json, suite.md and suite.svg.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fanOut, slowConsumer, type FanOutRun } from './lib/fanout.js';
import { LATENCY_MODULE, latencyRows, type LatencyRun, type LatencySpec } from './lib/latency.js';
import { MiB, atomicsRoundTrip, driftWarnings, pageCacheRecords, parkedWakeUps, probeRawLimit, rawReadParse, type ParkedWakeUps, type RawLimit } from './lib/limits.js';
import { SIZES, matrixChart, matrixTables, runMatrix, type Matrix } from './lib/matrix.js';
import { RAW_OTHERS, SYSTEMS, ensurePeers } from './lib/peers.js';
import { reopenAfterKill } from './lib/reopen.js';
import { inDir, inFreshProcess, log, PINNED_MALLOC_ENV, n, one, runBench, summarize, type Summary } from './lib/run.js';
import { markdownTables, printTable, printTargets, row, writeChart, type Row, type Table } from './lib/table.js';
import { coldSeek, consumeOnce, fillLog, readBoth, segmentFiles, warmSeeks } from './lib/workloads.js';
import type { ColdReadSpec } from './lib/read-cells.js';

const READ_CELLS = new URL('./lib/read-cells.ts', import.meta.url);

const SECTIONS = ['throughput', 'read', 'seek', 'latency', 'fanout', 'slow', 'tx', 'recovery'] as const;
const RATES = [1_000, 10_000, 100_000] as const;
/** reactive-log's write-behind interval (src/writer/write-behind.ts), for the raw pipeline that copies it. */
const WRITE_BEHIND_BYTES = 8 * 1024 * 1024;

await runBench('suite', 'reactive-log benchmark suite', async (b) => {
  const cfg = b.pick(
    { probeReps: 5, probeMs: 1000, pings: 20_000, tp: { reps: 5, warmMs: 300, measureMs: 1000 }, readN: 5_000_000, readReps: 5, seeks: 1000, coldSeeks: 7,
      latWarmMs: 500, latSteadyWarmMs: 2000, latMs: 3000, latReps: 3, fanN: 1_000_000, slowN: 200_000, txPerRecordN: 5_000, txGroupN: 2_000_000, txReps: 5, fill: 1024 * MiB, more: 64 * MiB, kills: 5, cleanOpens: 5 },
    { probeReps: 2, probeMs: 300, pings: 5_000, tp: { reps: 2, warmMs: 100, measureMs: 200 }, readN: 1_000_000, readReps: 3, seeks: 200, coldSeeks: 3,
      latWarmMs: 200, latSteadyWarmMs: 1500, latMs: 800, latReps: 1, fanN: 300_000, slowN: 60_000, txPerRecordN: 2_000, txGroupN: 500_000, txReps: 2, fill: 128 * MiB, more: 16 * MiB, kills: 3, cleanOpens: 3 },
  );
  const only = b.only(SECTIONS);
  const runs = (s: (typeof SECTIONS)[number]): boolean => only.has(s);
  const tables: Table[] = [];
  const warnings: string[] = [];
  const json: Record<string, unknown> = {};

  log('\nphysical limits (start)...');
  const rawStart = probeRawLimit(b.root, cfg.probeReps, cfg.probeMs);
  const fsyncUs = 1e6 / rawStart.tinyFsyncs.median;
  const atomics = await atomicsRoundTrip(cfg.pings, 1_000, 100);

  let matrix: Matrix | null = null;
  if (runs('throughput')) {
    log('peers and their servers...');
    const { ports, servers } = await ensurePeers(b.root);
    log(`append throughput: ${cfg.tp.reps} reps (alternating order) x ${SYSTEMS.length} systems each after its paired raw cells, and ${RAW_OTHERS.length} more raw configurations, ${cfg.tp.warmMs} ms warm-up + ${cfg.tp.measureMs} ms per cell...`);
    try {
      matrix = await runMatrix(b.root, { ...cfg.tp, sizes: SIZES }, ports);
    } finally {
      for (const s of servers) await s.stop();
    }
    tables.push(...matrixTables(matrix, SIZES));
    json.matrix = matrix;
  }

  const readDir = join(b.root, 'read');
  if (runs('read') || runs('seek')) {
    log(`read: ${n(cfg.readN)} records of 100 B, ${cfg.readReps} reads per mode, raw reads and read-and-parse of the same files...`);
    const reads = await readBoth(readDir, cfg.readN, cfg.readReps);
    if (runs('read')) {
      log(`read, cold: ${cfg.readReps} first reads each of reactive-log and the raw reader with CRC, each in a fresh process after reading another log of the same shape, with malloc as it comes and pinned...`);
      const warmDir = join(b.root, 'read-warm-up');
      await fillLog(warmDir, cfg.readN);
      const cold = await coldReads(readDir, warmDir, cfg.readN, cfg.readReps);
      rmSync(warmDir, { recursive: true, force: true });
      tables.push(readTable(readDir, cfg.readN, cfg.readReps, reads, cold));
    }
  }
  if (runs('seek')) {
    log(`seek: ${n(cfg.seeks)} warm seeks, ${cfg.coldSeeks} cold...`);
    const warm = await warmSeeks(readDir, cfg.readN, cfg.seeks);
    const colds = [];
    for (let i = 0; i < cfg.coldSeeks; i++) colds.push(await coldSeek(readDir, Math.floor(Math.random() * cfg.readN)));
    tables.push({
      title: `Seek: Consumer.open at Whence.position(n) + reading record n (${n(cfg.readN)}-record log)`,
      rows: [
        row('raw fdatasync (100 B append), for scale', '-', one(fsyncUs), 'µs'),
        row('reactive-log, warm (same process), p50', '-', one(warm.p50), 'µs', { target: '< 20 µs', met: warm.p50 < 20 }),
        row('reactive-log, warm, p99', '-', one(warm.p99), 'µs'),
        row(`reactive-log, cold (fresh process${colds.every((c) => c.evicted) ? ', files evicted from the page cache' : ''})`, '-', summarize(colds.map((c) => c.us)), 'µs'),
      ],
      notes: ['Per seek: npm run bench:seek (warm rounds, cold seeks, and the file calls of a warm seek).'],
    });
  }
  rmSync(readDir, { recursive: true, force: true });

  if (runs('latency')) {
    log(`latency: ${RATES.map(n).join(', ')} rec/s offered, never/written and always/durable, ${cfg.latReps} x ${cfg.latMs} ms, each run in a fresh process...`);
    const rows: Row[] = [row('raw Atomics one-way between threads, p50', '-', one(atomics.oneWayAbUs.p50), 'µs'), row('raw fdatasync, 100 B append', '-', one(fsyncUs), 'µs')];
    // The wake-up a writer thread pays after each sleep, with the other core busy as in the cells.
    const parked: ParkedWakeUps[] = [];
    for (let r = 0; r < cfg.latReps; r++) parked.push(await parkedWakeUps(cfg.latMs, 10));
    const parkedRow = (what: string, f: (p: ParkedWakeUps) => number, unit: string): Row => row(`raw wake-up of a thread asleep in Atomics.wait, the other core spinning, ${what}`, '-', summarize(parked.map(f)), unit);
    rows.push(
      parkedRow('p50', (p) => p.wakeUs.p50, 'µs'),
      parkedRow('p99', (p) => p.wakeUs.p99, 'µs'),
      parkedRow('max', (p) => p.wakeUs.max, 'µs'),
      parkedRow('share over 500 µs', (p) => 100 * p.overHalfMs, '%'),
    );
    const latJson: Record<string, LatencyRun[]> = {};
    // Each case: reactive-log's runs, each in turn with a run of each raw pipeline named (the physical
    // limit of the same path). The last case warms up past the first write-behind call (at the first
    // 8 MiB written, about 0.8 s in at 100,000/s), beside a raw pipeline that fdatasyncs behind its
    // writes as reactive-log's write-behind does.
    const cases = [
      ...[false, true].flatMap((durable) => RATES.map((rate) => ({ durable, rate, warmMs: cfg.latWarmMs, behind: [0], name: '' }))),
      { durable: false, rate: 100_000, warmMs: cfg.latSteadyWarmMs, behind: [0, WRITE_BEHIND_BYTES], name: `, after ${cfg.latSteadyWarmMs / 1000} s` },
    ];
    for (const k of cases) {
      const runs: LatencyRun[] = [];
      const raws = k.behind.map((): LatencyRun[] => []);
      for (let r = 0; r < cfg.latReps; r++) {
        const spec = (logDir: string, rawBehindBytes: number): LatencySpec => ({ logDir, ratePerSec: k.rate, warmMs: k.warmMs, measureMs: cfg.latMs, warmRecords: 1_000, durable: k.durable, rawBehindBytes });
        for (const [i, behind] of k.behind.entries()) {
          raws[i]!.push(await inDir(b.root, `lat-raw-${r}`, (logDir) => inFreshProcess<LatencyRun>(LATENCY_MODULE, 'rawLatencyRun', spec(logDir, behind))));
        }
        runs.push(await inDir(b.root, `lat-${r}`, (logDir) => inFreshProcess<LatencyRun>(LATENCY_MODULE, 'iteratorLatencyRun', spec(logDir, 0))));
      }
      const key = `${k.durable ? 'durable' : 'written'}-${k.rate}${k.name === '' ? '' : '-steady'}`;
      latJson[key] = runs;
      for (const [i, behind] of k.behind.entries()) latJson[`raw-${key}${behind > 0 ? '-behind' : ''}`] = raws[i]!;
      const refUs = k.durable ? fsyncUs : atomics.oneWayAbUs.p50;
      const rawP99 = summarize(raws[0]!.map((r) => r.latencyUs.p99)).median;
      const goals = k.rate !== 100_000 ? {} : k.durable
        ? { p50: (m: number) => ({ target: `< 2x fdatasync (${(2 * refUs).toFixed(0)} µs)`, met: m < 2 * refUs }) }
        : { p50: (m: number) => ({ target: '< 50 µs', met: m < 50 }), p99: (m: number) => ({ target: `< 500 µs (raw pipeline ${rawP99.toFixed(0)})`, met: m < 500 }) };
      const level = k.durable ? 'always, durable point' : 'never, written-visible';
      const sleeps = (label: string, rs: readonly LatencyRun[]): Row => row(`${label}writer sleeps`, level, summarize(rs.map((r) => r.writerSleepsPerSec)), '/s');
      for (const [i, behind] of k.behind.entries()) {
        const label = `raw pipeline${behind > 0 ? ' + fdatasync behind every 8 MiB' : ''} ${n(k.rate)}/s${k.name} `;
        rows.push(...latencyRows(label, level, raws[i]!, refUs).slice(0, 2), sleeps(label, raws[i]!));
      }
      rows.push(...latencyRows(`reactive-log ${n(k.rate)}/s${k.name} `, level, runs, refUs, goals), sleeps(`reactive-log ${n(k.rate)}/s${k.name} `, runs));
      const missing = runs.reduce((a, r) => a + r.missing, 0);
      if (missing > 0) warnings.push(`latency ${key}: ${missing} records never reached the consumer before the deadline`);
    }
    tables.push({
      title: 'Latency, producer to consumer (100 B, for-await iterator in the producer\'s process), from each record\'s intended send time', rows,
      notes: [
        'x raw: p50 over the raw Atomics one-way p50 (written-visible) or over one raw 100 B write+fdatasync (durable point).',
        'Raw pipeline: the same pacer and rate, the record copied into shared memory, a writer thread that writes it to a file (fdatasync after each write for the durable point) and publishes, the consumer on the pacer\'s thread reading it back (bench/lib/latency.ts rawLatencyRun); each run in turn with one of reactive-log. "+ fdatasync behind": a helper thread started with the writer fdatasyncs the file every 8 MiB written, as reactive-log\'s write-behind does under never (on libuv\'s thread pool).',
        `"after ${cfg.latSteadyWarmMs / 1000} s": the measured window starts after ${cfg.latSteadyWarmMs / 1000} s of paced warm-up, past reactive-log's first write-behind call (at the first 8 MiB written, about 0.8 s in at 100,000/s); the rows without it measure from ${cfg.latWarmMs / 1000} s in.`,
        'Each run in a fresh process (bench/lib/cell.ts). The pacer spins in place without allocating and returns to the event loop when the consumer has records or 1 ms passed.',
        'Writer sleeps: how often the writer thread slept for want of records over the paced part, per second (reactive-log: stats().writerSleeps; the raw pipeline: its writer\'s count). Each sleep ends in a wake-up of the writer thread; the "raw wake-up" rows measure that wake-up with no log (bench/lib/limits.ts parkedWakeUps: a thread that watches a counter for 50 µs and then sleeps in Atomics.wait, the other thread spinning and storing it 100,000 times a second, notifying once a sleep). The records that arrive while a wake-up is slow wait with it.',
      ],
    });
    json.latency = latJson;
  }

  if (runs('fanout')) {
    log(`fan-out: ${n(cfg.fanN)} records, 0/1/2/4 consumers in threads and as a pool...`);
    const fan: FanOutRun[] = [];
    for (const mode of ['threads', 'pool'] as const) {
      for (const k of mode === 'threads' ? [0, 1, 2, 4] : [1, 2, 4]) fan.push(await inDir(b.root, `fan-${mode}-${k}`, (d) => fanOut(d, mode, k, cfg.fanN)));
    }
    const alone = fan[0]!.producerRecPerSec;
    tables.push({
      title: 'Fan-out: producer (never) with N consumers from the oldest record (100 B)',
      rows: fan.map((f) => (f.consumers === 0
        ? row('producer alone', 'never', one(alone), 'rec/s producer', { xPeer: 1 })
        : row(`${f.consumers} consumer${f.consumers > 1 ? 's' : ''} (${f.mode === 'threads' ? 'worker threads' : `pool of ${f.consumers}`})`, 'never',
          one(f.slowestConsumerRecPerSec), 'rec/s slowest consumer', { xPeer: f.producerRecPerSec / alone }))),
      peer: 'x producer alone',
      notes: ['x producer alone: the producer\'s rate in that run over the producer alone (its slowdown). One run each. Thread consumers start after the producer opened and wait on its shared memory (npm run bench:threads compares them with consumers that tail the files).'],
    });
    json.fan = fan;
  }

  if (runs('slow')) {
    log(`slow consumer: ${n(cfg.slowN)} records into a 4 MiB log with blockingMinimumRetention...`);
    const slow = await inDir(b.root, 'slow', (d) => slowConsumer(d, cfg.slowN, 20, 4 * MiB));
    tables.push({
      title: 'Slow transactional consumer (20 µs a record) against maxTotalBytes 4 MiB + blockingMinimumRetention',
      rows: [
        row('producer rate (held back)', 'never', one(slow.producerRecPerSec), 'rec/s'),
        row('consumer rate', 'clientTx, group 1000', one(slow.consumerRecPerSec), 'rec/s'),
        row('longest append() wait', '-', one(slow.longestAppendMs), 'ms'),
        row('records lost or out of order', '-', one(slow.records - slow.consumed + slow.gaps), 'records', { target: '0', met: slow.consumed === slow.records && slow.gaps === 0 }),
      ],
    });
    json.slow = slow;
  }

  if (runs('tx')) {
    log('transactional commits...');
    const per: number[] = [];
    const grp: number[] = [];
    await inDir(b.root, 'tx-small', (small) => inDir(b.root, 'tx-large', async (large) => {
      await fillLog(small, cfg.txPerRecordN);
      await fillLog(large, cfg.txGroupN);
      for (let r = 0; r < cfg.txReps; r++) {
        const a = await consumeOnce({ logDir: small, consumerId: `per-${r}`, form: 'process', max: null });
        per.push(a.records / a.seconds);
        const g = await consumeOnce({ logDir: large, consumerId: `grp-${r}`, form: 'process', everyRecords: 1000, max: null });
        grp.push(g.records / g.seconds);
      }
    }));
    const perRec = summarize(per);
    tables.push({
      title: 'Transactional commit rate (clientTx, nonblockingProcess, 100 B)',
      rows: [
        row('raw 100 B write+fdatasync', '-', rawStart.tinyFsyncs, 'fsyncs/s', { xRaw: 1 }),
        row('reactive-log, durable commit per record', 'fsynced', perRec, 'rec/s', { xRaw: perRec.median / rawStart.tinyFsyncs.median }),
        row('reactive-log, group commit every 1,000', 'fsynced per group', summarize(grp), 'rec/s'),
      ],
      notes: ['Per commit (calls, the raw probe paired with each rep): npm run bench:consume.'],
    });
  }

  if (runs('recovery')) {
    log(`recovery: fill ${cfg.fill / MiB} MiB, ${cfg.kills} x kill -9 + open, ${cfg.cleanOpens} x clean open...`);
    const reopen = await inDir(b.root, 'reopen', (d) => reopenAfterKill(d, join(b.root, 'reopen-warm'), cfg.fill, cfg.more, cfg.kills, cfg.cleanOpens));
    const killOpen = summarize(reopen.afterKill.map((k) => k.openMs));
    const cleanOpen = summarize(reopen.afterCleanCloseMs);
    tables.push({
      title: `Recovery: Producer.open of a ${cfg.fill / MiB} MiB log in a fresh process${b.quick ? ' (quick: the target is for 1 GiB)' : ''}`,
      rows: [
        row('raw fdatasync, 100 B append', '-', one(fsyncUs / 1000), 'ms'),
        row('reactive-log after kill -9', '-', killOpen, 'ms', { xRaw: killOpen.median / (fsyncUs / 1000), target: '< 150 ms', met: killOpen.median < 150 }),
        row('reactive-log after a clean close', '-', cleanOpen, 'ms', { xRaw: cleanOpen.median / (fsyncUs / 1000) }),
      ],
    });
    json.reopen = reopen;
  }

  log('physical limits (end)...');
  execFileSync('sync'); // the end probe should meet the disk, not the writeback the workloads left behind
  const rawEnd = probeRawLimit(b.root, cfg.probeReps, cfg.probeMs);
  tables.unshift(limitsTable(rawStart, rawEnd, atomics.oneWayAbUs.p50, atomics.rttUs.p50));
  for (const k of ['seq1MiB', 'buffered1MiB', 'tinyFsyncs'] as const) warnings.push(...driftWarnings(`the raw probe ${k}`, rawStart[k], rawEnd[k], 'ratios to raw are unreliable'));

  for (const t of tables) printTable(t);
  if (matrix !== null) log('\npeers: what an acknowledgement means and what each stores per record: docs/performance.md, "The peers"');
  printTargets(tables);
  for (const w of warnings) log(w);

  if (only.size === SECTIONS.length) {
    if (matrix !== null) writeChart(b.resultPath('suite.svg'), 'Append throughput, payload MB/s', `${b.started.slice(0, 16)}Z${b.quick ? ' (quick)' : ''}, ${b.machine}; medians of ${cfg.tp.reps} reps`, 'payload MB/s', matrixChart(matrix, SIZES));
    writeFileSync(b.resultPath('suite.md'), `Run ${b.started}${b.quick ? ' (quick)' : ''}; ${b.machine}; filesystem: ${b.filesystem}\n\n${markdownTables(tables)}\n${warnings.map((w) => `${w}\n`).join('')}`);
    log(`results: ${b.writeResults({ config: cfg, raw: { start: rawStart, end: rawEnd, atomics }, tables, warnings, ...json })}, suite.md, suite.svg`);
  }
});

function limitsTable(start: RawLimit, end: RawLimit, oneWayUs: number, rttUs: number): Table {
  const mb = (s: Summary): Summary => summarize(s.samples.map((v) => v / 1e6));
  return {
    title: 'Physical limits (start -> end of the run)',
    rows: [
      row('1 MiB write+fdatasync', 'start', mb(start.seq1MiB), 'MB/s'),
      row('1 MiB write+fdatasync', 'end', mb(end.seq1MiB), 'MB/s'),
      row('1 MiB write, page cache', 'start', mb(start.buffered1MiB), 'MB/s'),
      row('1 MiB write, page cache', 'end', mb(end.buffered1MiB), 'MB/s'),
      row('100 B write+fdatasync', 'start', start.tinyFsyncs, 'fsyncs/s'),
      row('100 B write+fdatasync', 'end', end.tinyFsyncs, 'fsyncs/s'),
      row('Atomics notify/waitAsync one-way, 100 µs apart, p50', '-', one(oneWayUs), 'µs'),
      row('Atomics round trip, p50', '-', one(rttUs), 'µs'),
    ],
  };
}

/** The cold-read rows: each reader's first reads, with glibc's malloc as it comes and pinned (PINNED_MALLOC_ENV). */
interface ColdReads {
  readonly raw: Summary;
  readonly rlog: Summary;
  readonly pinnedRaw: Summary;
  readonly pinnedRlog: Summary;
}

/** `reps` cold reads each of the raw reader with CRC and reactive-log (bench/lib/read-cells.ts), alternating; then as many with the allocator pinned. */
async function coldReads(dir: string, warmDir: string, records: number, reps: number): Promise<ColdReads> {
  const pair = async (env: Readonly<Record<string, string>> | undefined): Promise<{ raw: Summary; rlog: Summary }> => {
    const raw: number[] = [];
    const rlog: number[] = [];
    const cell = (reader: ColdReadSpec['reader']): Promise<number> => inFreshProcess<number>(READ_CELLS, 'coldRead', { reader, warmDir, warmRecords: records, dir, records } satisfies ColdReadSpec, env);
    for (let r = 0; r < reps; r++) {
      if (r % 2 === 0) {
        raw.push(await cell('raw-crc'));
        rlog.push(await cell('reactive-log'));
      } else {
        rlog.push(await cell('reactive-log'));
        raw.push(await cell('raw-crc'));
      }
    }
    return { raw: summarize(raw), rlog: summarize(rlog) };
  };
  const asIs = await pair(undefined);
  const pinned = await pair(PINNED_MALLOC_ENV);
  return { ...asIs, pinnedRaw: pinned.raw, pinnedRlog: pinned.rlog };
}

function readTable(readDir: string, records: number, reps: number, reads: Awaited<ReturnType<typeof readBoth>>, cold: ColdReads): Table {
  const rawRead = pageCacheRecords(segmentFiles(readDir), reps);
  rawReadParse(readDir, false, records); // warm-up
  const times = (f: () => number): Summary => summarize(Array.from({ length: reps }, f));
  const rawParse = times(() => rawReadParse(readDir, false, records));
  const rawParseCrc = times(() => rawReadParse(readDir, true, records));
  const rawMessages = times(() => rawReadParse(readDir, false, records, true));
  const rate = (secs: readonly number[]): Summary => summarize(secs.map((s) => records / s));
  const goal = (f: Summary): Partial<Row> => ({ xRaw: f.median / rawParse.median, target: '>= 1.0x raw parse', met: f.median / rawParse.median >= 1.0 });
  const file = rate(reads.fileModeSec);
  const inProcess = rate(reads.inProcessSec);
  const tail = rate(reads.tailFileModeSec);
  const coldX = cold.rlog.median / cold.raw.median;
  const pinnedX = cold.pinnedRlog.median / cold.pinnedRaw.median;
  return {
    title: 'One reader from the oldest record (100 B records, page cache)',
    rows: [
      row('raw 1 MiB preads', '-', rawRead, 'rec/s eq (B/s / 104)', { xRaw: rawRead.median / rawParse.median }),
      row('raw read-and-parse (1 MiB preads, a view per record)', '-', rawParse, 'rec/s', { xRaw: 1 }),
      row('raw read-and-parse + CRC-32 per frame', '-', rawParseCrc, 'rec/s', { xRaw: rawParseCrc.median / rawParse.median }),
      row('raw read-and-parse, a Message with a Buffer view per record', '-', rawMessages, 'rec/s', { xRaw: rawMessages.median / rawParse.median }),
      row('reactive-log iter(), file mode, warm', '-', file, 'rec/s', goal(file)),
      row('reactive-log iter(), producer open, warm', '-', inProcess, 'rec/s', goal(inProcess)),
      row('reactive-log for await of tail(), file mode, warm', '-', tail, 'rec/s', { xRaw: tail.median / rawParse.median }),
      row('cold: raw read-and-parse + CRC-32, first read in a process', '-', cold.raw, 'rec/s', { xRaw: cold.raw.median / rawParse.median }),
      row('cold: reactive-log iter(), first read in a process', '-', cold.rlog, 'rec/s', { xRaw: cold.rlog.median / rawParse.median, target: `>= 0.8x cold raw + CRC (${coldX.toFixed(2)}x)`, met: coldX >= 0.8 }),
      row('cold, malloc pinned: raw read-and-parse + CRC-32', '-', cold.pinnedRaw, 'rec/s', { xRaw: cold.pinnedRaw.median / rawParse.median }),
      row('cold, malloc pinned: reactive-log iter()', '-', cold.pinnedRlog, 'rec/s', { xRaw: cold.pinnedRlog.median / rawParse.median, target: `>= 0.8x cold raw + CRC, pinned (${pinnedX.toFixed(2)}x)`, met: pinnedX >= 0.8 }),
    ],
    notes: [
      'x raw: over the raw read-and-parse of the same segment files, without CRC checks (bench/lib/limits.ts rawReadParse: 1 MiB preads into fresh buffers, as the reader reads, each record handed out as a Uint8Array view). reactive-log hands out each record as a message (offset, timestamp, key, headers and a Buffer view of its bytes) through an iterator. The raw row with a Message per record makes the same objects with nothing around them: the most any reader with this API can reach.',
      'Warm: the reader checks each frame\'s CRC the first time its thread reads it; the measured passes come after a warm-up pass and trust those frames while the files keep their stamps (docs/architecture.md, "Reader caches"). Cold: each read in a fresh process (bench/lib/read-cells.ts), after the same reader read another log of the same shape, so that compiled code and allocator are warm and only the checks differ.',
      'Malloc pinned: the same cold cells with glibc\'s mmap and trim thresholds fixed in the environment (bench/lib/run.ts PINNED_MALLOC_ENV), so that neither reader gets fresh pages from the kernel for its read buffers; as it comes, each process lands in one state or the other (docs/performance.md, "Reads and the allocator").',
    ],
  };
}
