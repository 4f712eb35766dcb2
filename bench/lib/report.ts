/** The results table (stdout) and the JSON file. */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Summary } from './stats.js';

export interface Target {
  readonly op: '>=' | '<=' | '<';
  readonly value: number;
}

export interface Row {
  readonly workload: string;
  readonly figure: Summary;
  readonly unit: string;
  /** null: informational, no target. */
  readonly target: Target | null;
  /** The figure (median) against the physical limit of the same run; null where it has no meaning. */
  readonly ratio: number | null;
  /** What the ratio compares with when it is not the raw write+fdatasync rate, e.g. "fsync". */
  readonly ratioOf?: string;
  /** Write workloads: the figure against the raw buffered (page cache, no fsync) write rate. */
  readonly cacheRatio?: number;
}

export function met(row: Row): boolean | null {
  if (row.target === null) return null;
  const v = row.figure.median;
  return row.target.op === '>=' ? v >= row.target.value : row.target.op === '<=' ? v <= row.target.value : v < row.target.value;
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function printTable(rows: readonly Row[]): void {
  const header = ['workload', 'median', 'min .. max', 'unit', 'target', 'met', 'ratio to raw', 'to page cache'];
  const lines = rows.map((r) => {
    const m = met(r);
    return [
      r.workload,
      fmt(r.figure.median),
      r.figure.samples.length > 1 ? `${fmt(r.figure.min)} .. ${fmt(r.figure.max)}` : '',
      r.unit,
      r.target === null ? '-' : `${r.target.op} ${fmt(r.target.value)}`,
      m === null ? '-' : m ? 'yes' : 'NO',
      r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x${r.ratioOf ? ` ${r.ratioOf}` : ''}`,
      r.cacheRatio === undefined ? '' : `${r.cacheRatio.toFixed(2)}x`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const right = new Set([1, 2, 6, 7]);
  const pad = (cells: string[]): string => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  console.log(pad(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(pad(l));
}

/** Writes `data` as JSON to `path` (through a temporary file, so a reader never sees half of it). */
export function writeJson(path: string, data: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(tmp, path);
}
