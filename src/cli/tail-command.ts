/**
 * `reactive-log tail <dir> [-n count] [-f] [--json]`: the last records, and with -f the records
 * appended after them, as they come (from a producer in any process: a nonTx consumer's blocking
 * iterator, which watches the directory and polls). -f runs until Ctrl-C or SIGTERM.
 */
import { adminLogDir } from '../admin/admin-dir.js';
import { logOffsets } from '../admin/inspect.js';
import { ErrorCode, isLogError } from '../errors.js';
import { fileIO, type FileIO } from '../storage/file-io.js';
import { Consumer } from '../consumer/consumer.js';
import { ConsumerStyle, Whence } from '../types.js';
import { EXIT_INTERRUPTED, abandonStdout, helped, out, parse, positionals, stdoutClosed, wholeNumber, type Command } from './common.js';
import { recordLine } from './record-format.js';

const DEFAULT_COUNT = 10;

export const tailCommand: Command = {
  name: 'tail',
  usage: `reactive-log tail <dir> [-n <count>] [-f] [--json]
  Print the last records of the log (default ${DEFAULT_COUNT}).
  -n, --lines <count>  how many of the last records to print first
  -f, --follow         then keep printing records as they are appended, until
                       Ctrl-C (exit code ${EXIT_INTERRUPTED}) or SIGTERM (exit code 0)
  --json               one JSON object per record (NDJSON)`,
  async run(args) {
    const { values, positionals: got } = parse(args, {
      lines: { type: 'string', short: 'n' }, follow: { type: 'boolean', short: 'f' }, json: { type: 'boolean' },
    });
    if (await helped(this, values)) return 0;
    const [dir] = positionals(got, ['dir']);
    const count = values.lines === undefined ? DEFAULT_COUNT : wholeNumber('--lines', values.lines);
    const json = values.json === true;
    // -f stops on a signal from its start on: one while the log is opened stops it as soon as that is done.
    const stop = values.follow === true ? stopOnSignals() : null;
    try {
      const io = await fileIO();
      if (stop?.signal.aborted === true) return stop.code();
      const { c, end } = await openAtLast(io, dir!, count);
      try {
        if (stop === null) {
          for (const m of c.iter()) {
            if (m.offset >= end) break; // the last records as the call found them: a live producer would keep it going
            await out(recordLine(m, json));
            if (stdoutClosed()) break;
          }
          return 0;
        }
        await follow(c, json, stop.signal);
        return stop.code();
      } finally {
        await c.close();
      }
    } finally {
      stop?.release();
    }
  },
};

/** How many times the last records are looked up again when retention deleted them before the open. */
const OPEN_TRIES = 5;

/**
 * A consumer at the last `count` records, and the log's end read with them. Retention may delete
 * those records before the consumer opens (a busy log that keeps little): the offsets are then read
 * again, up to OPEN_TRIES times, and the open's ERR_POSITION_EXPIRED is thrown after that. An open
 * at the oldest record instead would pass over records without a word, and could start past the
 * end it read, printing nothing.
 */
async function openAtLast(io: FileIO, dir: string, count: number): Promise<{ c: Consumer; end: number }> {
  for (let tries = 1; ; tries++) {
    const info = logOffsets(io, adminLogDir(io, dir), true); // the offsets only: a damaged cursor file is no reason not to read
    const from = Math.max(info.logStartOffset, info.nextOffset - count);
    try {
      return { c: await Consumer.open({ logDir: dir, style: ConsumerStyle.nonTx(Whence.position(from)) }), end: info.nextOffset };
    } catch (e) {
      if (tries >= OPEN_TRIES || !isLogError(e) || e.code !== ErrorCode.POSITION_EXPIRED) throw e;
    }
  }
}

interface Stop {
  /** Aborted by SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** The exit code: 130 after SIGINT, else 0. */
  code(): number;
  /** Removes the signal handlers. */
  release(): void;
}

/** Handles SIGINT (exit code 130) and SIGTERM (exit code 0) until released: each aborts the signal. */
function stopOnSignals(): Stop {
  const stop = new AbortController();
  let code = 0;
  const onInt = (): void => { code = EXIT_INTERRUPTED; stop.abort(); };
  const onTerm = (): void => stop.abort();
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  return {
    signal: stop.signal,
    code: () => code,
    release: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

/**
 * Prints records as they come until `signal` aborts (or stdout's reader goes away). The abort also
 * ends a write that waits for stdout's reader (a full pipe nobody reads): that output is abandoned.
 */
async function follow(c: Consumer, json: boolean, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  for await (const m of c.tail({ signal })) {
    if (signal.aborted) break;
    let written = false;
    await Promise.race([out(recordLine(m, json)).then(() => { written = true; }), stopped]);
    if (!written) {
      abandonStdout();
      break;
    }
    if (stdoutClosed()) break;
  }
}
