/** Starting a producer's writer thread (workers/writer.ts, built to dist/writer.js). */
import { Worker } from 'node:worker_threads';
import { ErrorCode, LogError } from '../errors.js';
import type { WriterToMain, WriterWorkerData } from '../writer/messages.js';

/** The writer's first message: recovery is done. */
export type ReadyMessage = Extract<WriterToMain, { type: 'ready' }>;

/**
 * Starts the writer thread and waits for its `ready` (recovery done); a `failed` message, an error
 * or an exit before it rejects, and the thread is stopped.
 */
export async function startWriter(workerData: WriterWorkerData): Promise<{ worker: Worker; ready: ReadyMessage }> {
  // The writer is built JavaScript: the process's flags (loaders such as tsx, --input-type, --eval)
  // would only slow its start or break it.
  const worker = new Worker(new URL('./writer.js', import.meta.url), { workerData, transferList: [workerData.controlPort], name: 'reactive-log writer', execArgv: [] });
  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
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
