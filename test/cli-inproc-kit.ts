/**
 * Running the CLI's command lines in the test's own process (`cliInProcess`), beside cli-kit.ts's
 * real processes: its own file, so that the CLI tests that need no such runner do not bundle the
 * CLI's sources.
 */
import { main } from '../src/cli/main.js';
import type { CliResult } from './cli-kit.js';

/**
 * Runs `reactive-log ...args` in this process, through the command's own entry (src/cli/main.ts),
 * with what it writes to stdout and stderr collected instead of printed: the same status, stdout and
 * stderr as `cli()` for a command that needs none of the process's own handling (src/cli.ts: a
 * failed stdout), at a fraction of a process's start-up CPU. For many short command lines (usage
 * errors); each test that uses it checks a few of them through `cli()` as well.
 */
export async function cliInProcess(...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const collect = (into: (s: string) => void) => (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    into(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    if (done !== undefined) queueMicrotask(done);
    return true;
  };
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  process.stdout.write = collect((s) => { stdout += s; }) as typeof process.stdout.write;
  process.stderr.write = collect((s) => { stderr += s; }) as typeof process.stderr.write;
  try {
    const status = await main(args);
    return { status, stdout, stderr };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
}
