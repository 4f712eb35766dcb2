#!/usr/bin/env node
/**
 * The `reactive-log` command: dispatches to the subcommands in src/cli/, each of which parses its own
 * arguments and returns the process exit code (docs/cli.md).
 *
 * Exit codes: 0 success, 1 the command ran and failed, 2 bad usage (nothing was changed),
 * 130 interrupted (Ctrl-C), 143 `bench` stopped by SIGTERM.
 */
import { benchCommand } from './cli/bench-command.js';
import { endProgressBars } from './cli/progress-bar.js';
import { EXIT_USAGE, exitCodeAfterOutput, markStdoutClosed, markStdoutFailed, out, runCommand, stdoutHasFailed, stdoutWasAbandoned, usageFailure, type Command } from './cli/common.js';
import { cursorCommand } from './cli/cursor-command.js';
import { demoCommand } from './cli/demo-command.js';
import { infoCommand } from './cli/info-command.js';
import { dumpCommand, getCommand } from './cli/read-commands.js';
import { repairCommand } from './cli/repair-command.js';
import { tailCommand } from './cli/tail-command.js';
import { unlockCommand } from './cli/unlock-command.js';
import { verifyCommand } from './cli/verify-command.js';
import { packageVersion } from './cli/version.js';

const COMMANDS: readonly Command[] = [infoCommand, dumpCommand, getCommand, tailCommand, cursorCommand, unlockCommand, verifyCommand, repairCommand, benchCommand, demoCommand];

function usage(): string {
  const synopses = COMMANDS.map((c) => c.usage.split('\n').filter((l) => l.startsWith('reactive-log') || l.startsWith('       reactive-log')).map((l) => `  ${l.trim()}`).join('\n'));
  return `Usage: reactive-log <command> [options]

Commands:
${synopses.join('\n')}

Options:
  -h, --help        print this help; "reactive-log <command> --help" for a command's
  --version         print the version

Exit codes: 0 ok, 1 the command failed, 2 bad usage (nothing changed), 130 interrupted,
143 bench stopped by SIGTERM.
Data goes to stdout, messages to stderr. See docs/cli.md.
`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(usage());
    return EXIT_USAGE;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    if (rest.length > 0) return usageFailure(null, `${name} takes no arguments`);
    await out(usage());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    if (rest.length > 0) return usageFailure(null, `${name} takes no arguments`);
    await out(`${packageVersion()}\n`);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (cmd === undefined) return usageFailure(null, `unknown command ${JSON.stringify(name)}`);
  return runCommand(cmd, rest);
}

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
