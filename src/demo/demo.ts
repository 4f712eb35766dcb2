/**
 * `reactive-log demo`: appends records to a log directory with the default options (sync policy
 * periodic(1000)) while a consumer in the same process reads them back concurrently, shows live
 * progress, verifies every record the consumer sees, and prints a summary. Running it again on the
 * same directory continues the same log: offsets go on from where the last run stopped.
 *
 * Everything runs on the main thread except the writer (its own thread, started by the producer):
 * appends go in chunks, and between chunks the demo yields to the event loop so the consumer, the
 * progress line and Ctrl-C get their turn.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Consumer, ConsumerStyle, LogError, Producer, Whence } from '../index.js';
import { Progress, formatBytes, formatCount, formatSeconds, rate } from './progress.js';
import { RECORD_BYTES, RecordEncoder, checkRecord } from './records.js';
import { parseSegmentName } from '../segment/segment-files.js';

export interface DemoOptions {
  /** The log directory (created if missing). */
  readonly dir: string;
  /** How many records this run appends. */
  readonly records: number;
}

export const DEMO_DEFAULTS = { dir: './demo-log', records: 5_000_000 } as const;

/** Records appended between two yields to the event loop. */
const CHUNK_RECORDS = 10_000;
/** After the last append is durable, how long the consumer may take to reach it before the demo calls the missing records lost. */
const CONSUMER_DRAIN_TIMEOUT_MS = 30_000;

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_INTERRUPTED = 130;

/** What the concurrent consumer has done; read by the progress line and the summary. */
interface ConsumerState {
  /** The offset the consumer expects next; everything below it was seen and verified in this run. */
  next: number;
  /** The first verification failure, or null. */
  problem: string | null;
  /** An error thrown by the consumer itself (a LogError), or null. */
  error: unknown;
}

