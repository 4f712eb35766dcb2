/**
 * `dump` and `get`: records read from the files by a nonTx consumer, which takes no lock and writes
 * nothing, so they are safe beside a running producer. Records are printed as record-format.ts says.
 */
import { adminLogDir } from '../admin/admin-dir.js';
import { isDateMs } from '../admin/frame-walk.js';
import { logOffsets } from '../admin/inspect.js';
import { Consumer } from '../consumer/consumer.js';
import { ErrorCode, LogError } from '../errors.js';
import { offsetAtTime } from '../reader/time-seek.js';
import { fileIO } from '../storage/file-io.js';
import { ConsumerStyle, Whence, type Message } from '../types.js';
import { EXIT_FAILURE, UsageError, helped, message, out, parse, positionals, stdoutClosed, timeArg, wholeNumber, type Command } from './common.js';
import { recordLine } from './record-format.js';
import { ProgressBar } from './progress-bar.js';

/**
 * The offset after the last record stored in `dir`, as the files hold it now, and where a dump starts:
 * the first record, or with `since` the first stored at or after that time, found in the same listing
 * (a search at the consumer's open would meet a log that retention moved on since, and start past
 * records that were there).
 */
async function logBounds(dir: string, since: number | null = null): Promise<{ end: number; at: number }> {
  const io = await fileIO();
  const real = adminLogDir(io, dir);
  const o = logOffsets(io, real, true); // the start the next producer keeps: the records a cursor holds below a recorded start are stored
  const { logStartOffset: start, nextOffset: end } = o;
  if (since === null) return { end, at: start };
  const at = Math.min(Math.max(offsetAtTime(io, real, o.bases, since, end), start), end);
  // A segment that retention deletes while the search reads takes its records for older than the
  // time: an answer at or below the start now may lie past records that were at or after it.
  const now = logOffsets(io, real, true).logStartOffset;
  if (now > start && at <= now) {
    throw new LogError(ErrorCode.POSITION_EXPIRED, `the records stored at or after ${timeText(since)} may be among those retention deleted while dump looked for them (offsets ${start} to ${now - 1}); the log now starts at ${now}`, { offset: start, logStartOffset: now });
  }
  return { end, at };
}

/** A --since time as ISO 8601, or in ms where it lies past what a Date holds. */
const timeText = (ms: number): string => (isDateMs(ms) ? new Date(ms).toISOString() : `${ms} ms since the epoch`);

/**
 * Prints up to `count` records (null: all) from `whence` to `end`, the end of the log as the call
 * found it (records appended after that are not printed: beside a producer faster than the output,
 * the command would never end); returns how many.
 */
async function printRecords(dir: string, whence: Whence, end: number, count: number | null, json: boolean): Promise<number> {
  const c = await Consumer.open({ logDir: dir, style: ConsumerStyle.nonTx(whence) });
  // Progress only while the records go to a file or a pipe: on a terminal they are the progress.
  const bar = process.stdout.isTTY === true ? null : new ProgressBar('dump');
  let n = 0;
  try {
    if (count === 0) return 0;
    for (const m of c.iter()) {
      if (m.offset >= end) break;
      await out(recordLine(m, json));
      bar?.update(n + 1, count, 'records');
      if (++n === count || stdoutClosed()) break;
    }
  } finally {
    bar?.end();
    await c.close();
  }
  return n;
}

export const dumpCommand: Command = {
  name: 'dump',
  usage: `reactive-log dump <dir> [--from <offset> | --since <time>] [--count <n>] [--json]
  Print the records stored when it starts, oldest first, one per line, then exit.
  --from <offset>   start at this offset (default: the oldest record)
  --since <time>    start at the first record stored at or after <time>
                    (ms since the epoch, or ISO 8601 such as 2026-12-03T18:00:00Z)
  --count <n>       print at most n records
  --json            one JSON object per record (NDJSON)`,
  async run(args) {
    const { values, positionals: got } = parse(args, {
      from: { type: 'string' }, since: { type: 'string' }, count: { type: 'string' }, json: { type: 'boolean' },
    });
    if (await helped(this, values)) return 0;
    const [dir] = positionals(got, ['dir']);
    if (values.from !== undefined && values.since !== undefined) throw new UsageError('--from and --since exclude each other');
    const from = values.from === undefined ? null : wholeNumber('--from', values.from);
    const since = values.since === undefined ? null : timeArg('--since', values.since);
    const count = values.count === undefined ? null : wholeNumber('--count', values.count);
    const { end, at } = await logBounds(dir!, since);
    // From a position found with the end: retention deleting it before the consumer opens fails the
    // open (ERR_POSITION_EXPIRED), as it fails a read it overtakes; the oldest record at the open, or
    // a search then, would be past records of the log as the call found it, maybe past its end.
    const whence = Whence.position(from ?? at);
    if (from !== null && from > end) {
      message(`reactive-log dump: --from ${from} lies past the end of the log, whose next offset is ${end} (${ErrorCode.INVALID_OPTION})`);
      return EXIT_FAILURE;
    }
    await printRecords(dir!, whence, end, count, values.json === true);
    return 0;
  },
};

export const getCommand: Command = {
  name: 'get',
  usage: `reactive-log get <dir> <offset> [--json]
  Print the record at <offset>. Exit code 1 when the log holds no record there.
  --json            print it as one JSON object`,
  async run(args) {
    const { values, positionals: got } = parse(args, { json: { type: 'boolean' } });
    if (await helped(this, values)) return 0;
    const [dir, offsetText] = positionals(got, ['dir', 'offset']);
    const offset = wholeNumber('<offset>', offsetText!);
    // Past the end, Consumer.open would refuse its position as an invalid option: say it as get does at
    // the end, with the code Consumer.open gives.
    const m = offset > (await logBounds(dir!)).end ? undefined : await recordAt(dir!, offset);
    if (m === undefined) {
      message(`reactive-log get: no record at offset ${offset}: it is past the end of the log (${ErrorCode.INVALID_OPTION})`);
      return EXIT_FAILURE;
    }
    await out(recordLine(m, values.json === true));
    return 0;
  },
};

/** The record at `offset`, or undefined when the log holds none there yet. */
async function recordAt(dir: string, offset: number): Promise<Message | undefined> {
  const c = await Consumer.open({ logDir: dir, style: ConsumerStyle.nonTx(Whence.position(offset)) });
  let m: Message | undefined;
  try {
    for (const r of c.iter()) {
      m = r;
      break;
    }
  } finally {
    await c.close();
  }
  return m;
}
