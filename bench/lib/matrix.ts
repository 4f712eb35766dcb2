/**
 * The append-throughput matrix: reactive-log and the peers x record size x durability level, each
 * system's cells in one fresh child process per repetition (lib/peers.ts), in alternating system order
 * (forward, then backward). Just before each system, the raw 1 MiB writes of the same cells run in
 * their own child: each system sample is paired with that raw sample, so that the disk's drift shows
 * in the ratio. The other raw configurations (16 MiB writes, a two-thread pipeline) run once a
 * repetition in the same alternation. Then the tables: each figure against its paired raw cell, the
 * best raw configuration and reactive-log.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { LEVELS, LEVEL_TEXT, RAW_OTHERS, RAW_SYSTEM, SYSTEMS, batchRecords, runSystem, type Cell, type CellResult, type Level, type SystemName } from './peers.js';
import { log, n, summarize } from './run.js';
import { row, type ChartGroup, type Row, type Table } from './table.js';

export const SIZES = [16, 100, 1024, 64 * 1024] as const;

/**
 * rec/s samples per system, size and level, and for reactive-log and the peers the raw 1 MiB sample
 * run just before each (`raw`, index for index); or why the system has no such cell (a mode it has not).
 */
export type Matrix = Record<string, { samples: number[]; raw: number[]; na: string | null }>;
const key = (sys: SystemName, size: number, level: Level): string => `${sys}|${size}|${level}`;
const sizeText = (size: number): string => (size >= 1024 ? `${size / 1024} KiB` : `${size} B`);

export interface MatrixConfig {
  readonly reps: number;
  readonly warmMs: number;
  readonly measureMs: number;
  readonly sizes: readonly number[];
}

/** Runs the matrix; a system that fails throws (every peer must run: lib/peers.ts ensurePeers). */
export async function runMatrix(root: string, cfg: MatrixConfig, ports: { redisPort: number; natsPort: number }): Promise<Matrix> {
  const m: Matrix = {};
  for (const sys of [RAW_SYSTEM, ...RAW_OTHERS, ...SYSTEMS]) for (const size of cfg.sizes) for (const level of LEVELS) m[key(sys, size, level)] = { samples: [], raw: [], na: null };
  const shownSize = cfg.sizes.includes(100) ? 100 : cfg.sizes[0]!;
  const run = async (sys: SystemName, r: number): Promise<CellResult[]> => {
    const dir = join(root, `tp-${sys}-${r}`);
    const cells: Cell[] = cfg.sizes.flatMap((size) => LEVELS.map((level) => ({
      recordBytes: size, level, warmMs: cfg.warmMs, measureMs: cfg.measureMs, batchRecords: batchRecords(size), dir: join(dir, `${size}-${level}`),
    })));
    const res = await runSystem(sys, cells, ports, 120_000 + cells.length * (cfg.warmMs + cfg.measureMs) * 4);
    rmSync(dir, { recursive: true, force: true });
    for (const c of res) {
      const slot = m[key(sys, c.recordBytes, c.level)]!;
      if (c.skipped !== undefined) slot.na = c.skipped;
      else slot.samples.push(c.recPerSec!);
    }
    return res;
  };
  const shown = (res: readonly CellResult[]): string => {
    const c = res.find((x) => x.recordBytes === shownSize && x.level === 'always');
    return c?.recPerSec ? `${n(Math.round(c.recPerSec))} rec/s` : c?.skipped ?? '?';
  };
  const order = [...RAW_OTHERS, ...SYSTEMS];
  for (let r = 0; r < cfg.reps; r++) {
    for (const sys of r % 2 === 0 ? order : [...order].reverse()) {
      const t0 = Date.now();
      const raw = SYSTEMS.includes(sys) ? await run(RAW_SYSTEM, r) : null;
      const res = await run(sys, r);
      for (const c of raw ?? []) {
        const slot = m[key(sys, c.recordBytes, c.level)]!;
        if (slot.na === null) slot.raw.push(c.recPerSec!);
      }
      log(`  rep ${r + 1}, ${sys}: ${((Date.now() - t0) / 1000).toFixed(1)} s; ${sizeText(shownSize)} always: ${shown(res)}${raw ? ` (raw 1 MiB just before: ${shown(raw)})` : ''}`);
    }
  }
  return m;
}

/**
 * reactive-log's targets by size and level; at `always`, every size, also >= 1.0x its paired raw and
 * >= 0.8x the best raw configuration's median (xBest). And its margins over peers (100 B, always).
 */
