/**
 * Child processes for cross-process tests: fork a fixture under test/fixtures/, talk to it over IPC,
 * wait for typed messages (bounded, never a fixed sleep) and kill every child in the end.
 */
import { fork, type ChildProcess } from 'node:child_process';

export interface ForkOptions {
  env?: NodeJS.ProcessEnv;
  execArgv?: string[];
}

export interface ChildMessage {
  type: string;
  [k: string]: unknown;
}

const live = new Set<Child>();

export class Child {
  readonly proc: ChildProcess;
  stderr = '';
  private readonly inbox: ChildMessage[] = [];
  private readonly waiting: Array<() => void> = [];
  exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly exited: Promise<void>;

  private constructor(fixture: string, args: string[], options: ForkOptions) {
    // A .ts fixture runs through tsx whether or not the test file itself does (test-dist/ bundles run in
    // plain node); a child otherwise inherits the test's own execArgv.
    const execArgv = options.execArgv ?? (fixture.endsWith('.ts') ? ['--import', 'tsx'] : undefined);
    this.proc = fork(new URL(`./fixtures/${fixture}`, import.meta.url), args, {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      ...options,
      ...(execArgv === undefined ? {} : { execArgv }),
    });
    live.add(this);
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (s: string) => { this.stderr += s; });
    this.proc.on('message', (m: ChildMessage) => {
      this.inbox.push(m);
      this.notify();
    });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => {
      this.exitInfo = { code, signal };
      live.delete(this);
      this.notify();
      resolve();
    }));
  }

  /** `options.env` replaces the environment; `options.execArgv: []` skips tsx for plain .mjs fixtures (faster start). */
  static fork(fixture: string, args: string[], options: ForkOptions = {}): Child {
    return new Child(fixture, args, options);
  }

  private notify(): void {
    for (const w of this.waiting.splice(0)) w();
  }

  /** Messages received and not yet taken. */
  get pending(): readonly ChildMessage[] {
    return this.inbox;
  }

  /** Takes the first message of `type` (waiting for it); rejects if the child exits first or after `timeoutMs`. */
  async next<T extends ChildMessage = ChildMessage>(type: string, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as T;
      const err = this.inbox.find((m) => m.type === 'error');
      if (err !== undefined) throw new Error(`child reported an error while we waited for "${type}": ${String(err.message)}\n${this.stderr}`);
      if (this.exitInfo !== null) {
        throw new Error(`child exited (${this.exitInfo.code ?? this.exitInfo.signal}) before sending "${type}"\n${this.stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for "${type}" from the child\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiting.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  send(m: ChildMessage): void {
    this.proc.send(m);
  }

  /** SIGKILLs the child if it still runs and waits for it to exit. */
  async kill(): Promise<void> {
    if (this.exitInfo === null) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

/** Kills every child still running (use in `after` hooks and `finally`). */
export async function killAllChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.kill()));
}
