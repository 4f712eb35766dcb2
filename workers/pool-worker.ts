/**
 * A consumer pool worker's entry (run by piscina). Lifecycle of one task: load the handler module
 * (once per worker; the task ends 'stopped' if the call stops while the import lasts), wait until
 * the worker of every lane of the round has it (a failed import elsewhere stops the call first), take this
 * thread's reader of the log (once per log; a reader of the task's shared record window when the
 * log is on a backend, src/consumer/pool-window.ts), run the task's lane
 * (src/consumer/pool-lane.ts), and answer with why the lane ended. A throw, from loading or from the
 * lane, becomes an 'error' answer after the lane's progress is published: the coordinator rethrows it.
 */
import { LogError } from '../src/errors.js';
import { Lane } from '../src/consumer/pool-lane.js';
import { LANE_HAS_HANDLER, LANE_IMPORTING, LANE_REIMPORTING, P32, STOP_CLOSING, lanesWithRecords, progressViews, type LaneRecordReader, type PoolResult, type PoolTask } from '../src/consumer/pool-protocol.js';
import { WindowReader } from '../src/consumer/pool-window.js';
import { LaneReader } from '../src/reader/lane-reader.js';
import type { DirIdentity } from '../src/reader/dir-identity.js';
import { bump, controlViews } from '../src/ring/layout.js';
import { writerFramesOf } from '../src/ring/writer-frames.js';
import { waitSlot } from '../src/ring/wait.js';
import { fileIO } from '../src/storage/file-io.js';
import type { Handler } from '../src/types.js';
import { valueText } from '../src/consumer/handler-policy.js';

const handlers = new Map<string, Promise<Handler>>();
/** The handlers whose import has finished. */
const loaded = new Map<string, Handler>();
const readers = new Map<string, LaneReader>();
/**
 * Handler module imports in flight in this thread. The pool's shared count (`imports`) counts every
 * thread's, but a thread that dies during its import (a module that calls process.exit() at its top
 * level, a thread stopped mid-import) never takes its own back: settle() waits for this thread's only.
 */
let ownImports = 0;

/**
 * The handler module's default export, imported once per worker. ERR_INVALID_OPTION if the module
 * cannot be loaded (a syntax error, a file that is no module, a throw at import; the cause is kept)
 * or its default export is not a function. The import is counted in `imports` (the pool's count of
 * imports in flight) while it lasts: ConsumerPool.close() waits for it before stopping the threads.
 */
function loadHandler(url: string, imports: SharedArrayBuffer): Promise<Handler> {
  let h = handlers.get(url);
  if (h === undefined) {
    const inFlight = new Int32Array(imports);
    ownImports++;
    Atomics.add(inFlight, 0, 1);
    const settled = (): void => {
      ownImports--;
      Atomics.sub(inFlight, 0, 1);
      Atomics.notify(inFlight, 0);
    };
    h = import(url).finally(settled).then((m: { default?: unknown }) => {
      if (typeof m.default !== 'function') throw LogError.invalidOption('handler', `module ${url} has no default export function`);
      loaded.set(url, m.default as Handler);
      return m.default as Handler;
    }, (e: unknown) => {
      throw LogError.invalidOption('handler', `module ${url} cannot be loaded: ${valueText(e)}`, { cause: e });
    });
    handlers.set(url, h);
  }
  return h;
}

/**
 * The task's handler, or null when the call stops first (a task that arrives after the stop begins
 * no import): an import that never settles (a top-level await on a service that does not answer)
 * runs no handler call; the coordinator stops the call when it lasts past timeoutMs (LANE_IMPORTING,
 * src/consumer/pool-import-watch.ts), so the stop flag (that, close(), an abort) is watched while it lasts. A stop bumps SETTLED_SEQ. On close() the import
 * is let finish before the task ends, as the pool's threads are stopped next: Node's module loader
 * reads each module's file through an fs/promises FileHandle, and a thread stopped during that read
 * leaves the descriptor open in the process. An import still running timeoutMs after the stop has its
 * thread stopped by the coordinator.
 */
