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
import { isUsageLogError } from '../cli/common.js';

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

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_INTERRUPTED = 130;

type Say = (line: string) => void;

/** What the concurrent consumer has done; read by the progress line and the summary. */
interface ConsumerState {
  /** The offset the consumer expects next; everything below it was seen and verified in this run. */
  nextOffset: number;
  /** Set once appending is over: the consumer ends when it reaches this offset. */
  stopAtOffset: number | null;
  /** The first verification failure, or null. */
  problem: string | null;
  /** An error thrown by the consumer itself (a LogError), or null. */
  error: unknown;
}

/** What the append phase did. */
interface Appended {
  /** The offset the next append would get: this run appended up to it. */
  nextOffset: number;
  error: unknown;
  ms: number;
}

/** What flushing and letting the consumer catch up did. */
interface Finished {
  durableBeforeFlush: number;
  flushError: unknown;
  flushMs: number;
  /** The consumer reached the end within CONSUMER_DRAIN_TIMEOUT_MS. */
  drained: boolean;
}

/** What the log looked like when the run closed it. */
interface Closed {
  nextOffset: number;
  logStartOffset: number;
  durableAfterFlush: number;
  closeError: unknown;
}

/**
 * Runs the demo and returns the process exit code. The summary goes to `out`, progress and errors to
 * `err`. Never throws for log errors (it reports them) except one about the arguments (a path that is
 * no log directory: isUsageLogError), which the command reports as a usage error.
 */
export async function runDemo(options: DemoOptions, out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  const dir = resolve(options.dir);
  const say: Say = (line) => void out.write(`${line}\n`);
  const tell: Say = (line) => void err.write(`${line}\n`);
  const t0 = performance.now();
  const opened = await openLog(dir, options.records, tell);
  if (opened === null) return EXIT_FAILED;
  const { producer, consumer } = opened;
  const startOffset = producer.nextOffset;

  const state: ConsumerState = { nextOffset: startOffset, stopAtOffset: null, problem: null, error: null };
  const stop = new AbortController();
  const consuming = consume(consumer, state, stop.signal);
  // Ctrl-C stops appending and finishes normally (flush, summary). A second Ctrl-C leaves at once; the
  // producer's exit hook still drains and fsyncs what was appended.
  const interrupt = { requested: false };
  const onSigint = (): void => {
    if (interrupt.requested) process.exit(EXIT_INTERRUPTED);
    interrupt.requested = true;
  };
  process.on('SIGINT', onSigint);
  const progress = new Progress(err, () => ({
    appended: producer.nextOffset - startOffset,
    total: options.records,
    writtenOffset: producer.writtenOffset,
    durableOffset: producer.durableOffset,
    consumed: state.nextOffset - startOffset,
  }));
  progress.start();
  const appended = await appendRecords(producer, startOffset + options.records, state, interrupt);
  const finished = await finish(producer, appended, state, stop, consuming);
  progress.stop();
  process.off('SIGINT', onSigint);
  const closed = await closeLog(producer, consumer);

  const summary = { dir, startOffset, appended, finished, closed, elapsedMs: performance.now() - t0 };
  printSummary(summary, state, say);
  const failures = failuresOf(appended, finished, closed, state);
  if (failures.length > 0) {
    for (const f of failures) tell(`reactive-log demo: FAILED: ${f}`);
    return EXIT_FAILED;
  }
  say('');
  if (interrupt.requested) {
    say(`interrupted: stopped after ${formatCount(appended.nextOffset - startOffset)} of ${formatCount(options.records)} records; everything appended was verified and is durable`);
    return EXIT_INTERRUPTED;
  }
  say('OK: every record appended in this run was read back in order, none missing, and is durable');
  return EXIT_OK;
}

