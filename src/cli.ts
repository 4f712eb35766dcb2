#!/usr/bin/env node
/**
 * The `reactive-log` command: a thin argument parser in front of the subcommands. Each subcommand
 * lives in its own module and returns the process exit code.
 *
 * Exit codes: 0 success, 1 the command ran and failed, 2 bad usage, 130 interrupted (Ctrl-C).
 */
import { parseArgs } from 'node:util';
import { DEMO_DEFAULTS, runDemo } from './demo/demo.js';
import { LogError } from './errors.js';
import { formatVerifyReport } from './verify/verify-format.js';
import { verifyLog } from './verify/verify-log.js';

const EXIT_USAGE = 2;

const USAGE = `Usage: reactive-log <command> [options]

Commands:
  demo      Append records to a log while a consumer in the same process reads
            them back; shows progress, verifies every record, prints a summary.
            Running it again on the same directory continues the same log.
  verify <dir>
            Read every segment, frame checksum, index entry, cursor file and
            durable.offset of a log directory and report what is damaged.
            Read-only: safe beside a running producer. Exit code 0 when no
            damage was found (warnings allowed), 1 on damage, 2 on bad usage.

Options of demo:
  --dir <path>      log directory, created if missing (default: ${DEMO_DEFAULTS.dir})
  --records <n>     records to append in this run (default: ${DEMO_DEFAULTS.records.toLocaleString('en-US')})

Options of verify:
  --json            print the report as JSON instead of text

Other options:
  -h, --help        print this help
`;

/** The subcommands, by name. */
const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  demo: demoCommand,
  verify: verifyCommand,
};

async function verifyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1) return usageError(`verify takes one log directory, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
  let report;
  try {
    report = await verifyLog(positionals[0]!);
  } catch (e) {
    // A path that is not a log directory is a usage error; an I/O failure is a failed run.
    if (e instanceof LogError && e.code === 'ERR_INVALID_OPTION') return usageError(`${e.message} (${e.code})`);
    throw e;
  }
  process.stdout.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatVerifyReport(report));
  return report.ok ? 0 : 1;
}

async function demoCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      dir: { type: 'string' },
      records: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length > 0) return usageError(`demo takes no arguments, got ${positionals.join(' ')}`);
  const dir = values.dir ?? DEMO_DEFAULTS.dir;
  if (dir === '') return usageError('--dir needs a path');
  let records: number = DEMO_DEFAULTS.records;
  if (values.records !== undefined) {
    // Digits, optionally grouped with "_" or "," (5_000_000, 5,000,000).
    const text = values.records.replace(/[_,]/g, '');
    records = /^[0-9]+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(records)) return usageError(`--records takes a whole number of at least 0, got ${values.records}`);
  }
  return runDemo({ dir, records });
}

function usageError(message: string): number {
  process.stderr.write(`reactive-log: ${message}\nRun "reactive-log --help" for usage.\n`);
  return EXIT_USAGE;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(USAGE);
    return EXIT_USAGE;
  }
  if (command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (run === undefined) return usageError(`unknown command ${JSON.stringify(command)}`);
  try {
    return await run(rest);
  } catch (e) {
    // parseArgs reports unknown options and missing values with codes of its own.
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) return usageError((e as Error).message);
    throw e;
  }
}

// A closed pipe (`reactive-log demo | head`) must not crash a command that holds a log open: the
// output is dropped and the command finishes its work.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
});

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    process.stderr.write(`reactive-log: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