async function handlerOrStop(task: PoolTask): Promise<Handler | null> {
  const ready = loaded.get(task.handler);
  if (ready !== undefined) return ready;
  const p = progressViews(task.progress, task.lanes);
  // The call stopped before this task reached the thread (close() or an abort while the threads
  // started): no import begins, so the module's top-level code does not run for a call that is over,
  // and close() has no import to wait for. One already in progress here is waited for as below.
  if (!handlers.has(task.handler) && Atomics.load(p.i32, P32.STOP) !== 0) return null;
  // The coordinator stops the call when the lane's first import outlasts timeoutMs (pool-round.ts, checkImports).
  if (Atomics.compareExchange(p.loaded, task.lane, 0, LANE_IMPORTING) === LANE_HAS_HANDLER) Atomics.store(p.loaded, task.lane, LANE_REIMPORTING);
  const loading = loadHandler(task.handler, task.imports);
  let settled = false;
  const stopped = (async (): Promise<'stop' | 'close'> => {
    for (;;) {
      const seq = Atomics.load(p.i32, P32.SETTLED_SEQ);
      const stop = Atomics.load(p.i32, P32.STOP);
      if (stop !== 0 || settled) return stop === STOP_CLOSING ? 'close' : 'stop';
      await waitSlot(p.i32, P32.SETTLED_SEQ, seq, 100);
    }
  })();
  try {
    const first = await Promise.race([loading, stopped]);
    if (first === 'stop') return null;
    if (first === 'close') await loading.then(() => undefined, () => undefined);
    return typeof first === 'function' ? first : null;
  } finally {
    settled = true;
  }
}

/**
 * This lane's worker has the handler: counts the lane in P32.READY (once per round), then waits until
 * every lane that has records is counted, so that no lane runs a record when the handler module fails
 * to import on another thread (that lane's answer stops the call). False when the call stops first.
 * Once per task, before its first record: a worker started in place of a lost one finds the count
 * complete and goes on at once.
 */
async function allLanesReady(task: PoolTask): Promise<boolean> {
  const p = progressViews(task.progress, task.lanes);
  const was = Atomics.exchange(p.loaded, task.lane, LANE_HAS_HANDLER);
  if (was === 0 || was === LANE_IMPORTING) {
    Atomics.add(p.i32, P32.READY, 1);
    bump(p, P32.SETTLED_SEQ); // the lanes waiting below wake on it, as on a stop
  }
  const want = lanesWithRecords(task);
  for (;;) {
    const seq = Atomics.load(p.i32, P32.SETTLED_SEQ);
    if (Atomics.load(p.i32, P32.STOP) !== 0) return false;
    if (Atomics.load(p.i32, P32.READY) >= want) return true;
    await waitSlot(p.i32, P32.SETTLED_SEQ, seq, 100);
  }
}

/**
 * This thread's reader of `logDir` as the consumer opened it (`id`: the directory's device and inode
 * then, which the reader checks at each segment it opens): the lanes of one worker run one after
 * another, so they share it.
 */
async function readerOf(logDir: string, id: DirIdentity): Promise<LaneReader> {
  const key = id === null ? logDir : `${logDir}\0${id.dev}:${id.ino}`;
  let reader = readers.get(key);
  if (reader === undefined) {
    reader = new LaneReader(await fileIO(), logDir);
    reader.holdDir(id);
    readers.set(key, reader);
  }
  return reader;
}

/**
 * ConsumerPool.close()'s task, one per thread: keeps this thread running (piscina pauses a thread
 * between tasks) until its own imports of a handler module have settled, or for `ms` at most. It
 * wakes on the pool's count (`imports`), which this thread's import moves and notifies as it settles.
 */
export async function settle(task: { imports: SharedArrayBuffer; ms: number }): Promise<void> {
  const inFlight = new Int32Array(task.imports);
  const deadline = performance.now() + task.ms;
  for (let n = Atomics.load(inFlight, 0); ownImports > 0; n = Atomics.load(inFlight, 0)) {
    const left = deadline - performance.now();
    if (left <= 0) return;
    await waitSlot(inFlight, 0, n, left);
  }
}

/** One piscina task: run the task's lane and answer why it ended; never rejects. */
export default async function run(task: PoolTask): Promise<PoolResult> {
  const lane = new Lane(task);
  try {
    const handler = await handlerOrStop(task);
    if (handler === null || !(await allLanesReady(task))) return { stop: { kind: 'stopped' } };
    const reader: LaneRecordReader = task.window !== null ? new WindowReader(task.window) : await readerOf(task.logDir, task.dirIdentity);
    // The producer's own control block, its directory the log's: frames its writer wrote lately need no new check.
    if (reader instanceof LaneReader) reader.writer = task.end.writerFrames ? writerFramesOf(controlViews(task.end.control)) : null;
    return await lane.run(handler, reader);
  } catch (e) {
    return lane.fail(e);
  }
}
