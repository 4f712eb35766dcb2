/**
 * The consumer handle. This release serves the non-transactional style: it starts at a Whence every
 * time it opens and keeps no durable cursor (at-least-once: a record is delivered again after a
 * restart unless the caller remembers its offset).
 *
 * One iteration or processing call runs at a time per consumer (ERR_CONSUMER_BUSY otherwise).
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { ErrorCode, LogError } from '../errors.js';
import { describe, requireInt, requireLogDir } from '../options.js';
import { localProducer } from '../producer/registry.js';
import { I32, I64, State, controlViews, loadOffset, type ControlViews } from '../ring/layout.js';
import { LogReader } from '../reader/log-reader.js';
import { nodeFileIO } from '../storage/file-io.js';
import type { ConsumerStyle, Handler, Message, Outcome, ProcessContext, ProcessSummary, Whence } from '../types.js';
import { Waiter } from './waiter.js';

export interface ConsumerOptions {
  /** The log directory; it must exist (a producer creates it). */
  logDir: string;
  style: ConsumerStyle;
  /**
   * In the producer's process: hand out records once written ('written', the default, lowest
   * latency) or only once fsynced ('durable'). A consumer in another process sees written records.
   */
  visibility?: 'written' | 'durable';
  /** Tailing from another process: the longest wait between checks of the files. Default 50 ms. */
  pollIntervalMs?: number;
}

const KNOWN = new Set(['logDir', 'style', 'visibility', 'pollIntervalMs']);
const OUTCOMES = new Set<Outcome>(['commit', 'retry', 'skip', 'break']);

export class Consumer implements AsyncIterable<Message> {
  private readonly reader: LogReader;
  private readonly waiter: Waiter;
  private closed = false;
  private busy = false;
  /** A record handed to a handler that did not complete it; delivered first next time. */
  private pending: Message | null = null;

  private constructor(
    /** The real path of the log directory; with an offset it makes an idempotency key. */
    readonly logId: string,
    private readonly durableOnly: boolean,
    pollIntervalMs: number,
    start: number,
  ) {
    this.reader = new LogReader(nodeFileIO, logId);
    this.waiter = new Waiter(logId, pollIntervalMs);
    this.reader.seek(start);
  }

  static async open(options: ConsumerOptions): Promise<Consumer> {
    if (options === null || typeof options !== 'object') throw LogError.invalidOption('options', `expected an object, got ${describe(options)}`);
    for (const k of Object.keys(options)) if (!KNOWN.has(k)) throw LogError.invalidOption(k, 'unknown option');
    const logDir = requireLogDir(options.logDir);
    const style = options.style as ConsumerStyle | undefined;
    if (style === null || typeof style !== 'object' || !['nonTx', 'clientTx', 'globalTx'].includes(style.kind)) {
      throw LogError.invalidOption('style', `expected ConsumerStyle.nonTx(whence), clientTx(id) or globalTx(), got ${describe(style)}`);
    }
    if (style.kind !== 'nonTx') {
      throw LogError.invalidOption('style', `${style.kind} (transactional) consumers are not available in this version of reactive-log`);
    }
    const visibility = options.visibility ?? 'written';
    if (visibility !== 'written' && visibility !== 'durable') throw LogError.invalidOption('visibility', `expected 'written' or 'durable', got ${describe(visibility)}`);
    const pollIntervalMs = options.pollIntervalMs === undefined ? 50 : requireInt('pollIntervalMs', options.pollIntervalMs, 1, 60_000);
    if (!existsSync(logDir) || !statSync(logDir).isDirectory()) throw LogError.invalidOption('logDir', `no log directory at ${logDir}`);
    const realDir = realpathSync(logDir);
    const start = startOffset(realDir, style.whence, visibility === 'durable');
    return new Consumer(realDir, visibility === 'durable', pollIntervalMs, start);
  }

  /** The offset of the next record this consumer will hand out. */
  get position(): number {
    return this.pending?.offset ?? this.reader.position;
  }

