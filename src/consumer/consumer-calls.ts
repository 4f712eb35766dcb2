/**
 * A consumer's processing calls: in the caller's thread or in a pool of worker threads, with the
 * pools and the dead-letter log they share, and how `close()` and `destroy()` end them.
 */
import { existsSync, statSync, type Stats } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LogError } from '../errors.js';
import { describe, optionalSignal, requireInt, requireObject, signalOnly } from '../validate.js';
import type { Handler, PoolOptions, ProcessSummary } from '../types.js';
import type { ResolvedRetry } from './start-plan.js';
import { DeadLetterSink } from './dead-letter.js';
import { ConsumerPool, resolvePoolOptions } from './pool.js';
import { runProcess } from './process.js';
import type { RecordFeed } from './record-feed.js';

export class ConsumerCalls {
  /** What a processing call in progress when destroy() was called rejects with. */
  destroyedWith: Error | null = null;
  /** Where records go after `retry.maxAttempts`; its log opens on the first one. */
  private readonly deadLetters: DeadLetterSink;
  /** The worker pools, by thread count; stopped when the consumer closes. */
  private readonly pools = new Map<number, ConsumerPool>();
  /** destroy() stopping the pools and the dead-letter log, once started. */
  private stopping: Promise<unknown> | null = null;

  /** `cursorName`: the transactional cursor's (its dead letters are written once per record), else null. */
  constructor(private readonly feed: RecordFeed, private readonly retry: ResolvedRetry, cursorName: string | null) {
    // Which log of its id this is (a JetStream stream's creation time), read now when this consumer can dead-letter a record of a cursor.
    const incarnation = cursorName !== null && retry.maxAttempts !== null ? feed.incarnation : null;
    this.deadLetters = new DeadLetterSink(retry.deadLetterDir, feed.logId, cursorName, incarnation, retry.deadLetterBesideLog === true);
  }

  /** One processing call: checks its arguments, enters the feed (ERR_CONSUMER_BUSY) and runs. */
  async run(max: number | null, handler: Handler | string | URL, blocking: boolean, options: PoolOptions): Promise<ProcessSummary> {
    if (max !== null) requireInt('max', max, 0, Number.MAX_SAFE_INTEGER);
    requireObject('options', options);
    optionalSignal(options.signal);
    if (typeof handler === 'function') {
      for (const k of ['workers', 'timeoutMs', 'batchRecords'] as const) {
        if (options[k] !== undefined) throw LogError.invalidOption(k, 'a worker pool takes a handler module (a path or URL whose default export is the handler), not a function');
      }
      signalOnly(options);
      this.feed.enter(true, !blocking);
      let failed = false;
      try {
        return await this.interruptible(runProcess(this.feed, max, handler, blocking, options.signal, this.retry, this.deadLetters));
      } catch (e) {
        failed = true;
        throw e;
      } finally {
        await this.endCall(failed);
      }
    }
    if (!this.feed.supportsPools) throw LogError.invalidOption('handler', 'this log\'s backend does not support worker pools: pass a handler function');
    const url = handlerModuleUrl(handler);
    const popts = resolvePoolOptions(options);
    this.feed.enter(true);
    let failed = false;
    try {
      // As in ConsumerPool.run: `max` 0 is 'limit', then a signal already aborted is 'abort', before any worker starts.
      const early = max === 0 ? 'limit' : popts.signal?.aborted === true ? 'abort' : null;
      if (early !== null) return { committed: 0, skipped: 0, retried: 0, stoppedBy: early };
      let pool = this.pools.get(popts.workers);
      if (pool === undefined) {
        pool = new ConsumerPool(popts.workers);
        this.pools.set(popts.workers, pool);
      }
      // A start by time reads past the records stored before its time first (a frame on its way to
      // the files at the open): the pool's lanes read the files on their own and would hand them out.
      while (!this.feed.startPoolCall()) {
        const stoppedBy = popts.signal?.aborted === true ? 'abort' : !blocking || this.feed.isClosed() ? 'end' : null;
        if (stoppedBy !== null) return await this.interruptible(Promise.resolve({ committed: 0, skipped: 0, retried: 0, stoppedBy }));
        await this.feed.wait(popts.signal);
      }
      try {
        return await this.interruptible(pool.run(this.feed, max, url, blocking, popts, this.retry, this.deadLetters));
      } finally {
        this.feed.endPoolCall();
      }
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      await this.endCall(failed);
    }
  }

