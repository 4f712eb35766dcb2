#!/usr/bin/env node
/**
 * The `reactive-log` command: dispatches to the subcommands in src/cli/, each of which parses its own
 * arguments and returns the process exit code (docs/cli.md).
 *
 * Exit codes: 0 success, 1 the command ran and failed, 2 bad usage (nothing was changed),
 * 130 interrupted (Ctrl-C), 143 `bench` stopped by SIGTERM.
 */
import { endProgressBars } from './cli/progress-bar.js';
import { exitCodeAfterOutput, markStdoutClosed, markStdoutFailed, stdoutHasFailed, stdoutWasAbandoned } from './cli/common.js';
import { main } from './cli/main.js';

// A closed pipe (`reactive-log dump log | head`) must not crash a command that holds a log open: the
// output is dropped, commands that print records stop, and the others finish their work.
// Any other failure to write the output (a full disk, EIO) ends the output the same way, is said on
// stderr once and fails the command (exit code 1), without a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') return markStdoutClosed();
  if (stdoutHasFailed()) return;
  markStdoutFailed();
  process.stderr.write(`reactive-log: writing to stdout failed: ${e.code ?? e.message}\n`);
  if (process.exitCode === 0) process.exitCode = 1; // a write the command did not wait for failed after it ended
});

// A message stderr cannot take (its reader is gone, a full device) has nowhere to be said: it is
// dropped, and the exit code stays the command's (a done `cursor reset` exits with 0).
process.stderr.on('error', () => {});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = exitCodeAfterOutput(code);
    // A write stdout's reader never takes would keep the process alive: leave it.
    if (stdoutWasAbandoned()) process.exit();
  },
  (e: unknown) => {
    endProgressBars();
    process.stderr.write(`reactive-log: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