const TARGETS: Record<string, { text: string; ok: (recPerSec: number, xRaw: number) => boolean }> = {
  '100|always': { text: '>= 3,000,000 rec/s', ok: (v) => v >= 3_000_000 },
  '1024|always': { text: '>= 800,000 rec/s', ok: (v) => v >= 800_000 },
  '65536|never': { text: '>= 0.6x raw bandwidth', ok: (_v, x) => x >= 0.6 },
  '65536|periodic': { text: '>= 0.6x raw bandwidth', ok: (_v, x) => x >= 0.6 },
};
const MARGINS: Partial<Record<SystemName, number>> = { lmdb: 5, 'better-sqlite3': 10 };
/** The raw configurations' rows: label, chunk text, and the name a target gives the best one. */
const RAW_ROW: Partial<Record<SystemName, { label: string; how: string; short: string }>> = {
  [RAW_SYSTEM]: { label: 'raw limit', how: '1 MiB chunks', short: '1 MiB' },
  'raw 16 MiB writes': { label: 'raw limit, 16 MiB chunks', how: '16 MiB chunks', short: '16 MiB' },
  'raw pipeline': { label: 'raw limit, two-thread pipeline', how: '1 MiB chunks in a worker', short: 'pipeline' },
};
const RAW_SYNC: Record<Level, string> = { never: 'page cache', periodic: 'fdatasync each second', always: 'fdatasync each chunk' };

/**
 * reactive-log's target at `size` and `level` and whether it is met (`best`: the best raw configuration,
 * its name and median; `always`: reactive-log's median at `always` for the same size). At 100 B under
 * `never`: at least 1.0x its paired raw page-cache write (0.8x is the floor the text also reports) and
 * never slower than `always` on the same workload.
 */
function rlogTarget(size: number, level: Level, v: number, xRaw: number, best: { short: string; median: number }, always: number): Pick<Row, 'target' | 'met'> {
  const t = TARGETS[`${size}|${level}`];
  if (size === 100 && level === 'never') {
    const floor = xRaw >= 0.8 ? 'above' : 'below';
    return { target: `>= 1.0x raw (floor 0.8x: ${floor}), >= always (${(v / always).toFixed(2)}x)`, met: xRaw >= 1.0 && v >= always };
  }
  if (level !== 'always') return { target: t?.text ?? null, met: t ? t.ok(v, xRaw) : null };
  const xBest = v / best.median;
  return {
    target: `${t ? `${t.text}; ` : ''}>= 1.0x raw, >= 0.8x best raw (${xBest.toFixed(2)}x ${best.short})`,
    met: (t?.ok(v, xRaw) ?? true) && xRaw >= 1.0 && xBest >= 0.8,
  };
}

export function matrixTables(m: Matrix, sizes: readonly number[]): Table[] {
  return sizes.map((size) => {
    const rows: Row[] = [];
    for (const level of LEVELS) {
      const raws = [RAW_SYSTEM, ...RAW_OTHERS].map((sys) => ({ ...RAW_ROW[sys]!, f: summarize(m[key(sys, size, level)]!.samples) }));
      const raw = raws[0]!.f;
      const best = raws.reduce((a, b) => (b.f.median > a.f.median ? b : a));
      for (const r of raws) rows.push(row(r.label, LEVEL_TEXT[level], r.f, `rec/s eq (${r.how}, ${RAW_SYNC[level]})`, { xRaw: r.f.median / raw.median }));
      const rlog = summarize(m[key('reactive-log', size, level)]!.samples).median;
      const rlogAlways = summarize(m[key('reactive-log', size, 'always')]!.samples).median;
      for (const sys of SYSTEMS) {
        const c = m[key(sys, size, level)]!;
        const margin = size === 100 && level === 'always' ? MARGINS[sys] : undefined;
        if (c.na !== null) {
          rows.push(row(sys, LEVEL_TEXT[level], null, 'rec/s', { na: c.na, target: margin ? `reactive-log >= ${margin}x this` : null }));
          continue;
        }
        const f = summarize(c.samples);
        const xRaw = summarize(c.samples.map((v, i) => v / c.raw[i]!)).median;
        rows.push(row(sys, LEVEL_TEXT[level], f, 'rec/s', {
          xRaw, xPeer: f.median / rlog,
          ...(sys === 'reactive-log' ? rlogTarget(size, level, f.median, xRaw, { short: best.short, median: best.f.median }, rlogAlways)
            : margin ? { target: `reactive-log >= ${margin}x this`, met: rlog / f.median >= margin } : {}),
        }));
      }
    }
    return {
      title: `Append throughput, ${sizeText(size)} records`,
      rows,
      notes: ['x raw: a system\'s median of its per-pair ratios (each sample over the raw 1 MiB sample run just before it); a raw row\'s median over the raw 1 MiB median. Best raw: the raw row with the highest median.'],
    };
  });
}

export function matrixChart(m: Matrix, sizes: readonly number[]): ChartGroup[] {
  return sizes.flatMap((size) => LEVELS.map((level) => ({
    label: `${sizeText(size)}, ${LEVEL_TEXT[level]}`,
    raw: (summarize(m[key(RAW_SYSTEM, size, level)]!.samples).median * size) / 1e6,
    bars: SYSTEMS.map((sys) => {
      const c = m[key(sys, size, level)]!;
      if (c.samples.length === 0) return { system: sys, value: null };
      const f = summarize(c.samples.map((v) => (v * size) / 1e6));
      return { system: sys, value: f.median, min: f.min, max: f.max };
    }),
  })));
}
