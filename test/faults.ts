/**
 * Test-side handle on the fault injector (test/fixtures/fault-io.mjs): typed plans, and running code
 * with a plan in force. The plan travels in the environment, so the writer thread, pool workers and
 * child processes started meanwhile see it too; each thread counts calls on its own.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FAULT_IO = fileURLToPath(new URL('./fixtures/fault-io.mjs', import.meta.url));

export type FaultOp = 'open' | 'close' | 'read' | 'writev' | 'fdatasync' | 'fdatasyncBehind' | 'fsync' | 'ftruncate' | 'fsize'
  | 'readdir' | 'unlink' | 'rename' | 'link' | 'mkdirp' | 'exists' | 'stamp' | 'stampPath' | 'tryLock' | 'isSameFile';

export type FaultEffect =
  /** `callerOnly`: a sync error told to this call alone (no errseq_t report to the file's other descriptors). */
  | { readonly errno: string; readonly dropUnsynced?: boolean; readonly delayMs?: number; readonly callerOnly?: boolean }
  | { readonly short: number }
  | { readonly delayMs: number }
  | { readonly unlinkFirst: readonly string[] }
  /** Ends the calling thread at once (process.exit in a worker): none of its catch or finally blocks run. */
  | { readonly exitThread: true };

export interface FaultRule {
  readonly op?: FaultOp | readonly FaultOp[] | '*';
  readonly path?: string;
  readonly thread?: 'main' | 'writer' | 'worker' | 'any';
  readonly nth: number;
  readonly persistent?: boolean;
  readonly effect: FaultEffect;
}

export interface FaultPlan {
  readonly rules: readonly FaultRule[];
  readonly arm?: string;
  readonly trace?: string;
}

/** Puts `plan` in force (for this process and everything it starts from now on). */
export function setFaults(plan: FaultPlan): void {
  process.env.REACTIVE_LOG_TEST_FILE_IO = FAULT_IO;
  process.env.REACTIVE_LOG_FAULTS = JSON.stringify(plan);
}

/** Back to the real file layer. */
export function clearFaults(): void {
  delete process.env.REACTIVE_LOG_TEST_FILE_IO;
  delete process.env.REACTIVE_LOG_FAULTS;
}

/** Runs `fn` with `plan` in force, and the real file layer again afterwards. */
export async function withFaults<T>(plan: FaultPlan, fn: () => Promise<T>): Promise<T> {
  setFaults(plan);
  try {
    return await fn();
  } finally {
    clearFaults();
  }
}

export interface TraceLine {
  readonly fired: boolean;
  readonly thread: string;
  readonly op: string;
  readonly path: string;
}

/** The calls a plan's `trace` file recorded, in order (FIRE lines mark the faults applied). */
export function readTrace(path: string): TraceLine[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((l) => l !== '').map((l) => {
    const parts = l.split(' ');
    const fired = parts[0] === 'FIRE';
    if (fired) parts.shift();
    return { fired, thread: parts[0]!, op: parts[1]!, path: parts[2] ?? '' };
  });
}