/** Opens the producer, says what recovery did, and opens the consumer; null (reported) when either fails. */
async function openLog(dir: string, records: number, say: Say): Promise<{ producer: Producer; consumer: Consumer } | null> {
  let producer: Producer;
  try {
    producer = await Producer.open({ logDir: dir });
  } catch (e) {
    if (isUsageLogError(e)) throw e; // a path that is no log directory: a usage error (exit code 2)
    say(`reactive-log demo: cannot open the log: ${describeError(e)}`);
    return null;
  }
  const startOffset = producer.nextOffset;
  say(`log directory ${dir}`);
  say(startOffset === 0
    ? `new log; appending ${formatCount(records)} records of ${RECORD_BYTES} bytes (sync policy periodic(1000))`
    : `continuing the log at offset ${formatCount(startOffset)}; appending ${formatCount(records)} records of ${RECORD_BYTES} bytes (sync policy periodic(1000))`);
  const { truncated, removed } = producer.recovery;
  if (truncated !== null) {
    say(`recovery cut a torn tail: ${formatCount(truncated.bytes)} bytes of ${truncated.file} from byte ${formatCount(truncated.position)} (${truncated.reason})`);
  }
  if (removed.length > 0) say(`recovery removed the leftovers of an interrupted roll: ${removed.join(', ')}`);
  try {
    // Opened before the first append: Whence.latest() is then exactly this run's first offset, and the
    // consumer's first record must carry it (checked in consume(), with every other one).
    return { producer, consumer: await Consumer.open({ logDir: dir, style: ConsumerStyle.nonTx(Whence.latest()) }) };
  } catch (e) {
    say(`reactive-log demo: cannot open a consumer: ${describeError(e)}`);
    await closeQuietly(producer);
    return null;
  }
}

/** Reads the records back as they come, checking each one's offset and content. */
async function consume(consumer: Consumer, state: ConsumerState, signal: AbortSignal): Promise<void> {
  try {
    for await (const msg of consumer.tail({ signal })) {
      if (msg.offset !== state.nextOffset) {
        state.problem = msg.offset > state.nextOffset
          ? `records ${state.nextOffset} to ${msg.offset - 1} are missing: the consumer got offset ${msg.offset} next`
          : `offset ${msg.offset} was delivered out of order (expected ${state.nextOffset})`;
        return;
      }
      const why = checkRecord(msg.data, msg.offset);
      if (why !== null) {
        state.problem = `record at offset ${msg.offset} fails verification: ${why}`;
        return;
      }
      state.nextOffset++;
      if (state.stopAtOffset !== null && state.nextOffset >= state.stopAtOffset) return;
    }
  } catch (e) {
    state.error = e;
  }
}

/** Appends up to `endOffset` in chunks, yielding to the event loop between them; stops early on Ctrl-C or a consumer failure. */
async function appendRecords(producer: Producer, endOffset: number, state: ConsumerState, interrupt: { requested: boolean }): Promise<Appended> {
  const encoder = new RecordEncoder();
  let nextOffset = producer.nextOffset;
  let error: unknown = null;
  const t0 = performance.now();
  try {
    while (nextOffset < endOffset && !interrupt.requested && state.problem === null && state.error === null) {
      const chunkEnd = Math.min(endOffset, nextOffset + CHUNK_RECORDS);
      while (nextOffset < chunkEnd) {
        const got = producer.append(encoder.set(nextOffset));
        if (got !== nextOffset) throw new Error(`append returned offset ${got}, expected ${nextOffset}`);
        nextOffset++;
      }
      await new Promise<void>((r) => setImmediate(r));
    }
  } catch (e) {
    error = e;
  }
  return { nextOffset, error, ms: performance.now() - t0 };
}

