/**
 * A consumer pool worker (run by piscina). It reads the records of its range from the segment files
 * itself, so no payload is copied between threads, and runs the user's handler module on each in
 * order, applying the retry policy. A range may reach past the records written so far: the worker
 * waits for them with Atomics.wait on the end source (the producer's control block in its process),
 * so a new record wakes the worker directly. It comes back early, with the records it finished, when
 * the next one keeps it waiting (see PROGRESS_MS and IDLE_MS). It never commits: the coordinator
 * advances the cursor over the contiguous prefix of finished records.
 */
import { LogError } from '../src/errors.js';
import { LogReader } from '../src/reader/log-reader.js';
import { fileIO } from '../src/storage/file-io.js';
import { controlViews, loadOffset, type ControlViews } from '../src/ring/layout.js';
import type { Handler, Outcome, ProcessContext } from '../src/types.js';
import type { PoolResult, PoolTask } from '../src/consumer/pool-protocol.js';

/** With records finished, come back (so they can be committed) when the next one is not there after this long into the range. */
const PROGRESS_MS = 10;
/** With nothing finished, come back after waiting this long (the coordinator re-dispatches; a stop is seen). */
const IDLE_MS = 200;

const handlers = new Map<string, Promise<Handler>>();

/** Waits until record `offset` is readable; false when it is time to come back instead. Returns the end seen. */
function waitForRecord(task: PoolTask, c: ControlViews, offset: number, completed: number, startedAt: number): number {
  const { offsetSlot, seqSlot } = task.end;
  for (;;) {
    const seq = Atomics.load(c.i32, seqSlot);
    const end = loadOffset(c, offsetSlot);
    if (end > offset) return end;
    const now = performance.now();
    const left = completed > 0 ? startedAt + PROGRESS_MS - now : startedAt + IDLE_MS - now;
    if (left <= 0) return -1;
    Atomics.wait(c.i32, seqSlot, seq, left);
  }
}
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
    const c = controlViews(task.end.control); // a posted SharedArrayBuffer arrives as a new object each time
    const startedAt = performance.now();
    let end = 0;
    for (let offset = task.from; offset < task.to; offset++) {
      if (end <= offset) {
        end = waitForRecord(task, c, offset, completed, startedAt);
        if (end < 0) break;
      }
      if (offset === task.from && reader.position !== offset) {
        // Ranges alternate between workers: moving forward past another worker's range is cheaper
        // than a seek (which lists the directory, reads the index and reopens the segment).
        if (!reader.skipTo(offset)) reader.seek(offset);
      }
      const msg = reader.read(Math.min(task.to, end), task.end.strict);
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
