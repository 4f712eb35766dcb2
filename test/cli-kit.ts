/**
 * Running the real CLI (dist/cli.js) as a child process: `cli()` runs one command to its end;
 * `CliProcess` keeps a long-running one (tail -f), collecting its stdout, and is killed by
 * `killCliProcesses()` (each CLI test suite calls it in its after hook).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export const CLI = new URL('../dist/cli.js', import.meta.url).pathname;

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `reactive-log ...args` to its end. */
export function cli(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const running = new Set<CliProcess>();

/** A CLI command left running, its output collected as it comes. */
export class CliProcess {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly exited: Promise<void>;

  constructor(args: string[]) {
    this.proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this);
    this.proc.stdout!.setEncoding('utf8').on('data', (s: string) => { this.stdout += s; });
    this.proc.stderr!.setEncoding('utf8').on('data', (s: string) => { this.stderr += s; });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => {
      this.exit = { code, signal };
      running.delete(this);
      resolve();
    }));
  }

  /** The stdout lines so far (whole lines only). */
  lines(): string[] {
    return this.stdout.split('\n').slice(0, -1);
  }

  /** Sends `signal` and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.exit === null) this.proc.kill(signal);
    await this.exited;
  }
}

/** Kills every CLI process still running. */
export async function killCliProcesses(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop('SIGKILL')));
}
