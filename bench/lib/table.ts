/**
 * The one table writer of the suite and the scripts: one table per question, a row per figure with
 * its median and min .. max over repetitions, its ratio to the physical limit measured in the same
 * run (*x raw*, or to the limit `rawOf` names) and to reactive-log or another reference (*x peer*),
 * and its target. Printed to the console and as Markdown; throughput also as an SVG chart.
 */
import { writeFileSync } from 'node:fs';
import { log, type Bench, type Summary } from './run.js';

export interface Row {
  readonly label: string;
  /** The durability level, or '-'. */
  readonly level: string;
  readonly figure: Summary | null;
  readonly unit: string;
  /** Median over the physical limit of the same run (null: no meaning). */
  readonly xRaw: number | null;
  /** What xRaw compares with when the table's raw column is not enough ("fsync", "inline"...). */
  readonly rawOf?: string;
  /** Median over the reference of the x peer column (reactive-log's in the throughput tables). */
  readonly xPeer: number | null;
  readonly target: string | null;
  readonly met: boolean | null;
  /** Set when the cell does not exist for this system (a mode it has not): why. */
  readonly na?: string;
}

export interface Table {
  readonly title: string;
  readonly rows: readonly Row[];
  /** The header of the x peer column (default "x reactive-log"). */
  readonly peer?: string;
  readonly notes?: readonly string[];
}

/** A row; `extra` sets ratios and the target. */
export function row(label: string, level: string, figure: Summary | null, unit: string, extra: Partial<Row> = {}): Row {
  return { label, level, figure, unit, xRaw: null, xPeer: null, target: null, met: null, ...extra };
}

/** A target on a row's median: { target: '>= 3,000,000', met }. */
export function target(op: '>=' | '<' | '<=', value: number, median: number): Pick<Row, 'target' | 'met'> {
  return { target: `${op} ${fmt(value)}`, met: op === '>=' ? median >= value : op === '<' ? median < value : median <= value };
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const HEADER = ['system / workload', 'durability', 'median', 'min .. max', 'unit', 'x raw', 'x peer', 'target', 'met'];
const RIGHT = new Set([2, 3, 5, 6]);

function cells(r: Row, md: boolean): string[] {
  if (r.na !== undefined) return [r.label, r.level, `n/a: ${r.na}`, '', '', '', '', r.target ?? '', ''];
  const f = r.figure;
  return [
    r.label, r.level, f === null ? '-' : fmt(f.median), f !== null && f.samples.length > 1 ? `${fmt(f.min)} .. ${fmt(f.max)}` : '', r.unit,
    r.xRaw === null ? '' : `${r.xRaw.toFixed(2)}x${r.rawOf ? ` ${r.rawOf}` : ''}`, r.xPeer === null ? '' : `${r.xPeer.toFixed(2)}x`,
    r.target ?? '', r.met === null ? '' : r.met ? 'met' : md ? '**MISSED**' : 'MISSED',
  ];
}

/** The header, and the columns shown: x peer only when some row has one. */
function columns(t: Table): { header: string[]; keep: (i: number) => boolean } {
  const peer = t.rows.some((r) => r.xPeer !== null);
  return { header: HEADER.map((h, i) => (i === 6 ? t.peer ?? 'x reactive-log' : h)), keep: (i) => i !== 6 || peer };
}

export function printTable(t: Table): void {
  log(`\n## ${t.title}`);
  const { header, keep } = columns(t);
  const lines = t.rows.map((r) => cells(r, false));
  const widths = header.map((h, i) => Math.max(h.length, ...lines.filter((l) => !l[2]!.startsWith('n/a')).map((l) => l[i]!.length)));
  const pad = (cs: string[]): string => cs.map((c, i) => (c.startsWith('n/a') ? c : RIGHT.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).filter((_c, i) => keep(i)).join('  ').trimEnd();
  log(pad(header));
  log(pad(widths.map((w) => '-'.repeat(w))));
  for (const l of lines) log(pad(l));
  for (const note of t.notes ?? []) log(`  ${note}`);
}

/** The tables as Markdown (docs/performance.md copies them). */
export function markdownTables(tables: readonly Table[]): string {
  const out: string[] = [];
  for (const t of tables) {
    const { header, keep } = columns(t);
    const line = (cs: readonly string[]): string => `| ${cs.filter((_c, i) => keep(i)).join(' | ')} |`;
    out.push(`#### ${t.title}`, '', line(header), line(header.map((_h, i) => (RIGHT.has(i) ? '---:' : '---'))));
    for (const r of t.rows) out.push(line(cells(r, true)));
    for (const note of t.notes ?? []) out.push('', note);
    out.push('');
  }
  return out.join('\n');
}

/** Prints how many targets the tables met, and which they missed. */
export function printTargets(tables: readonly Table[]): void {
  const targeted = tables.flatMap((t) => t.rows.filter((r) => r.met !== null));
  const missed = targeted.filter((r) => r.met === false);
  log(`\n${targeted.length - missed.length} of ${targeted.length} targets met${missed.length ? `; MISSED: ${missed.map((r) => `${r.label} ${r.level} (${r.figure ? fmt(r.figure.median) : '-'} ${r.unit}; ${r.target})`).join('; ')}` : ''}`);
}

/**
 * The end of a one-question script: its tables, the targets they met, `warnings`, then the results
 * file (`data` with the tables).
 */
export function finish(b: Bench, tables: readonly Table[], data: Record<string, unknown>, warnings: readonly string[] = []): void {
  for (const t of tables) printTable(t);
  printTargets(tables);
  for (const w of warnings) log(w);
  log(`\nresults: ${b.writeResults({ ...data, tables })}`);
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
