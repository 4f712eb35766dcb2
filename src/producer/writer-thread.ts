/** Starting a producer's writer thread (workers/writer.ts, embedded in the built library: src/embedded.ts). */
import { Worker } from 'node:worker_threads';
import { moduleUrl, writerCode } from '../embedded.js';
import { ErrorCode, LogError } from '../errors.js';
import type { WriterToMain, WriterWorkerData } from '../writer/messages.js';

/** The writer's first message: recovery is done. */
export type ReadyMessage = Extract<WriterToMain, { type: 'ready' }>;

let writerUrl: URL | null = null;

/**
 * The writer's module as a data: URL: the thread runs it as an ES module (top-level await, node:
 * imports) straight from the library's memory, wherever the library itself was loaded from.
 */
function writerModuleUrl(): URL {
  writerUrl ??= moduleUrl(writerCode(), 'reactive-log-writer.mjs');
  return writerUrl;
}

/**
 * Starts the writer thread (it waits at its gate, I32.START_GATE, until the opener lets it recover).
 * `ready` resolves with its `ready` message (recovery done); a `failed` message, an error or an exit
 * before it rejects it, and the thread is stopped. Throws ERR_WRITER_FAILED when the thread cannot be made.
 */
export function startWriter(workerData: WriterWorkerData): { worker: Worker; ready: Promise<ReadyMessage> } {
  const url = writerModuleUrl();
  // The writer is built JavaScript: the process's flags (loaders such as tsx, --input-type, --eval)
  // would only slow its start or break it.
  let worker: Worker;
  try {
    worker = new Worker(url, { workerData, transferList: [workerData.controlPort], name: 'reactive-log writer', execArgv: [] });
  } catch (e) {
    // The system refused the thread (ERR_WORKER_INIT_FAILED: EAGAIN under a limit on threads): Node
    // throws here rather than emitting 'error'.
    throw new LogError(ErrorCode.WRITER_FAILED, `the writer thread failed to start: ${(e as Error).message}`, {}, { cause: e });
  }
  const ready = new Promise<ReadyMessage>((resolve, reject) => {
    const onMessage = (m: WriterToMain): void => {
      if (m.type === 'ready') { cleanup(); resolve(m); }
      if (m.type === 'failed') { cleanup(); reject(new LogError(m.code, m.message, m.details)); }
    };
    const onError = (e: Error): void => { cleanup(); reject(new LogError(ErrorCode.WRITER_FAILED, `the writer thread failed to start: ${e.message}`, {}, { cause: e })); };
    const onExit = (): void => { cleanup(); reject(new LogError(ErrorCode.WRITER_FAILED, 'the writer thread exited during start')); };
    const cleanup = (): void => { worker.off('message', onMessage); worker.off('error', onError); worker.off('exit', onExit); };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  }).catch(async (e: unknown) => {
    await worker.terminate();
    throw e;
  });
  return { worker, ready };
}
