/**
 * `reactive-log tail <dir> [-n count] [-f] [--json]`: the last records, and with -f the records
 * appended after them, as they come (from a producer in any process: a nonTx consumer's blocking
 * iterator, which watches the directory and polls). -f runs until Ctrl-C or SIGTERM.
 */
import { adminLogDir } from '../admin/admin-dir.js';
import { logOffsets } from '../admin/inspect.js';
import { fileIO } from '../storage/file-io.js';
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
    const io = await fileIO();
    const info = logOffsets(io, adminLogDir(io, dir!)); // the offsets only: a damaged cursor file is no reason not to read
    const from = Math.max(info.logStartOffset, info.nextOffset - count);
    // Retention may delete `from` meanwhile: then the tail starts at the new log start.
    const c = await Consumer.open({ logDir: dir!, style: ConsumerStyle.nonTx(Whence.position(from)), onPositionExpired: 'oldest' });
    try {
      if (values.follow !== true) {
        for (const m of c.iter()) {
          if (m.offset >= info.nextOffset) break; // the last records as the call found them: a live producer would keep it going
          await out(recordLine(m, json));
          if (stdoutClosed()) break;
        }
        return 0;
      }
      return await follow(c, json);
    } finally {
      await c.close();
    }
  },
};

/**
 * Prints records as they come until SIGINT (exit 130) or SIGTERM (exit 0). A signal also ends a write
 * that waits for stdout's reader (a full pipe nobody reads): that output is abandoned.
 */
async function follow(c: Consumer, json: boolean): Promise<number> {
  const stop = new AbortController();
  let code = 0;
  const onInt = (): void => { code = EXIT_INTERRUPTED; stop.abort(); };
  const onTerm = (): void => stop.abort();
  const stopped = new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  try {
    for await (const m of c.tail({ signal: stop.signal })) {
      if (stop.signal.aborted) break;
      let written = false;
      await Promise.race([out(recordLine(m, json)).then(() => { written = true; }), stopped]);
      if (!written) {
        abandonStdout();
        break;
      }
      if (stdoutClosed()) break;
    }
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
  return code;
}
