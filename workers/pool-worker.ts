/**
 * A consumer pool worker (run by piscina). It reads the records of its range from the segment files
 * itself, so no payload is copied between threads, and runs the user's handler module on each in
 * order, applying the retry policy. It never commits: the coordinator advances the cursor over the
 * contiguous prefix of finished ranges.
 */
import { LogError } from '../src/errors.js';
import { LogReader } from '../src/reader/log-reader.js';
import { fileIO } from '../src/storage/file-io.js';
import type { Handler, Outcome, ProcessContext } from '../src/types.js';
import type { PoolResult, PoolTask } from '../src/consumer/pool-protocol.js';

const handlers = new Map<string, Promise<Handler>>();
const readers = new Map<string, LogReader>();

function loadHandler(url: string): Promise<Handler> {
  let h = handlers.get(url);
  if (h === undefined) {
    h = import(url).then((m: { default?: unknown }) => {
      if (typeof m.default !== 'function') throw LogError.invalidOption('handler', `module ${url} has no default export function`);
      return m.default as Handler;
    });
    handlers.set(url, h);
  }
  return h;
}

export default async function run(task: PoolTask): Promise<PoolResult> {
  const outcomes = new Uint8Array(task.to - task.from);
  const exhausted: Array<{ offset: number; attempts: number; lastError: string | null }> = [];
  let retried = 0;
  let completed = 0;
  const finish = (stop: PoolResult['stop']): PoolResult => ({ completed, outcomes, retried, exhausted, stop });
  try {
    const handler = await loadHandler(task.handler);
    let reader = readers.get(task.logDir);
    if (reader === undefined) {
      reader = new LogReader(await fileIO(), task.logDir);
      readers.set(task.logDir, reader);
    }
    // Ranges alternate between workers: moving forward past another worker's range is cheaper than a
    // seek (which lists the directory, reads the index and reopens the segment).
    if (reader.position !== task.from && !reader.skipTo(task.from)) reader.seek(task.from);
    for (let offset = task.from; offset < task.to; offset++) {
      const msg = reader.read(task.to, false);
      if (msg === null || msg.offset !== offset) throw new LogError('ERR_LOG_CORRUPT', `record ${offset} was dispatched but cannot be read`, { offset });
      let lastError: string | null = null;
      for (let attempt = 1; ; attempt++) {
        const ctx: ProcessContext = {
          attempt, logId: task.logDir, offset, state: null,
          setState() {
            throw LogError.invalidOption('state', 'a state value cannot be committed from a worker pool: records finish out of order');
          },
        };
        let outcome: Outcome;
        try {
          outcome = await handler(msg, ctx);
        } catch (e) {
          if (!task.retry.retryOnThrow) throw e;
          lastError = e instanceof Error ? e.message : String(e);
          outcome = 'retry';
        }
        if (outcome === 'commit' || outcome === 'skip') {
          outcomes[offset - task.from] = outcome === 'commit' ? 0 : 1;
          break;
        }
        if (outcome === 'break') return finish({ kind: 'break' });
        if (outcome !== 'retry') throw LogError.invalidOption('handler', `returned ${String(outcome)}; expected 'commit', 'retry', 'skip' or 'break'`);
        retried++;
        if (task.retry.maxAttempts !== null && attempt >= task.retry.maxAttempts) {
          outcomes[offset - task.from] = 2;
          exhausted.push({ offset, attempts: attempt, lastError });
          break;
        }
        const r = task.retry;
        const delay = r.backoff === 'fixed' ? r.delayMs : Math.min(r.maxDelayMs, r.delayMs * 2 ** (attempt - 1));
        await new Promise((resolve) => (delay > 0 ? setTimeout(resolve, delay) : setImmediate(resolve)));
      }
      completed++;
    }
    return finish(null);
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    return finish({ kind: 'error', message: e instanceof Error ? e.message : String(e), code: typeof code === 'string' ? code : null });
  }
}
