/**
 * The writer thread's entry. Lifecycle: wait for the opener's go (it holds the directory's lock), recover the directory, post `ready`, run the writer loop until
 * close (between groups of records it answers control calls: src/writer/control-port.ts), then exit (the loop stored CLOSED in shared memory; the producer learns of it from the exit).
 * Any failure fails the log in shared memory (failLog: so a synchronous append sees it at once, and
 * every waiter wakes), then posts `failed` with the error's code, message and details.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LogError } from '../src/errors.js';
import { Gate, I32, controlViews, failLog, failureCodeOf } from '../src/ring/layout.js';
import { osThreadId } from '../src/ring/os-thread.js';
import { fileIO } from '../src/storage/file-io.js';
import { recoverLog } from '../src/storage/recovery.js';
import { LogWriter } from '../src/writer/log-writer.js';
import type { WriterToMain, WriterWorkerData } from '../src/writer/messages.js';
import { WriterEndpoint } from '../src/writer/control-port.js';

const data = workerData as WriterWorkerData;

const port = parentPort!;
const post = (m: WriterToMain): void => port.postMessage(m);
const c = controlViews(data.shared.control);

let writer: LogWriter | null = null;
Atomics.store(c.i32, I32.WRITER_TID, osThreadId());
// Nothing in the directory is touched before the opener holds its lock (I32.START_GATE); a refused
// open stops the thread here, and it ends without a word.
while (Atomics.load(c.i32, I32.START_GATE) === Gate.WAIT) Atomics.wait(c.i32, I32.START_GATE, Gate.WAIT);
if (Atomics.load(c.i32, I32.START_GATE) === Gate.GO) await run();
else {
  data.controlPort.close();
  port.close();
}

/** Recovers the directory, posts `ready`, and runs the writer until close (or fails the log). */
async function run(): Promise<void> {
  try {
    const io = await fileIO();
    const recovered = recoverLog(io, data.options.logDir, data.options.indexIntervalBytes, io.now());
    writer = new LogWriter(io, data.options, data.shared, recovered, () => io.now(), post);
    post({
      type: 'ready',
      nextOffset: recovered.nextOffset,
      truncated: recovered.truncated,
      removed: recovered.removed,
    });
    const w = writer;
    const control = new WriterEndpoint(data.controlPort, c);
    control.serve({ roll: () => w.rollNow(), segments: () => w.segmentList() });
    for (let r = writer.run(); r !== 'closed'; r = writer.run()) {
      if (r === 'control') control.drain();
      // comlink posts each answer from a promise callback, and the write-behind's fdatasync ends in a
      // callback ('turn'): let them run before the loop resumes.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    data.controlPort.close();
  } catch (e) {
    writer?.abandon();
    const err = e instanceof LogError ? e : LogError.fromSystem(e, 'writer');
    failLog(c, failureCodeOf(err.code));
    post({ type: 'failed', code: err.code, message: err.message, details: err.details });
  }
}
