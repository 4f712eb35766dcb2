/**
 * The writer thread's entry. Lifecycle: recover the directory, post `ready`, run the writer loop until
 * close, post `closed`. Any failure sets STATE to FAILED in shared memory (so a synchronous append sees
 * it at once), wakes every waiter, and posts `failed` with the error's code and message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LogError, ErrorCode } from '../src/errors.js';
import { FailureCode, I32, State, bump, controlViews } from '../src/ring/layout.js';
import { fileIO } from '../src/storage/file-io.js';
import { recoverLog } from '../src/storage/recovery.js';
import { LogWriter } from '../src/writer/log-writer.js';
import type { WriterToMain, WriterWorkerData } from '../src/writer/messages.js';

const data = workerData as WriterWorkerData;

const port = parentPort!;
const post = (m: WriterToMain): void => port.postMessage(m);
const c = controlViews(data.shared.control);

let writer: LogWriter | null = null;
try {
  const io = await fileIO();
  const recovered = recoverLog(io, data.options.logDir, data.options.indexIntervalBytes, Date.now());
  writer = new LogWriter(io, data.options, data.shared, recovered);
  post({
    type: 'ready',
    nextOffset: recovered.nextOffset,
    logStartOffset: recovered.segments[0]!.baseOffset,
    truncated: recovered.truncated,
    removed: recovered.removed,
  });
  writer.run();
  post({ type: 'closed' });
} catch (e) {
  writer?.abandon();
  const err = e instanceof LogError ? e : LogError.fromSystem(e, 'writer');
  const failure = err.code === ErrorCode.DISK_FULL ? FailureCode.DISK_FULL
    : err.code === ErrorCode.LOG_CORRUPT ? FailureCode.CORRUPT
      : err.code === ErrorCode.IO ? FailureCode.IO : FailureCode.INTERNAL;
  Atomics.store(c.i32, I32.FAILURE, failure);
  Atomics.store(c.i32, I32.STATE, State.FAILED);
  // Wake everybody who might wait on the writer: appenders, flushers, readers.
  Atomics.notify(c.i32, I32.TAIL);
  bump(c, I32.DURABLE_SEQ);
  bump(c, I32.WRITTEN_SEQ);
  post({ type: 'failed', code: err.code, message: err.message, details: err.details });
}
