/**
 * The suite's output: one table per workload (system, durability level, median with min..max, the
 * ratio to the raw limit and to reactive-log, the target and whether it was met), and the SVG chart.
 */
import { writeFileSync } from 'node:fs';
import { fmt } from './report.js';
import type { Summary } from './stats.js';

export interface SuiteRow {
  readonly system: string;
  readonly level: string;
  readonly figure: Summary | null;
  readonly unit: string;
  /** Median over the raw limit of the same run (null: no meaning). */
  readonly xRaw: number | null;
  /** Median over reactive-log's median in the same table (null: no meaning). */
  readonly xRlog: number | null;
  readonly target: string | null;
  readonly met: boolean | null;
  /** Set when the system did not run: why. */
  readonly skipped?: string;
}

export interface SuiteTable {
  readonly title: string;
  readonly rows: readonly SuiteRow[];
  readonly notes?: readonly string[];
}

export function printSuiteTable(t: SuiteTable): void {
  console.log(`\n## ${t.title}`);
  const header = ['system', 'durability', 'median', 'min .. max', 'unit', 'x raw', 'x reactive-log', 'target', 'met'];
  const lines = t.rows.map((r) => r.skipped !== undefined
    ? [r.system, r.level, `skipped: ${r.skipped}`, '', '', '', '', r.target ?? '', r.target === null ? '' : 'n/a']
    : [
      r.system, r.level, r.figure === null ? '-' : fmt(r.figure.median),
      r.figure !== null && r.figure.samples.length > 1 ? `${fmt(r.figure.min)} .. ${fmt(r.figure.max)}` : '',
      r.unit, r.xRaw === null ? '' : `${r.xRaw.toFixed(2)}x`, r.xRlog === null ? '' : `${r.xRlog.toFixed(2)}x`,
      r.target ?? '', r.met === null ? '' : r.met ? 'met' : 'MISSED',
    ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.filter((l) => !l[2]!.startsWith('skipped')).map((l) => l[i]!.length)));
  const right = new Set([2, 3, 5, 6]);
  const pad = (cells: string[]): string => cells.map((c, i) => (c.startsWith('skipped') ? c : right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  console.log(pad(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(pad(l));
  for (const n of t.notes ?? []) console.log(`  ${n}`);
}

/** The tables as Markdown (docs/performance.md copies them). */
export function markdownTables(tables: readonly SuiteTable[]): string {
  const out: string[] = [];
  for (const t of tables) {
    out.push(`#### ${t.title}`, '', '| system | durability | median | min .. max | unit | x raw | x reactive-log | target | met |', '| --- | --- | ---: | ---: | --- | ---: | ---: | --- | --- |');
    for (const r of t.rows) {
      if (r.skipped !== undefined) out.push(`| ${r.system} | ${r.level} | skipped: ${r.skipped} | | | | | ${r.target ?? ''} | |`);
      else {
        out.push(`| ${r.system} | ${r.level} | ${r.figure === null ? '-' : fmt(r.figure.median)} | ${r.figure && r.figure.samples.length > 1 ? `${fmt(r.figure.min)} .. ${fmt(r.figure.max)}` : ''} | ${r.unit} | ${r.xRaw === null ? '' : `${r.xRaw.toFixed(2)}x`} | ${r.xRlog === null ? '' : `${r.xRlog.toFixed(2)}x`} | ${r.target ?? ''} | ${r.met === null ? '' : r.met ? 'met' : '**MISSED**'} |`);
      }
    }
    for (const n of t.notes ?? []) out.push('', n);
    out.push('');
  }
  return out.join('\n');
}

export interface ChartGroup {
  /** e.g. "100 B, fsynced before ack". */
  readonly label: string;
  /** The raw limit in the same unit (drawn as a line), or null. */
  readonly raw: number | null;
  readonly bars: ReadonlyArray<{ readonly system: string; readonly value: number | null; readonly min?: number; readonly max?: number }>;
}

const COLORS: Record<string, string> = { 'reactive-log': '#d62728', lmdb: '#1f77b4', 'better-sqlite3': '#2ca02c', redis: '#9467bd', nats: '#ff7f0e' };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A horizontal bar chart on a log scale: one group per (record size, level), one bar per system. */
export function writeChart(path: string, title: string, subtitle: string, unit: string, groups: readonly ChartGroup[]): void {
  const systems = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.system)))];
  const barH = 11;
  const groupGap = 16;
  const left = 190;
  const plotW = 620;
  const top = 70;
  const values = groups.flatMap((g) => [...g.bars.map((b) => b.max ?? b.value ?? NaN), g.raw ?? NaN]).filter((v) => Number.isFinite(v) && v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  const x = (v: number): number => left + (Math.log10(v / lo) / Math.log10(hi / lo)) * plotW;
  const height = top + groups.reduce((a, g) => a + g.bars.length * barH + groupGap, 0) + 60;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + plotW + 40}" height="${height}" font-family="sans-serif" font-size="11">`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="10" y="20" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="38" fill="#444">${esc(subtitle)}</text>`,
  ];
  for (let d = lo; d <= hi; d *= 10) {
    parts.push(`<line x1="${x(d)}" y1="${top - 8}" x2="${x(d)}" y2="${height - 45}" stroke="#ddd"/>`, `<text x="${x(d)}" y="${height - 32}" text-anchor="middle" fill="#444">${fmtShort(d)}</text>`);
  }
  parts.push(`<text x="${left + plotW / 2}" y="${height - 16}" text-anchor="middle">${esc(unit)} (log scale); black tick: the raw limit measured in the same run; whiskers: min..max</text>`);
  let y = top;
  for (const g of groups) {
    parts.push(`<text x="${left - 8}" y="${y + (g.bars.length * barH) / 2 + 4}" text-anchor="end" font-weight="bold">${esc(g.label)}</text>`);
    const y0 = y;
    for (const b of g.bars) {
      if (b.value !== null && b.value > 0) {
        parts.push(`<rect x="${left}" y="${y + 1}" width="${Math.max(1, x(b.value) - left)}" height="${barH - 2}" fill="${COLORS[b.system] ?? '#888'}"/>`);
        if (b.min !== undefined && b.max !== undefined) parts.push(`<line x1="${x(Math.max(b.min, lo))}" y1="${y + barH / 2}" x2="${x(b.max)}" y2="${y + barH / 2}" stroke="#222" stroke-width="0.8"/>`);
        parts.push(`<text x="${x(b.max ?? b.value) + 4}" y="${y + barH - 2}" font-size="9" fill="#333">${fmtShort(b.value)}</text>`);
      } else {
        parts.push(`<text x="${left + 4}" y="${y + barH - 2}" font-size="9" fill="#999">${esc(b.system)}: skipped</text>`);
      }
      y += barH;
    }
    if (g.raw !== null) parts.push(`<line x1="${x(g.raw)}" y1="${y0 - 2}" x2="${x(g.raw)}" y2="${y + 2}" stroke="black" stroke-width="2"/>`);
    y += groupGap;
  }
  systems.forEach((s, i) => {
    parts.push(`<rect x="${left + i * 120}" y="${48}" width="10" height="10" fill="${COLORS[s] ?? '#888'}"/>`, `<text x="${left + i * 120 + 14}" y="${57}">${esc(s)}</text>`);
  });
  parts.push('</svg>');
  writeFileSync(path, `${parts.join('\n')}\n`);
}

function fmtShort(v: number): string {
  if (v >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}
