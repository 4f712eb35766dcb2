/**
 * The one runner of the suite and the one-question scripts: arguments (`--quick` or BENCH_QUICK=1,
 * `--dir <base>`, `--name value` flags, positional numbers), the machine banner, a temporary root
 * removed at the end with every child process, repetitions in fresh directories, a cell run in its own
 * process, statistics, the CPU other processes take meanwhile, and the results file.
 *
 * Full runs write bench/results/<name>.json (and what the script adds beside it); quick runs write
 * bench/results/quick/ (not committed), so a quick run never replaces the figures the docs cite.
 */
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export interface Bench {
  readonly name: string;
  readonly quick: boolean;
  /** The run's temporary directory (logs and raw probes), on the filesystem given by --dir. */
  readonly root: string;
  readonly started: string;
  /** node, CPUs and RAM, in one line. */
  readonly machine: string;
  /** The `df -T` line of the root's filesystem. */
  readonly filesystem: string;
  /** The value after `--name` (one of VALUE_FLAGS), or null. */
  flag(name: string): string | null;
  /** Whether `--name` was given. */
  has(name: string): boolean;
  /** The sections `--only a,b` names (every one of `all` without it); an unknown name throws. */
  only<S extends string>(all: readonly S[]): ReadonlySet<S>;
  /** The positional argument `i` as a number, or `dflt`. */
  num(i: number, dflt: number): number;
  /** Full or quick configuration. */
  pick<T>(full: T, quick: T): T;
  /** Where a results file goes (bench/results/, or bench/results/quick/ in a quick run). */
  resultPath(file: string): string;
  /** Writes `data` as <name>.json to resultPath (through a temporary file). */
  writeResults(data: Record<string, unknown>): string;
}

/** The flags that take a value; every other `--name` is a switch. */
const VALUE_FLAGS = ['dir', 'only', 'sizes'];

export const log = (s: string): void => console.log(s);
export const n = (x: number): string => x.toLocaleString('en-US');