/** Runs the demo and returns the process exit code. Never throws for log errors: it reports them. */
export async function runDemo(options: DemoOptions, out: NodeJS.WriteStream = process.stdout): Promise<number> {
  const dir = resolve(options.dir);
  const say = (line: string): void => void out.write(`${line}\n`);
  const t0 = performance.now();

  let producer: Producer;
  try {
    producer = await Producer.open({ logDir: dir });
  } catch (e) {
    say(`reactive-log demo: cannot open the log: ${describeError(e)}`);
    return EXIT_FAILED;
  }
  const startOffset = producer.nextOffset;
  say(`log directory ${dir}`);
  say(startOffset === 0
    ? `new log; appending ${formatCount(options.records)} records of ${RECORD_BYTES} bytes (sync policy periodic(1000))`
    : `continuing the log at offset ${formatCount(startOffset)}; appending ${formatCount(options.records)} records of ${RECORD_BYTES} bytes (sync policy periodic(1000))`);
  const { truncated, removed } = producer.recovery;
  if (truncated !== null) {
    say(`recovery cut a torn tail: ${formatCount(truncated.bytes)} bytes of ${truncated.file} from byte ${formatCount(truncated.position)} (${truncated.reason})`);
  }
  if (removed.length > 0) say(`recovery removed the leftovers of an interrupted roll: ${removed.join(', ')}`);

  let consumer: Consumer;
  try {
    // Opened before the first append: Whence.latest() is then exactly this run's first offset, and the
    // consumer's first record must carry it (checked below, with every other one).
    consumer = await Consumer.open({ logDir: dir, style: ConsumerStyle.nonTx(Whence.latest()) });
  } catch (e) {
    say(`reactive-log demo: cannot open a consumer: ${describeError(e)}`);
    await closeQuietly(producer);
    return EXIT_FAILED;
  }

  const state: ConsumerState = { next: startOffset, problem: null, error: null };
  const stop = new AbortController();
  let stopAt: number | null = null; // set once appending is over: the consumer ends when it reaches it
  const consuming = (async () => {
    try {
      for await (const msg of consumer.tail({ signal: stop.signal })) {
        if (msg.offset !== state.next) {
          state.problem = msg.offset > state.next
            ? `records ${state.next} to ${msg.offset - 1} are missing: the consumer got offset ${msg.offset} next`
            : `offset ${msg.offset} was delivered out of order (expected ${state.next})`;
          return;
        }
        const why = checkRecord(msg.data, msg.offset);
        if (why !== null) {
          state.problem = `record at offset ${msg.offset} fails verification: ${why}`;
          return;
        }
        state.next++;
        if (stopAt !== null && state.next >= stopAt) return;
      }
    } catch (e) {
      state.error = e;
    }
  })();

  // Ctrl-C stops appending and finishes normally (flush, summary). A second Ctrl-C leaves at once; the
  // producer's exit hook still drains and fsyncs what was appended.
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(EXIT_INTERRUPTED);
    interrupted = true;
  };
  process.on('SIGINT', onSigint);

  const encoder = new RecordEncoder();
  const endOffset = startOffset + options.records;
  let appendedNext = startOffset; // the offset the next append gets

  const progress = new Progress(out, () => ({
    appended: appendedNext - startOffset,
    total: options.records,
    writtenOffset: producer.writtenOffset,
    durableOffset: producer.durableOffset,
    consumed: state.next - startOffset,
  }));

  // Append in chunks, yielding between them.
  let appendError: unknown = null;
  const tAppend = performance.now();
  progress.start();
  try {
    while (appendedNext < endOffset && !interrupted && state.problem === null && state.error === null) {
      const chunkEnd = Math.min(endOffset, appendedNext + CHUNK_RECORDS);
      while (appendedNext < chunkEnd) {
        const got = producer.append(encoder.set(appendedNext));
        if (got !== appendedNext) throw new Error(`append returned offset ${got}, expected ${appendedNext}`);
        appendedNext++;
      }
      await new Promise<void>((r) => setImmediate(r));
    }
  } catch (e) {
    appendError = e;
  }
  const appendMs = performance.now() - tAppend;
  const durableBeforeFlush = producer.durableOffset;

  // Make everything durable, then let the consumer reach the end.
  let flushError: unknown = null;
  const tFlush = performance.now();
  if (appendError === null) {
    try {
      await producer.flush();
    } catch (e) {
      flushError = e;
    }
  }
  const flushMs = performance.now() - tFlush;
  stopAt = appendedNext;
  if (state.next >= stopAt || appendError !== null || flushError !== null) stop.abort();
  let drainTimer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    consuming.then(() => true),
    new Promise<boolean>((r) => { drainTimer = setTimeout(() => r(false), CONSUMER_DRAIN_TIMEOUT_MS); }),
  ]);
  clearTimeout(drainTimer);
  if (!drained) {
    stop.abort();
    await consuming;
  }
  progress.stop();
  process.off('SIGINT', onSigint);

  const nextOffset = producer.nextOffset;
  const logStartOffset = producer.logStartOffset;
  const durableAfterFlush = producer.durableOffset;
  await consumer.close();
  let closeError: unknown = null;
  try {
    await producer.close();
  } catch (e) {
    closeError = e;
  }
  const files = countFiles(dir);
  const elapsedMs = performance.now() - t0;

  // The summary.
  const appended = appendedNext - startOffset;
  const consumed = state.next - startOffset;
  say('');
  say(`appended     ${formatCount(appended)} records this run${appended > 0 ? ` (offsets ${formatCount(startOffset)} to ${formatCount(appendedNext - 1)})` : ''}`
    + ` in ${formatSeconds(appendMs)}: ${formatCount(rate(appended, appendMs))} records/s, ${formatBytes(Math.round((appended * RECORD_BYTES * 1000) / Math.max(appendMs, 1)))}/s of payload`);
  say(`consumed     ${formatCount(consumed)} records, each checked for its offset and content`);
  say(`durable      offset ${formatCount(durableBeforeFlush)} when the last append returned; ${formatCount(durableAfterFlush)} after flush() (${formatSeconds(flushMs)})`);
  say(`log          ${nextOffset > logStartOffset
    ? `${formatCount(nextOffset - logStartOffset)} records stored (offsets ${formatCount(logStartOffset)} to ${formatCount(nextOffset - 1)})`
    : 'no records stored'}${logStartOffset > 0 ? `; retention deleted offsets below ${formatCount(logStartOffset)}` : ''}`);
  say(`files        ${plural(files.segments, 'segment file')}, ${formatBytes(files.segmentBytes)}; ${plural(files.indexes, 'index file')}, ${formatBytes(files.indexBytes)}`);
  say(`elapsed      ${formatSeconds(elapsedMs)}`);

  // The verdict.
  const failures: string[] = [];
  if (appendError !== null) failures.push(`append failed: ${describeError(appendError)}`);
  if (flushError !== null) failures.push(`flush failed: ${describeError(flushError)}`);
  if (closeError !== null) failures.push(`close failed: ${describeError(closeError)}`);
  if (state.error !== null) failures.push(`the consumer failed: ${describeError(state.error)}`);
  if (state.problem !== null) failures.push(state.problem);
  else if (state.next < appendedNext) {
    failures.push(`the consumer saw records up to offset ${state.next - 1} only; ${formatCount(appendedNext - state.next)} appended records never arrived`
      + (drained ? '' : ` within ${CONSUMER_DRAIN_TIMEOUT_MS} ms`));
  }
  if (appendError === null && flushError === null && durableAfterFlush < appendedNext) {
    failures.push(`flush() returned but the durable offset is ${durableAfterFlush}, below ${appendedNext}`);
  }
  if (failures.length > 0) {
    say('');
    for (const f of failures) say(`FAILED: ${f}`);
    return EXIT_FAILED;
  }
  if (interrupted) {
    say('');
    say(`interrupted: stopped after ${formatCount(appended)} of ${formatCount(options.records)} records; everything appended was verified and is durable`);
    return EXIT_INTERRUPTED;
  }
  say('');
  say('OK: every record appended in this run was read back in order, none missing, and is durable');
  return EXIT_OK;
}

function plural(n: number, noun: string): string {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

function describeError(e: unknown): string {
  if (e instanceof LogError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

async function closeQuietly(producer: Producer): Promise<void> {
  try {
    await producer.close();
  } catch {
    // Already reporting the error that brought us here.
  }
}

function countFiles(dir: string): { segments: number; segmentBytes: number; indexes: number; indexBytes: number } {
  const r = { segments: 0, segmentBytes: 0, indexes: 0, indexBytes: 0 };
  for (const name of readdirSync(dir)) {
    let size: number;
    try {
      size = statSync(join(dir, name)).size;
    } catch {
      continue; // removed meanwhile
    }
    if (parseSegmentName(name) !== null) {
      r.segments++;
      r.segmentBytes += size;
    } else if (/^[0-9]{20}\.idx$/.test(name)) {
      r.indexes++;
      r.indexBytes += size;
    }
  }
  return r;
}
