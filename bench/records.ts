/**
 * One question: what keys, headers, batches and the seek by time cost, side by side in one run.
 *
 *   node --import tsx bench/records.ts [--quick] [--dir <base>] [--base <path to another build's dist/index.js>]
 *
 * Each cell runs in a fresh process, the cells of one row alternating with the others' (so drift of
 * the machine spreads over all of them), beside the raw page-cache write rate of the same run; each
 * append cell's log is deleted once measured (and read), so no cell runs under the writeback of the
 * gigabytes the cells before it wrote:
 * 1. 100 B appends (SyncPolicy.never, up to flush): plain, with a 16 B key and two short headers
 *    (target: at least 0.8x plain), in batches of 100 (target: at least the rate of single appends),
 *    and plain records of the keyed record's length (137 B): what the keyed row pays for its bytes
 *    alone, apart from encoding the key and headers.
 *    With --base, plain appends of that build too (the "no regression" question of format 2).
 * 2. Reading the plain log back with iter() (and the base build's reading of its own log).
 * 3. Warm seeks on a log of 1,000,000 records: Whence.timestamp against Whence.position (target:
 *    within 2x).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeRawLimit } from './lib/limits.js';
import { inFreshProcess, log, n, runBench, summarize, type Summary } from './lib/run.js';
import { finish, row, target, type Row, type Table } from './lib/table.js';
import { ON_DISK_RECORD_BYTES } from './lib/workloads.js';

const WORK = new URL('./lib/records-workloads.ts', import.meta.url);
const CURRENT = fileURLToPath(new URL('../dist/index.js', import.meta.url));

await runBench('records', 'reactive-log records benchmark: keys, headers, batches, seek by time', async (b) => {
  const cfg = b.pick({ reps: 5, n: 2_000_000, seekLog: 1_000_000, probes: 2000, probeMs: 1000 }, { reps: 2, n: 300_000, seekLog: 200_000, probes: 300, probeMs: 300 });
  const base = b.flag('base');
  if (base !== null && !existsSync(base)) throw new Error(`--base ${base}: no such file`);
  const builds = base === null ? [['current', CURRENT]] : [['current', CURRENT], ['base', base]];
  const kinds = ['plain', 'keyed', 'sameBytes', 'batch100'] as const;
  const rates = new Map<string, number[]>();
  const reads = new Map<string, number[]>();
  const add = (m: Map<string, number[]>, k: string, v: number): void => void m.set(k, [...(m.get(k) ?? []), v]);

  log(`appends of ${n(cfg.n)} x 100 B and reads, ${cfg.reps} rounds, cells alternating...`);
  for (let r = 0; r < cfg.reps; r++) {
    for (const [name, dist] of builds) {
      for (const kind of name === 'current' ? kinds : (['plain'] as const)) {
        const dir = join(b.root, `${name}-${kind}-${r}`);
        add(rates, `${name} ${kind}`, await inFreshProcess<number>(WORK, 'appendRate', { dist, dir, n: cfg.n, kind }));
        if (kind === 'plain') add(reads, name, await inFreshProcess<number>(WORK, 'readRate', { dist, dir }));
        // Gone before the next cell: its dirty pages are dropped, not written back under that cell.
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const raw = probeRawLimit(b.root, 3, cfg.probeMs);
  const rawRecs = raw.buffered1MiB.median / ON_DISK_RECORD_BYTES;

  log(`seeks on a log of ${n(cfg.seekLog)} records, ${cfg.probes} probes each...`);
  const seekDir = join(b.root, 'seek');
  await inFreshProcess<number>(WORK, 'appendRate', { dist: CURRENT, dir: seekDir, n: cfg.seekLog, kind: 'plain' });
  const seeks = new Map<string, number[]>();
  for (let r = 0; r < cfg.reps; r++) {
    for (const kind of ['position', 'timestamp'] as const) {
      add(seeks, kind, await inFreshProcess<number>(WORK, 'seekCost', { dist: CURRENT, dir: seekDir, kind, probes: cfg.probes, seed: r + 1 }));
    }
  }

  const s = (m: Map<string, number[]>, k: string): Summary => summarize(m.get(k)!);
  const plain = s(rates, 'current plain');
  const appendRows: Row[] = [
    row('raw 1 MiB writes, page cache', '-', summarize(raw.buffered1MiB.samples.map((v) => v / ON_DISK_RECORD_BYTES)), 'rec/s eq (B/s / 104)', { xRaw: 1 }),
    row('append, plain', 'never', plain, 'rec/s', { xRaw: plain.median / rawRecs, xPeer: 1 }),
    row('append, 16 B key + 2 headers', 'never', s(rates, 'current keyed'), 'rec/s', {
      xRaw: s(rates, 'current keyed').median / rawRecs, xPeer: s(rates, 'current keyed').median / plain.median, ...target('>=', 0.8 * plain.median, s(rates, 'current keyed').median),
    }),
    row('append, plain 137 B (the keyed record\'s bytes)', 'never', s(rates, 'current sameBytes'), 'rec/s', {
      xRaw: s(rates, 'current sameBytes').median / rawRecs, xPeer: s(rates, 'current sameBytes').median / plain.median,
    }),
    row('appendBatch of 100', 'never', s(rates, 'current batch100'), 'rec/s', {
      xRaw: s(rates, 'current batch100').median / rawRecs, xPeer: s(rates, 'current batch100').median / plain.median, ...target('>=', plain.median, s(rates, 'current batch100').median),
    }),
  ];
  if (base !== null) appendRows.push(row('append, plain, base build', 'never', s(rates, 'base plain'), 'rec/s', { xRaw: s(rates, 'base plain').median / rawRecs, xPeer: s(rates, 'base plain').median / plain.median }));
  const readRows: Row[] = [row('iter(), plain log', '-', s(reads, 'current'), 'rec/s', { xPeer: 1 })];
  if (base !== null) readRows.push(row('iter(), plain log, base build', '-', s(reads, 'base'), 'rec/s', { xPeer: s(reads, 'base').median / s(reads, 'current').median }));
  const pos = s(seeks, 'position');
  const tables: Table[] = [
    { title: 'appends, 100 B', rows: appendRows, peer: 'x plain (current)', notes: ['x raw: rec/s over the raw page-cache write rate (104 bytes a record).'] },
    { title: 'reads, 100 B', rows: readRows, peer: 'x current' },
    {
      title: `warm seek + first record, log of ${n(cfg.seekLog)}`,
      rows: [
        row('Whence.position', '-', pos, 'µs', { xPeer: 1 }),
        row('Whence.timestamp', '-', s(seeks, 'timestamp'), 'µs', { xPeer: s(seeks, 'timestamp').median / pos.median, ...target('<=', 2 * pos.median, s(seeks, 'timestamp').median) }),
      ],
      peer: 'x position',
    },
  ];
  finish(b, tables, { config: { ...cfg, base }, raw, rates: Object.fromEntries(rates), reads: Object.fromEntries(reads), seeks: Object.fromEntries(seeks) });
});
