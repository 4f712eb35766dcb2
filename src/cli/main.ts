/**
 * What the `reactive-log` command does with its arguments (src/cli.ts runs it as the process): finds
 * the subcommand in src/cli/, runs it and returns the exit code. Exported so that the tests can run
 * many command lines in one process (test/cli-usage.test.ts); the process's own handling (stdout and
 * stderr errors, the exit code after output) stays in src/cli.ts.
 */
import { benchCommand } from './bench-command.js';
import { EXIT_USAGE, out, runCommand, usageFailure, type Command } from './common.js';
import { cursorCommand } from './cursor-command.js';
import { demoCommand } from './demo-command.js';
import { infoCommand } from './info-command.js';
import { dumpCommand, getCommand } from './read-commands.js';
import { repairCommand } from './repair-command.js';
import { tailCommand } from './tail-command.js';
import { unlockCommand } from './unlock-command.js';
import { verifyCommand } from './verify-command.js';
import { packageVersion } from './version.js';

const COMMANDS: readonly Command[] = [infoCommand, dumpCommand, getCommand, tailCommand, cursorCommand, unlockCommand, verifyCommand, repairCommand, benchCommand, demoCommand];

function usage(): string {
  const synopses = COMMANDS.map((c) => c.usage.split('\n').filter((l) => l.startsWith('reactive-log') || l.startsWith('       reactive-log')).map((l) => `  ${l.trim()}`).join('\n'));
  return `Usage: reactive-log <command> [options]

Commands:
${synopses.join('\n')}

Options:
  -h, --help        print this help ("reactive-log <command> --help": a command's own)
  --version         print the version

Exit codes: 0 ok, 1 the command failed, 2 bad usage (nothing changed), 130 interrupted,
143 bench stopped by SIGTERM.
Data goes to stdout, messages to stderr. See docs/cli.md.
`;
}

export async function main(argv: string[]): Promise<number> {
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
