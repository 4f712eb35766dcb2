/**
 * The throughput matrix: every system x record size x durability level, repeated in alternating
 * system order (forward, then backward), each system's cells in one fresh child process per
 * repetition. Then the tables: each figure against the raw limit of the same run and reactive-log.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RawLimit } from './limits.js';
import { INFO, LEVELS, LEVEL_TEXT, RAW_SYSTEM, SYSTEMS, batchRecords, missing, runSystem, type Cell, type Level, type SystemName } from './peers.js';
import { summarize } from './stats.js';
import type { ChartGroup, SuiteRow, SuiteTable } from './suite-report.js';

export const SIZES = [16, 100, 1024, 64 * 1024] as const;

/** rec/s samples per system, size and level; or the reason the cell did not run. */
export type Matrix = Record<string, { samples: number[]; skipped: string | null }>;
const key = (sys: SystemName, size: number, level: Level): string => `${sys}|${size}|${level}`;

export interface MatrixConfig {
  readonly reps: number;
  readonly warmMs: number;
  readonly measureMs: number;
}

export async function runMatrix(root: string, cfg: MatrixConfig, ports: { redisPort?: number; natsPort?: number }, serverSkips: Partial<Record<string, string>>, log: (s: string) => void): Promise<Matrix> {
  const m: Matrix = {};
  // The raw writes run as a system too, in the same alternation, so each repetition measures the
  // limit beside the systems, on the disk as they find it.
  const systems: readonly SystemName[] = [RAW_SYSTEM, ...SYSTEMS];
  for (const sys of systems) for (const size of SIZES) for (const level of LEVELS) m[key(sys, size, level)] = { samples: [], skipped: null };
  const unavailable = (sys: SystemName): string | null => missing(sys) ?? (INFO[sys].server ? serverSkips[INFO[sys].server] ?? null : null);
  for (let r = 0; r < cfg.reps; r++) {
    const order = r % 2 === 0 ? systems : [...systems].reverse();
    for (const sys of order) {
      const why = unavailable(sys);
      if (why !== null) {
        for (const size of SIZES) for (const level of LEVELS) m[key(sys, size, level)]!.skipped = why;
        continue;
      }
      const dir = join(root, `tp-${sys}-${r}`);
      const cells: Cell[] = SIZES.flatMap((size) => LEVELS.map((level) => ({
        recordBytes: size, level, warmMs: cfg.warmMs, measureMs: cfg.measureMs, batchRecords: batchRecords(size), dir: join(dir, `${size}-${level}`),
      })));
      const t0 = Date.now();
      const res = await runSystem(sys, cells, ports, 120_000 + cells.length * (cfg.warmMs + cfg.measureMs) * 4);
      rmSync(dir, { recursive: true, force: true });
      for (const c of res) {
        const slot = m[key(sys, c.recordBytes, c.level)]!;
        if (c.skipped !== undefined) slot.skipped = c.skipped;
        else if (c.recPerSec !== undefined) slot.samples.push(c.recPerSec);
      }
      const at100 = res.find((c) => c.recordBytes === 100 && c.level === 'always');
      log(`  rep ${r + 1}, ${sys}: ${((Date.now() - t0) / 1000).toFixed(1)} s; 100 B always ${at100?.recPerSec ? `${Math.round(at100.recPerSec).toLocaleString('en-US')} rec/s` : at100?.skipped ?? '?'}`);
    }
  }
  return m;
}

/** The raw limit of a level in payload bytes/s: page cache writes, or 1 MiB write+fdatasync for always. */
export function rawBytesPerSec(raw: RawLimit, level: Level): number {
  return level === 'always' ? raw.seq1MiB.median : raw.buffered1MiB.median;
}

interface Target {
  readonly text: string;
  readonly ok: (rlog: number, xRaw: number) => boolean;
}