/** Runs a benchmark: banner, temporary root, `body`, cleanup (also on error and on SIGINT/SIGTERM). */
export async function runBench(name: string, title: string, body: (b: Bench) => Promise<void>): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (f: string): string | null => {
    const i = argv.indexOf(`--${f}`);
    return i >= 0 ? argv[i + 1] ?? '' : null;
  };
  const quick = argv.includes('--quick') || process.env.BENCH_QUICK === '1';
  const positional = argv.filter((a, i) => !a.startsWith('--') && !(i > 0 && VALUE_FLAGS.includes(argv[i - 1]!.slice(2))));
  const root = tempRoot(flag('dir') ?? tmpdir());
  const started = new Date().toISOString();
  const machine = `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`;
  const filesystem = execFileSync('df', ['-T', root], { encoding: 'utf8' }).trim().split('\n').pop() ?? '';
  const results = fileURLToPath(new URL(`../results/${quick ? 'quick/' : ''}`, import.meta.url));
  const b: Bench = {
    name, quick, root, started, machine, filesystem, flag,
    has: (f) => argv.includes(`--${f}`),
    only(all) {
      const named = flag('only')?.split(',') ?? all;
      const unknown = named.filter((s) => !(all as readonly string[]).includes(s));
      if (unknown.length > 0) throw new Error(`--only: unknown section ${unknown.join(', ')} (sections: ${all.join(', ')})`);
      return new Set(named as typeof all);
    },
    num: (i, dflt) => (positional[i] === undefined ? dflt : Number(positional[i])),
    pick: (full, q) => (quick ? q : full),
    resultPath: (file) => join(results, file),
    writeResults(data) {
      const path = join(results, `${name}.json`);
      writeJson(path, { started, finished: new Date().toISOString(), quick, machine, filesystem, ...data });
      return path;
    },
  };
  log(`${title}${quick ? ' (quick)' : ''}: ${machine}\n  files in ${root}: ${filesystem}\n  load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const t0 = Date.now();
  try {
    await body(b);
    log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; the run took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    cleanupAll();
  }
}

/** Writes `data` as JSON to `path` (through a temporary file, so a reader never sees half of it). */
function writeJson(path: string, data: unknown): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(`${path}.tmp`, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

// ---------------------------------------------------------------------------------------------
// Cleanup: the temporary directories (segment files of up to a GiB) and the child processes

const dirs: string[] = [];
const children = new Set<ChildProcess>();
let installed = false;

function tempRoot(base: string): string {
  if (!installed) {
    installed = true;
    process.on('exit', cleanupAll);
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.on(sig, () => {
        cleanupAll();
        process.exit(sig === 'SIGINT' ? 130 : 143);
      });
    }
  }
  const d = mkdtempSync(join(base, 'rlog-bench-'));
  dirs.push(d);
  return d;
}

/** Kills `child` (SIGKILL) at cleanup if it still runs. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

function cleanupAll(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Runs `fn` in a fresh directory `name` under `root`, removed right after. */
export async function inDir<T>(root: string, name: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = join(root, name);
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `reps` runs of `fn`, each in a fresh directory, after `warmups` runs whose results are dropped. */
export async function repeat<T>(root: string, name: string, reps: number, fn: (dir: string, rep: number) => Promise<T>, warmups = 0): Promise<T[]> {
  const out: T[] = [];
  for (let r = -warmups; r < reps; r++) {
    const v = await inDir(root, `${name}-${r}`, (d) => fn(d, r));
    if (r >= 0) out.push(v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Cells in their own process

const CELL = fileURLToPath(new URL('./cell.ts', import.meta.url));

/**
 * Runs `script` (plain node, or under tsx) with `args` and returns the JSON of its last stdout line.
 * A child that fails throws with the end of its stderr.
 */
export async function inChild<T>(script: string, args: readonly string[], opts: { tsx?: boolean; timeoutMs?: number; env?: Readonly<Record<string, string>> } = {}): Promise<T> {
  const env = opts.env === undefined ? undefined : { ...process.env, ...opts.env };
  const run = promisify(execFile)(process.execPath, [...(opts.tsx ? ['--import', 'tsx'] : []), script, ...args], { timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024, env });
  trackChild(run.child);
  try {
    const { stdout } = await run;
    return JSON.parse(stdout.trim().split('\n').pop()!) as T;
  } catch (e) {
    const err = e as { stderr?: string; killed?: boolean; message?: string };
    const why = err.killed ? `timed out after ${opts.timeoutMs ?? 300_000} ms` : (err.stderr ?? '').trim().split('\n').slice(-4).join(' ') || err.message;
    throw new Error(`${script} failed: ${why}`);
  }
}

/**
 * Calls `fn` of the workload module `module` with `arg` in a fresh process (bench/lib/cell.ts): no
 * heap, thread or file of earlier work weighs on it. `env`: variables added to the child's environment.
 */
export function inFreshProcess<T>(module: URL, fn: string, arg: unknown, env?: Readonly<Record<string, string>>): Promise<T> {
  return inChild<T>(CELL, [JSON.stringify({ module: module.href, fn, arg })], { tsx: true, env });
}

/**
 * glibc's malloc with both thresholds fixed: buffers of up to 4 MiB come from the heap, and freed
 * memory goes back to the kernel only past 1 GiB free at the heap's top. A reader that reads into a
 * fresh 1 MiB buffer per read then reuses freed buffers' pages, where glibc's default (thresholds
 * that follow the sizes freed) gives some of them back and takes fresh ones, which the kernel zeroes
 * and maps page by page while the read copies into them (docs/performance.md, "Reads and the
 * allocator"). Whether a process lands in one state or the other varies from process to process.
 */
export const PINNED_MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '4194304', MALLOC_TRIM_THRESHOLD_: '1073741824' };

/**
 * inFreshProcess, then deletes `arg.dir`: the kernel drops that cell's dirty pages instead of writing
 * them back while the next cell runs (cells that keep their logs slow the cells after them).
 */
export async function inFreshCell<T>(module: URL, fn: string, arg: { readonly dir: string; readonly [k: string]: unknown }): Promise<T> {
  try {
    return await inFreshProcess<T>(module, fn, arg);
  } finally {
    rmSync(arg.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics and time

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: readonly number[];
}

/** Median (mean of the two middle values for an even count), min and max of `xs` (at least one). */
export function summarize(xs: readonly number[]): Summary {
  if (xs.length === 0) throw new Error('summarize: no samples');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, samples: xs };
}

export const one = (x: number): Summary => summarize([x]);

export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** Nearest-rank percentiles of `xs` (sorted in place). */
export function percentiles(xs: Float64Array): Percentiles {
  if (xs.length === 0) return { count: 0, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN };
  xs.sort();
  const at = (q: number): number => xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))]!;
  return { count: xs.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: xs[xs.length - 1]! };
}

/** Now, in milliseconds, from process.hrtime.bigint (monotonic, ns resolution). */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CPU seconds of this process (every thread) since `from`. */
export function cpuSeconds(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

// ---------------------------------------------------------------------------------------------
// Other load on the machine (Linux /proc/stat): on 2 cores any other process shows in the figures

/** Other processes using more than this many cores during a run make its figures suspect. */
export const OTHERS_WARN = 0.15;

/** Machine-wide busy CPU ms since boot (user+nice+system+irq+softirq+steal), or null off Linux. */
function machineBusyMs(): number | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    return ((f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** Starts watching; the function returned gives the cores other processes used since (null off Linux). */
export function watchOthers(): () => number | null {
  const at = nowMs();
  const busy = machineBusyMs();
  const own = process.cpuUsage();
  return () => {
    const now = machineBusyMs();
    if (busy === null || now === null) return null;
    return Math.max(0, (now - busy - cpuSeconds(own) * 1000) / (nowMs() - at));
  };
}