  /** Nonblocking: the records in the log now, then it ends. */
  *iter(): Generator<Message, void, undefined> {
    this.enter();
    try {
      for (;;) {
        const m = this.take();
        if (m === null) return;
        yield m;
      }
    } finally {
      this.busy = false;
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return this.tail();
  }

  /** Blocking: waits for new records; ends on break, close() or when `signal` aborts. */
  async *tail(options: { signal?: AbortSignal } = {}): AsyncGenerator<Message, void, undefined> {
    const signal = options.signal;
    this.enter();
    try {
      for (;;) {
        if (this.closed || signal?.aborted) return;
        const m = await this.takeOrWait(signal);
        if (m === null) return;
        yield m;
      }
    } finally {
      this.busy = false;
    }
  }

  /** Runs `handler` over the records in the log now, up to `max` completed (null: no limit). */
  nonblockingProcess(max: number | null, handler: Handler): Promise<ProcessSummary> {
    return this.process(max, handler, false, undefined);
  }

  /** Runs `handler` over records as they come, until `max`, 'break', close() or the signal aborts. */
  blockingProcess(max: number | null, handler: Handler, options: { signal?: AbortSignal } = {}): Promise<ProcessSummary> {
    return this.process(max, handler, true, options.signal);
  }

  /** Stops waiting iterations and closes the files. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.waiter.close();
    this.reader.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async process(max: number | null, handler: Handler, blocking: boolean, signal: AbortSignal | undefined): Promise<ProcessSummary> {
    if (max !== null) requireInt('max', max, 0, Number.MAX_SAFE_INTEGER);
    if (typeof handler !== 'function') throw LogError.invalidOption('handler', `expected a function, got ${describe(handler)}`);
    this.enter();
    const summary: ProcessSummary = { committed: 0, skipped: 0, retried: 0, stoppedBy: 'end' };
    try {
      for (;;) {
        if (max !== null && summary.committed + summary.skipped >= max) {
          summary.stoppedBy = 'limit';
          return summary;
        }
        if (signal?.aborted) {
          summary.stoppedBy = 'abort';
          return summary;
        }
        const msg = blocking ? await this.takeOrWait(signal) : this.take();
        if (msg === null) {
          summary.stoppedBy = signal?.aborted ? 'abort' : 'end';
          return summary;
        }
        this.pending = msg; // until the handler completes it, the record is delivered again
        for (let attempt = 1; ; attempt++) {
          const ctx: ProcessContext = { attempt, logId: this.logId, offset: msg.offset };
          const outcome = await handler(msg, ctx);
          if (!OUTCOMES.has(outcome)) {
            throw LogError.invalidOption('handler', `returned ${describe(outcome)}; expected 'commit', 'retry', 'skip' or 'break'`);
          }
          if (outcome === 'commit') summary.committed++;
          else if (outcome === 'skip') summary.skipped++;
          else if (outcome === 'break') {
            summary.stoppedBy = 'break';
            return summary;
          } else {
            summary.retried++;
            if (this.closed || signal?.aborted) {
              summary.stoppedBy = this.closed ? 'end' : 'abort';
              return summary;
            }
            continue;
          }
          this.pending = null;
          break;
        }
      }
    } finally {
      this.busy = false;
    }
  }

  private enter(): void {
    if (this.closed) throw LogError.closed('consumer');
    if (this.busy) throw new LogError(ErrorCode.CONSUMER_BUSY, 'this consumer is already serving an iteration or a processing call');
    this.busy = true;
  }

  /** The next record visible now, or null. */
  private take(): Message | null {
    if (this.closed) return null;
    if (this.pending !== null) {
      const m = this.pending;
      this.pending = null;
      return m;
    }
    return this.reader.read(this.limit());
  }

  private async takeOrWait(signal: AbortSignal | undefined): Promise<Message | null> {
    for (;;) {
      const c = this.sharedControl();
      const slot = this.durableOnly ? I32.DURABLE_SEQ : I32.WRITTEN_SEQ;
      const seen = c !== null ? Atomics.load(c.i32, slot) : 0;
      const m = this.take();
      if (m !== null || this.closed || signal?.aborted) return m;
      if (c !== null) await this.waiter.onShared(c.i32, slot, seen, signal);
      else await this.waiter.onFiles(signal);
    }
  }

  /** In the producer's process while it runs: its control block, else null (tail the files). */
  private sharedControl(): ControlViews | null {
    const p = localProducer(this.logId);
    if (p === undefined) return null;
    const c = controlViews(p.shared.control);
    const state = Atomics.load(c.i32, I32.STATE);
    return state === State.RUNNING || state === State.CLOSING ? c : null;
  }

  private limit(): number {
    const c = this.sharedControl();
    if (c === null) return Infinity;
    return loadOffset(c, this.durableOnly ? I64.DURABLE_OFFSET : I64.WRITTEN_OFFSET);
  }
}

/** Resolves a Whence to an offset, checking it against the log's current bounds. */
function startOffset(realDir: string, whence: Whence, durableOnly: boolean): number {
  const local = localProducer(realDir);
  let start: number;
  let end: number;
  if (local !== undefined) {
    const c = controlViews(local.shared.control);
    start = loadOffset(c, I64.LOG_START_OFFSET);
    end = durableOnly ? loadOffset(c, I64.DURABLE_OFFSET) : local.nextOffset();
  } else {
    const r = new LogReader(nodeFileIO, realDir);
    try {
      ({ start, end } = r.bounds());
    } finally {
      r.close();
    }
  }
  if (whence === null || typeof whence !== 'object') throw LogError.invalidOption('style', `expected a Whence, got ${describe(whence)}`);
  switch (whence.kind) {
    case 'oldest': return start;
    case 'latest': return end;
    case 'position': {
      const at = requireInt('whence', whence.offset, 0, Number.MAX_SAFE_INTEGER);
      if (at < start) {
        throw new LogError(ErrorCode.POSITION_EXPIRED, `offset ${at} is no longer stored: the log now starts at ${start}`, { offset: at, logStartOffset: start });
      }
      if (at > end) throw LogError.invalidOption('whence', `position ${at} is past the end of the log (${end})`);
      return at;
    }
    default: throw LogError.invalidOption('whence', `unknown kind ${describe((whence as { kind: unknown }).kind)}`);
  }
}