/** reactive-log's targets by size and level, and its margin targets over peers (100 B, always). */
const TARGETS: Record<string, Target> = {
  '100|always': { text: '>= 3,000,000 rec/s and >= 0.6x raw', ok: (v, x) => v >= 3_000_000 && x >= 0.6 },
  '100|never': { text: '>= 5,000,000 rec/s', ok: (v) => v >= 5_000_000 },
  '1024|always': { text: '>= 800,000 rec/s', ok: (v) => v >= 800_000 },
  '65536|never': { text: '>= 0.6x raw bandwidth', ok: (_v, x) => x >= 0.6 },
  '65536|periodic': { text: '>= 0.6x raw bandwidth', ok: (_v, x) => x >= 0.6 },
  '65536|always': { text: '>= 0.6x raw bandwidth', ok: (_v, x) => x >= 0.6 },
};
const MARGINS: Partial<Record<SystemName, number>> = { lmdb: 4, 'better-sqlite3': 10 };

export function matrixTables(m: Matrix, raw: RawLimit): SuiteTable[] {
  const tables: SuiteTable[] = [];
  for (const size of SIZES) {
    const rows: SuiteRow[] = [];
    for (const level of LEVELS) {
      const rawCell = m[key(RAW_SYSTEM, size, level)];
      const rawFigure = rawCell !== undefined && rawCell.samples.length > 0 ? summarize(rawCell.samples) : summarize([rawBytesPerSec(raw, level) / size]);
      const rawRecs = rawFigure.median;
      const rawHow = level === 'always' ? '1 MiB write+fdatasync' : level === 'periodic' ? '1 MiB writes, fdatasync each second' : '1 MiB writes, page cache';
      rows.push({ system: 'raw limit', level: LEVEL_TEXT[level], figure: rawFigure, unit: `rec/s eq (${rawHow}${rawCell?.samples.length ? ', in the matrix' : ', probe'})`, xRaw: 1, xRlog: null, target: null, met: null });
      const rlog = m[key('reactive-log', size, level)]!;
      const rlogMedian = rlog.samples.length > 0 ? summarize(rlog.samples).median : NaN;
      for (const sys of SYSTEMS) {
        const c = m[key(sys, size, level)]!;
        const target = sys === 'reactive-log' ? TARGETS[`${size}|${level}`] : undefined;
        const margin = size === 100 && level === 'always' ? MARGINS[sys] : undefined;
        if (c.samples.length === 0) {
          rows.push({ system: sys, level: LEVEL_TEXT[level], figure: null, unit: 'rec/s', xRaw: null, xRlog: null, target: target?.text ?? null, met: null, skipped: c.skipped ?? 'no result' });
          continue;
        }
        const f = summarize(c.samples);
        const xRaw = f.median / rawRecs;
        rows.push({
          system: sys, level: LEVEL_TEXT[level], figure: f, unit: 'rec/s', xRaw, xRlog: f.median / rlogMedian,
          target: target?.text ?? (margin ? `reactive-log >= ${margin}x this` : null),
          met: target ? target.ok(f.median, xRaw) : margin ? rlogMedian / f.median >= margin : null,
        });
      }
    }
    tables.push({ title: `Append throughput, ${size >= 1024 ? `${size / 1024} KiB` : `${size} B`} records`, rows });
  }
  return tables;
}

export function matrixChart(m: Matrix, raw: RawLimit): ChartGroup[] {
  const groups: ChartGroup[] = [];
  for (const size of SIZES) {
    for (const level of LEVELS) {
      groups.push({
        label: `${size >= 1024 ? `${size / 1024} KiB` : `${size} B`}, ${LEVEL_TEXT[level]}`,
        raw: ((m[key(RAW_SYSTEM, size, level)]?.samples.length ? summarize(m[key(RAW_SYSTEM, size, level)]!.samples).median * size : rawBytesPerSec(raw, level))) / 1e6,
        bars: SYSTEMS.map((sys) => {
          const c = m[key(sys, size, level)]!;
          if (c.samples.length === 0) return { system: sys, value: null };
          const f = summarize(c.samples.map((v) => (v * size) / 1e6));
          return { system: sys, value: f.median, min: f.min, max: f.max };
        }),
      });
    }
  }
  return groups;
}
