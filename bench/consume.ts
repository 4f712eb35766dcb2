/**
 * One question: what a transactional consumer (clientTx) costs, beside the raw fsync and page-cache
 * read of the same disk, measured in the same run.
 *
 *   node --import tsx bench/consume.ts [--quick] [--dir <base>]
 *
 * Two logs of 100-byte records are filled first (never, then flush; not timed) and the producer closed,
 * so the consumers read the files. Every run opens a consumer with a fresh id: a new cursor at the
 * oldest record.
 * 1. A durable commit per record (the default), through nonblockingProcess and for...of iter(), against
 *    a 100-byte pwrite in place + fdatasync (a cursor commit's shape) probed right before each rep
 *    (target >= 0.9x) and at the start; plus the fs calls of a commit, counted in untimed runs.
 * 2. Group commit (everyRecords 1,000 and 10,000) against reading the page cache and one raw fsync per
 *    group one after the other. Target: >= 1,000,000 rec/s.
 * 3. nonTx from the oldest record against the raw page-cache read of the same files.
 * A full run writes bench/results/consume.json.
 */
import { join } from 'node:path';
import { driftWarnings, pageCacheRecords, probeFsyncLimit, tinyInPlaceOnce } from './lib/limits.js';
import { log, n, one, runBench, summarize, type Summary } from './lib/run.js';
import { finish, row, target, type Row, type Table } from './lib/table.js';
import { consumeOnce, fillLog, segmentFiles, type ConsumeRun, type FsCalls } from './lib/workloads.js';

const GROUPS = [1000, 10_000] as const;
const FORMS = { process: 'nonblockingProcess', iter: 'for...of iter()' } as const;
type Form = keyof typeof FORMS;

