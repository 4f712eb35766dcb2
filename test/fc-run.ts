/**
 * Running fast-check properties in this suite: one seed per file run (printed first, `SEED` replays
 * it, `FC_PROP` runs one property, with `FC_PATH` one case of it), a case count (`FC_RUNS` overrides
 * it), a per-case time limit for async properties, and a watchdog thread that kills the process if
 * a case blocks the event loop (a synchronous hang cannot be interrupted from inside the thread that
 * hangs). A failure is thrown with
 * fast-check's report and the exact command that replays it.
 */
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';

export const SEED = process.env.SEED !== undefined ? Number(process.env.SEED) : (Date.now() ^ (process.pid << 10)) | 0;
const PATH = process.env.FC_PATH;
/** Runs only the property with this label (the one a replayed FC_PATH belongs to); the others are skipped. */
const PROP = process.env.FC_PROP;
const RUNS = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : null;

/** Prints the seed of this run once, with the command that replays it. */
export function announceSeed(file: string): void {
  console.log(`fast-check seed ${SEED} (replay: SEED=${SEED} node --import tsx ${file})`);
}

// The watchdog: [0] generation, bumped at every arm and disarm; [1] 1 while a case runs, 2 to stop;
// [2] the case number; [3] the limit in ms.
const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads');
const w = new Int32Array(workerData.shared);
for (;;) {
  const gen = Atomics.load(w, 0);
  const state = Atomics.load(w, 1);
  if (state === 2) break;
  if (state === 0) { Atomics.wait(w, 0, gen); continue; }
  if (Atomics.wait(w, 0, gen, Atomics.load(w, 3)) === 'timed-out' && Atomics.load(w, 0) === gen && Atomics.load(w, 1) === 1) {
    // fs.writeSync, not process.stderr: a worker's stdio goes through the main thread, which is stuck.
    require('node:fs').writeSync(2, '\\nHANG: case ' + Atomics.load(w, 2) + ' of property "' + workerData.label + '" ran longer than ' +
      Atomics.load(w, 3) + ' ms (seed ' + workerData.seed + '); replay: SEED=' + workerData.seed + ' FC_PROP=' + workerData.label + ' FC_PATH=' + Atomics.load(w, 2) + ' node --import tsx ' + workerData.file + '\\n');
    process.kill(process.pid, 'SIGKILL');
  }
}
`;

class Watchdog {
  private readonly w = new Int32Array(new SharedArrayBuffer(16));
  private readonly worker: Worker;

  constructor(label: string, file: string, limitMs: number) {
    Atomics.store(this.w, 3, limitMs);
    this.worker = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: { shared: this.w.buffer, label, seed: SEED, file }, execArgv: [] });
    this.worker.unref();
  }

  arm(caseNumber: number): void {
    Atomics.store(this.w, 2, caseNumber);
    Atomics.store(this.w, 1, 1);
    Atomics.add(this.w, 0, 1); // publish the new state, then wake the watchdog so it restarts its clock
    Atomics.notify(this.w, 0);
  }

  disarm(): void {
    Atomics.store(this.w, 1, 0);
    Atomics.add(this.w, 0, 1);
    Atomics.notify(this.w, 0);
  }

  async stop(): Promise<void> {
    Atomics.store(this.w, 1, 2);
    Atomics.add(this.w, 0, 1);
    Atomics.notify(this.w, 0);
    await this.worker.terminate();
  }
}

export interface CheckOptions {
  /** Cases to run (FC_RUNS overrides). */
  readonly runs: number;
  /** Per-case limit; an async case past it fails, a blocked event loop past twice it kills the process. */
  readonly caseTimeoutMs?: number;
  /** The test file, for the replay command. */
  readonly file: string;
}

/**
 * Checks `property` (generated from `arb`, checked by async `check`) over `runs` cases with the file's
 * seed. Returns the number of cases run; throws a readable report on failure.
 */
export async function checkProperty<T>(label: string, arb: fc.Arbitrary<T>, check: (value: T) => Promise<void>, opts: CheckOptions): Promise<number> {
  if (PROP !== undefined && PROP !== label) {
    console.log(`  ${label}: skipped (FC_PROP=${PROP})`);
    return 0;
  }
  const limitMs = opts.caseTimeoutMs ?? 5_000;
  const dog = new Watchdog(label, opts.file, 2 * limitMs + 5_000);
  let caseNumber = 0;
  const prop = fc.asyncProperty(arb, async (v) => {
    dog.arm(caseNumber++);
    try {
      await check(v);
    } finally {
      dog.disarm();
    }
  });
  const t0 = Date.now();
  try {
    const details = await fc.check(prop, {
      seed: SEED,
      numRuns: RUNS ?? opts.runs,
      timeout: limitMs,
      ...(PATH !== undefined ? { path: PATH } : {}),
      markInterruptAsFailure: true,
    });
    if (details.failed) {
      const path = details.counterexamplePath ?? '';
      const cause = details.errorInstance as { message?: string } | undefined;
      throw new Error(`property "${label}" failed: ${cause?.message ?? String(cause)}\n${fc.defaultReportMessage(details)}\n` +
        `replay: SEED=${details.seed} FC_PROP=${label} FC_PATH=${path} node --import tsx ${opts.file}`);
    }
    console.log(`  ${label}: ${details.numRuns} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return details.numRuns;
  } finally {
    await dog.stop();
  }
}