  /**
   * A call ends (RecordFeed.leave): the cursor is made durable and the feed is free again. A call that
   * failed rejects with its own error, also when that last commit fails as well: a handler's error is
   * not replaced by the commit's (a handler that throws makes the call reject with its error). The
   * records done stay pending for the next commit, which tells the failure if it lasts.
   */
  private async endCall(failed: boolean): Promise<void> {
    try {
      await this.feed.leave();
    } catch (e) {
      if (!failed) throw e;
    } finally {
      await this.stoppedIfDestroyed();
    }
  }

  /** close(): the pools and the dead-letter log close, once the call in progress has ended. */
  async close(): Promise<void> {
    if (this.pools.size > 0) await Promise.all([...this.pools.values()].map((p) => p.close()));
    await this.deadLetters.close();
  }

  /** destroy(): the pools and the dead-letter log serve the call in progress, so they stop once it has ended. */
  async stopAfterCall(): Promise<void> {
    const callEnded = this.feed.callEnded;
    if (callEnded === null) await this.stop();
    else void callEnded.then(() => this.stop());
  }

  /** The pools and the dead-letter log stopped without draining (destroy()); once. */
  private stop(): Promise<unknown> {
    this.stopping ??= Promise.allSettled([
      ...[...this.pools.values()].map((p) => p.close()),
      this.deadLetters.destroy(),
    ]);
    return this.stopping;
  }

  /**
   * A call that destroy() interrupted rejects once its pool and dead-letter log are stopped, so that
   * the next owner of the cursor finds the dead-letter log's lock free.
   */
  private async stoppedIfDestroyed(): Promise<void> {
    if (this.destroyedWith !== null) await this.stop();
  }

  /**
   * Awaits a processing call that entered; one that destroy() interrupts rejects with destroy()'s
   * error. Inside the caller's try, so the call still ends (leave()) before close() goes on.
   */
  private async interruptible(call: Promise<ProcessSummary>): Promise<ProcessSummary> {
    let summary: ProcessSummary;
    try {
      summary = await call;
    } catch (e) {
      throw this.destroyedWith ?? e;
    }
    if (this.destroyedWith !== null) throw this.destroyedWith;
    return summary;
  }
}

/**
 * The URL of a handler module given as a path, a URL, or a string starting with `file:` (a file URL,
 * as import.meta.resolve() returns); ERR_INVALID_OPTION when it is none of these, or missing.
 */
function handlerModuleUrl(handler: unknown): string {
  if (typeof handler !== 'string' && !(handler instanceof URL)) {
    throw LogError.invalidOption('handler', `expected a function, or a module path or URL, got ${describe(handler)}`);
  }
  const url = handler instanceof URL ? handler.href : handler.startsWith('file:') ? fileUrlOf(handler) : pathToFileURL(resolvePath(handler)).href;
  // Pool threads import the module from a file: any other scheme (http:, data:) fails there.
  if (!url.startsWith('file:')) throw LogError.invalidOption('handler', `a handler module is a file (a path or a file: URL), got ${url}`);
  const path = localPathOf(url);
  if (statOf(path)?.isFile() !== true) {
    throw LogError.invalidOption('handler', `no handler module at ${path}${existsSync(path) ? ' (not a file)' : ''} (a handler is a function, or a module path or URL whose default export is the handler)`);
  }
  return url;
}

/** What stat says of the handler module `path`; a path the system refuses (NUL, too long, a loop) is ERR_INVALID_OPTION. */
function statOf(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (e) {
    throw LogError.invalidOption('handler', `no handler module at ${describe(path)}: ${(e as Error).message.slice(0, 200)}`, { cause: e });
  }
}

/** The local path a `file:` URL names; ERR_INVALID_OPTION for one naming another host or holding an encoded '/'. */
function localPathOf(url: string): string {
  try {
    return fileURLToPath(url);
  } catch (e) {
    throw LogError.invalidOption('handler', `${url} names no file of this machine (${(e as Error).message})`, { cause: e });
  }
}

/** A `file:` URL string, parsed; ERR_INVALID_OPTION when it is no valid URL. */
function fileUrlOf(handler: string): string {
  if (!URL.canParse(handler)) throw LogError.invalidOption('handler', `${describe(handler)} is not a valid file: URL`);
  return new URL(handler).href;
}