await runBench('consume', 'reactive-log consume benchmark', async (b) => {
  const cfg = b.pick(
    { probeReps: 5, probeMs: 1000, pairMs: 500, reps: 7, perRecordSeconds: 3, largeN: 5_000_000, countN: 5_000, countGroups: 200 },
    { probeReps: 3, probeMs: 400, pairMs: 250, reps: 3, perRecordSeconds: 1, largeN: 1_000_000, countN: 2_000, countGroups: 50 },
  );
  let ids = 0;
  const freshId = (what: string): string => `${what}-${++ids}`;
  const checked = (run: ConsumeRun, expected: number): ConsumeRun => {
    if (run.records !== expected) throw new Error(`consumed ${run.records} records, expected ${expected}`);
    return run;
  };

  log('raw fsync limit (start)...');
  const fsyncStart = probeFsyncLimit(b.root, cfg.probeReps, cfg.probeMs);
  const fsyncRate = fsyncStart.inPlace.median;
  // The small log takes about perRecordSeconds a run at the raw fsync rate.
  const smallN = Math.min(500_000, Math.max(2_000, Math.round(fsyncRate * cfg.perRecordSeconds)));
  const small = join(b.root, 'small');
  const large = join(b.root, 'large');
  log(`fill: ${n(smallN)} and ${n(cfg.largeN)} records (not timed)...`);
  await fillLog(small, smallN);
  await fillLog(large, cfg.largeN);
  const files = segmentFiles(large);
  const readStart = pageCacheRecords(files, cfg.probeReps);

  log(`per-record commit: ${cfg.reps} x ${n(smallN)} records per form, each after a ${cfg.pairMs} ms raw fsync probe...`);
  const perRecord: Record<Form, Array<{ recPerSec: number; paired: number }>> = { process: [], iter: [] };
  for (const form of Object.keys(FORMS) as Form[]) await consumeOnce({ logDir: small, consumerId: freshId('warm'), form, max: Math.ceil(smallN / 5) });
  for (let r = 0; r < cfg.reps; r++) {
    for (const form of Object.keys(FORMS) as Form[]) {
      const raw = tinyInPlaceOnce(b.root, 'raw-pair.bin', cfg.pairMs);
      const run = checked(await consumeOnce({ logDir: small, consumerId: freshId('rec'), form, max: null }), smallN);
      perRecord[form].push({ recPerSec: run.records / run.seconds, paired: run.records / run.seconds / raw });
    }
  }

  log(`group commit (everyRecords ${GROUPS.map(n).join(', ')}) and nonTx: ${cfg.reps} x ${n(cfg.largeN)} records per form...`);
  const kinds = [...GROUPS.map((g) => ({ key: `group${g}`, every: g, tx: true })), { key: 'nonTx', every: 1, tx: false }];
  const cpuBound: Record<string, Record<Form, number[]>> = {};
  for (let r = -1; r < cfg.reps; r++) {
    for (const k of kinds) {
      for (const form of Object.keys(FORMS) as Form[]) {
        const spec = { logDir: large, consumerId: k.tx ? freshId(k.key) : null, form, everyRecords: k.every };
        if (r < 0) await consumeOnce({ ...spec, max: Math.ceil(cfg.largeN / 10) }); // warm-up
        else ((cpuBound[k.key] ??= { process: [], iter: [] })[form]).push(rate(checked(await consumeOnce({ ...spec, max: null }), cfg.largeN)));
      }
    }
  }

  log('fs calls per commit (untimed, counted)...');
  const counted: Record<string, { records: number; commits: number; fs: FsCalls }> = {};
  for (const form of Object.keys(FORMS) as Form[]) {
    const run = await consumeOnce({ logDir: small, consumerId: freshId('count'), form, max: cfg.countN, countFs: true });
    counted[`perRecord-${form}`] = { records: run.records, commits: run.committed!, fs: run.fs! };
  }
  const g = await consumeOnce({ logDir: large, consumerId: freshId('count-group'), form: 'process', everyRecords: GROUPS[0], max: cfg.countGroups * GROUPS[0], countFs: true });
  counted['group1000-process'] = { records: g.records, commits: g.committed!, fs: g.fs! };

  log('raw limits (end)...');
  const readEnd = pageCacheRecords(files, cfg.probeReps);
  const fsyncEnd = probeFsyncLimit(b.root, cfg.probeReps, cfg.probeMs);

  const calls = (c: FsCalls, ...keys: string[]): number => keys.reduce((a, k) => a + (c[k]?.calls ?? 0), 0);
  const syncs = (c: FsCalls): number => calls(c, 'fdatasync', 'fsync');
  /** A consumer that reads the page cache and fsyncs once per `every` records, one after the other. */
  const groupLimit = (every: number): number => 1 / (1 / readStart.median + 1 / (fsyncRate * every));
  const raws = (when: string, inPlace: Summary, append: Summary, read: Summary): Row[] => [
    row('raw 100 B pwrite in place+fdatasync', when, inPlace, 'fsyncs/s', { xRaw: 1, rawOf: 'fsync' }),
    row('raw 100 B append+fdatasync', when, append, 'fsyncs/s'),
    row('raw page-cache read, 1 MiB preads', when, read, 'rec/s eq (B/s / 104)', { xRaw: 1, rawOf: 'read' }),
  ];
  const commitRows: Row[] = [...raws('start', fsyncStart.inPlace, fsyncStart.append, readStart)];
  for (const form of Object.keys(FORMS) as Form[]) {
    const f = summarize(perRecord[form].map((t) => t.recPerSec));
    const c = counted[`perRecord-${form}`]!;
    const paired = summarize(perRecord[form].map((t) => t.paired));
    commitRows.push(
      row(`commit per record, ${FORMS[form]}`, 'clientTx', f, 'rec/s', { xRaw: f.median / fsyncRate, rawOf: 'fsync' }),
      row('  over the raw probe just before each rep', 'clientTx', paired, 'x raw fsync', target('>=', 0.9, paired.median)),
      row('  fdatasync+fsync per commit', 'clientTx', one(syncs(c.fs) / c.commits), 'calls', target('<=', 1, syncs(c.fs) / c.commits)),
      row('  write calls per commit', 'clientTx', one(calls(c.fs, 'write', 'writev') / c.commits), 'calls'),
    );
  }
  for (const every of GROUPS) {
    for (const form of Object.keys(FORMS) as Form[]) {
      const f = summarize(cpuBound[`group${every}`]![form]);
      commitRows.push(row(`everyRecords ${n(every)}, ${FORMS[form]}`, 'clientTx', f, 'rec/s', { xRaw: f.median / groupLimit(every), rawOf: 'read+fsync', ...target('>=', 1_000_000, f.median) }));
    }
  }
  const gc = counted['group1000-process']!;
  commitRows.push(row(`  fdatasync+fsync per ${n(GROUPS[0])} records`, 'clientTx', one((syncs(gc.fs) / gc.commits) * GROUPS[0]), 'calls', target('<=', 1, (syncs(gc.fs) / gc.commits) * GROUPS[0])));
  for (const form of Object.keys(FORMS) as Form[]) {
    const f = summarize(cpuBound.nonTx![form]);
    commitRows.push(row(`nonTx, ${FORMS[form]}`, '-', f, 'rec/s', { xRaw: f.median / readStart.median, rawOf: 'read' }));
  }
  commitRows.push(...raws('end', fsyncEnd.inPlace, fsyncEnd.append, readEnd));
  const tables: Table[] = [{
    title: `Consumers over ${n(smallN)} records (commit per record) and ${n(cfg.largeN)} records (100 B, producer closed, page cache)`,
    rows: commitRows,
    notes: [
      'x raw fsync: over the raw pwrite-in-place + fdatasync rate of the start probe (a cursor commit is a slot overwrite and one fdatasync).',
      'x raw read+fsync: over reading the page cache and one raw fsync per group, one after the other. x raw read: over 1 MiB preads of the same files.',
      `fs calls of the untimed runs: ${Object.entries(counted).map(([k, c]) => `${k} (${n(c.records)} records, ${n(c.commits)} committed): ${Object.entries(c.fs).map(([f, v]) => `${f} ${n(v.calls)}`).join(', ')}`).join('; ')}`,
    ],
  }];
  finish(b, tables, { config: cfg, smallN, raw: { fsyncStart, fsyncEnd, readStart, readEnd }, perRecord, cpuBound, counted }, [
    ...driftWarnings('the raw in-place fsync rate', fsyncStart.inPlace, fsyncEnd.inPlace, 'the start-probe ratios are unreliable (the paired ones less so)'),
    ...driftWarnings('the raw page-cache read rate', readStart, readEnd, 'read ratios are unreliable'),
  ]);
});

function rate(run: ConsumeRun): number {
  return run.records / run.seconds;
}