/** Makes everything durable, then lets the consumer reach the end (bounded). */
async function finish(producer: Producer, appended: Appended, state: ConsumerState, stop: AbortController, consuming: Promise<void>): Promise<Finished> {
  const durableBeforeFlush = producer.durableOffset;
  let flushError: unknown = null;
  const t0 = performance.now();
  if (appended.error === null) {
    try {
      await producer.flush();
    } catch (e) {
      flushError = e;
    }
  }
  const flushMs = performance.now() - t0;
  state.stopAtOffset = appended.nextOffset;
  if (state.nextOffset >= appended.nextOffset || appended.error !== null || flushError !== null) stop.abort();
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
  return { durableBeforeFlush, flushError, flushMs, drained };
}

async function closeLog(producer: Producer, consumer: Consumer): Promise<Closed> {
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
  return { nextOffset, logStartOffset, durableAfterFlush, closeError };
}

function printSummary(
  run: { dir: string; startOffset: number; appended: Appended; finished: Finished; closed: Closed; elapsedMs: number },
  state: ConsumerState, say: Say,
): void {
  const { startOffset, finished, closed } = run;
  const appended = run.appended.nextOffset - startOffset;
  const appendMs = run.appended.ms;
  const consumed = state.nextOffset - startOffset;
  const { nextOffset, logStartOffset } = closed;
  const files = countFiles(run.dir);
  say(`appended     ${formatCount(appended)} records this run${appended > 0 ? ` (offsets ${formatCount(startOffset)} to ${formatCount(run.appended.nextOffset - 1)})` : ''}`
    + ` in ${formatSeconds(appendMs)}: ${formatCount(rate(appended, appendMs))} records/s, ${formatBytes(Math.round((appended * RECORD_BYTES * 1000) / Math.max(appendMs, 1)))}/s of payload`);
  say(`consumed     ${formatCount(consumed)} records, each checked for its offset and content`);
  say(`durable      offset ${formatCount(finished.durableBeforeFlush)} when the last append returned; ${formatCount(closed.durableAfterFlush)} after flush() (${formatSeconds(finished.flushMs)})`);
  say(`log          ${nextOffset > logStartOffset
    ? `${formatCount(nextOffset - logStartOffset)} records stored (offsets ${formatCount(logStartOffset)} to ${formatCount(nextOffset - 1)})`
    : 'no records stored'}${logStartOffset > 0 ? `; retention deleted offsets below ${formatCount(logStartOffset)}` : ''}`);
  say(`files        ${plural(files.segments, 'segment file')}, ${formatBytes(files.segmentBytes)}; ${plural(files.indexes, 'index file')}, ${formatBytes(files.indexBytes)}`);
  say(`elapsed      ${formatSeconds(run.elapsedMs)}`);
}

/** Everything that went wrong, one line each; empty when the run succeeded. */
function failuresOf(appended: Appended, finished: Finished, closed: Closed, state: ConsumerState): string[] {
  const failures: string[] = [];
  const endOffset = appended.nextOffset;
  if (appended.error !== null) failures.push(`append failed: ${describeError(appended.error)}`);
  if (finished.flushError !== null) failures.push(`flush failed: ${describeError(finished.flushError)}`);
  if (closed.closeError !== null) failures.push(`close failed: ${describeError(closed.closeError)}`);
  if (state.error !== null) failures.push(`the consumer failed: ${describeError(state.error)}`);
  if (state.problem !== null) failures.push(state.problem);
  else if (state.nextOffset < endOffset) {
    failures.push(`the consumer saw records up to offset ${state.nextOffset - 1} only; ${formatCount(endOffset - state.nextOffset)} appended records never arrived`
      + (finished.drained ? '' : ` within ${CONSUMER_DRAIN_TIMEOUT_MS} ms`));
  }
  if (appended.error === null && finished.flushError === null && closed.durableAfterFlush < endOffset) {
    failures.push(`flush() returned but the durable offset is ${closed.durableAfterFlush}, below ${endOffset}`);
  }
  return failures;
}

function plural(n: number, noun: string): string {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

/** An error as one line's end: a LogError's message ends with its code, as every exit-1 message does. */
function describeError(e: unknown): string {
  if (e instanceof LogError) return `${e.message} (${e.code})`;
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
