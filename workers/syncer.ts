/**
 * The write-behind thread of a writer (src/writer/write-behind.ts): waits for a call in shared
 * memory, takes it (ASKED -> TAKEN), fdatasyncs the descriptor it names, stores the result and DONE.
 * Started by the writer thread at its first call, from the text the build embeds in the writer's bundle.
 * It tells the writer how to see it end in the middle of a call: DIED from its exit handler, and its
 * thread id where /proc names threads.
 */
import { constants } from 'node:os';
import { workerData } from 'node:worker_threads';
import { osThreadId } from '../src/ring/os-thread.js';
import { fileIO } from '../src/storage/file-io.js';
import { Call, DIED, WB } from '../src/writer/write-behind.js';

const w = (workerData as { words: Int32Array }).words;
// The writer looks for /proc/self/task/<tid> while it waits for a call; without /proc (0) the exit
// handler below is the only word of an end mid-call.
Atomics.store(w, WB.TID, osThreadId());
process.on('exit', () => {
  if (Atomics.load(w, WB.STATE) !== Call.TAKEN) return;
  Atomics.store(w, WB.RESULT, DIED);
  Atomics.store(w, WB.STATE, Call.DONE);
  Atomics.notify(w, WB.STATE);
});
const io = await fileIO();
let seen = 0;
for (;;) {
  Atomics.wait(w, WB.ASK_SEQ, seen);
  seen = Atomics.load(w, WB.ASK_SEQ);
  if (Atomics.load(w, WB.STOP) !== 0) break;
  if (Atomics.compareExchange(w, WB.STATE, Call.ASKED, Call.TAKEN) !== Call.ASKED) continue;
  let result = 0;
  try {
    io.fdatasync(Atomics.load(w, WB.FD));
  } catch (e) {
    // The error's name travels as its negative errno: 0 means success, and an unknown name reads as EIO.
    const code = (e as NodeJS.ErrnoException).code;
    const errno = code === undefined ? undefined : (constants.errno as Record<string, number | undefined>)[code];
    result = errno === undefined ? -constants.errno.EIO : -errno;
  }
  Atomics.store(w, WB.RESULT, result);
  Atomics.store(w, WB.STATE, Call.DONE);
  Atomics.notify(w, WB.STATE);
}
