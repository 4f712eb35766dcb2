/**
 * The append-throughput matrix: reactive-log, the peers and the raw writes (the physical limit, as one
 * more system) x record size x durability level, repeated in alternating system order (forward, then
 * backward), each system's cells in one fresh child process per repetition (lib/peers.ts). Then the
 * tables: each figure against the raw cell of the same size and level and against reactive-log.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { LEVELS, LEVEL_TEXT, RAW_SYSTEM, SYSTEMS, batchRecords, runSystem, type Cell, type Level, type SystemName } from './peers.js';
import { log, n, summarize } from './run.js';
import { row, type ChartGroup, type Row, type Table } from './table.js';

export const SIZES = [16, 100, 1024, 64 * 1024] as const;

/** rec/s samples per system, size and level; or why the system has no such cell (a mode it has not). */
export type Matrix = Record<string, { samples: number[]; na: string | null }>;
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
  const systems: readonly SystemName[] = [RAW_SYSTEM, ...SYSTEMS];
  for (const sys of systems) for (const size of cfg.sizes) for (const level of LEVELS) m[key(sys, size, level)] = { samples: [], na: null };
  for (let r = 0; r < cfg.reps; r++) {
    for (const sys of r % 2 === 0 ? systems : [...systems].reverse()) {
      const dir = join(root, `tp-${sys}-${r}`);
      const cells: Cell[] = cfg.sizes.flatMap((size) => LEVELS.map((level) => ({
        recordBytes: size, level, warmMs: cfg.warmMs, measureMs: cfg.measureMs, batchRecords: batchRecords(size), dir: join(dir, `${size}-${level}`),
      })));
      const t0 = Date.now();
      const res = await runSystem(sys, cells, ports, 120_000 + cells.length * (cfg.warmMs + cfg.measureMs) * 4);
      rmSync(dir, { recursive: true, force: true });
      for (const c of res) {
        const slot = m[key(sys, c.recordBytes, c.level)]!;
        if (c.skipped !== undefined) slot.na = c.skipped;
        else slot.samples.push(c.recPerSec!);
      }
      const shown = res.find((c) => c.recordBytes === (cfg.sizes.includes(100) ? 100 : cfg.sizes[0]) && c.level === 'always');
      log(`  rep ${r + 1}, ${sys}: ${((Date.now() - t0) / 1000).toFixed(1)} s; ${sizeText(shown?.recordBytes ?? 0)} always: ${shown?.recPerSec ? `${n(Math.round(shown.recPerSec))} rec/s` : shown?.skipped ?? '?'}`);
    }
  }
  return m;
}

/** reactive-log's targets by size and level, and its margin targets over peers (100 B, always). */
const TARGETS: Record<string, { text: string; ok: (recPerSec: number, xRaw: number) => boolean }> = {
  '100|always': { text: '>= 3,000,000 rec/s and >= 0.6x raw', ok: (v, x) => v >= 3_000_000 && x >= 0.6 },
  '100|never': { text: '>= 5,000,000 rec/s', ok: (v) => v >= 5_000_000 },
  '1024|always': { text: '>= 800,000 rec/s', ok: (v) => v >= 800_000 },
  '65536|never': { text: '>= 0.6x raw bandwidth', ok: (_v, x) => x >= 0.6 },
  '65536|periodic': { text: '>= 0.6x raw bandwidth', ok: (_v, x) => x >= 0.6 },
  '65536|always': { text: '>= 0.6x raw bandwidth', ok: (_v, x) => x >= 0.6 },
};
const MARGINS: Partial<Record<SystemName, number>> = { lmdb: 4, 'better-sqlite3': 10 };
const RAW_HOW: Record<Level, string> = { never: '1 MiB writes, page cache', periodic: '1 MiB writes, fdatasync each second', always: '1 MiB write+fdatasync' };

export function matrixTables(m: Matrix, sizes: readonly number[]): Table[] {
  return sizes.map((size) => {
    const rows: Row[] = [];
    for (const level of LEVELS) {
      const raw = summarize(m[key(RAW_SYSTEM, size, level)]!.samples);
      rows.push(row('raw limit', LEVEL_TEXT[level], raw, `rec/s eq (${RAW_HOW[level]})`, { xRaw: 1 }));
      const rlog = summarize(m[key('reactive-log', size, level)]!.samples).median;
      for (const sys of SYSTEMS) {
        const c = m[key(sys, size, level)]!;
        const goal = sys === 'reactive-log' ? TARGETS[`${size}|${level}`] : undefined;
        const margin = size === 100 && level === 'always' ? MARGINS[sys] : undefined;
        const targetText = goal?.text ?? (margin ? `reactive-log >= ${margin}x this` : null);
        if (c.na !== null) {
          rows.push(row(sys, LEVEL_TEXT[level], null, 'rec/s', { na: c.na, target: targetText }));
          continue;
        }
        const f = summarize(c.samples);
        const xRaw = f.median / raw.median;
        rows.push(row(sys, LEVEL_TEXT[level], f, 'rec/s', {
          xRaw, xPeer: f.median / rlog, target: targetText,
          met: goal ? goal.ok(f.median, xRaw) : margin ? rlog / f.median >= margin : null,
        }));
      }
    }
    return { title: `Append throughput, ${sizeText(size)} records`, rows };
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
