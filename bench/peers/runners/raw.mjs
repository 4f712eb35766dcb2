// The physical limit as systems of the matrix, run in the same alternation as the systems so that it
// meets the disk in the same state (a virtual disk's burst credit, writeback left by earlier cells):
// the payload bytes, no framing and no per-record copy, written sequentially with writeSync in chunks
// of spec.chunkBytes (1 MiB by default). never: no sync; periodic: fdatasync once a second; always:
// fdatasync after every chunk (the writes a group commit of that size would make). Counted when
// written (never, periodic) or fsynced (always).
// spec.pipeline: two threads. A worker (this file again) writes and fdatasyncs one chunk while the
// main thread fills the next (one fill a batch), in two buffers of a SharedArrayBuffer handed over
// with Atomics.
import { once } from 'node:events';
import { closeSync, fdatasyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { runCells, now } from './common.mjs';

/** Writes chunks at the end of `fd`, each followed by the fdatasync its level asks for. */
function sink(fd, level) {
  let position = 0;
  let lastSync = now();
  return {
    write(buf, n) {
      for (let done = 0; done < n;) done += writeSync(fd, buf, done, n - done, position + done);
      position += n;
    },
    sync() {
      if (level === 'always' || (level === 'periodic' && now() - lastSync >= 1000)) {
        fdatasyncSync(fd);
        lastSync = now();
      }
    },
  };
}

/** One thread: a chunk of payload bytes filled once, written and synced when handed. */
function inline(fd, level, chunkBytes) {
  const chunk = Buffer.alloc(chunkBytes, 0x61);
  const out = sink(fd, level);
  return { free: () => undefined, fill() {}, hand(n) { out.write(chunk, n); out.sync(); }, acked: () => undefined, close: () => closeSync(fd) };
}

// The pipeline's control words: chunks handed to the worker, written by it, acknowledged at the
// level (written and, for always, fdatasynced); a stop flag; the length of each buffer's chunk.
const [HANDED, WRITTEN, ACKED, STOP, LEN] = [0, 1, 2, 3, 4];
const CTRL_BYTES = 32;
const views = (sab, chunkBytes) => [new Int32Array(sab, 0, CTRL_BYTES / 4), [0, 1].map((i) => Buffer.from(sab, CTRL_BYTES + i * chunkBytes, chunkBytes))];

async function until(ctrl, i, value) {
  for (let v = Atomics.load(ctrl, i); v < value; v = Atomics.load(ctrl, i)) {
    const r = Atomics.waitAsync(ctrl, i, v);
    if (r.async) await r.value;
  }
}

/** Two threads: the main thread fills chunk k while the worker writes and syncs chunk k - 1. */
function pipeline(fd, level, chunkBytes) {
  const sab = new SharedArrayBuffer(CTRL_BYTES + 2 * chunkBytes);
  const [ctrl, bufs] = views(sab, chunkBytes);
  const worker = new Worker(new URL(import.meta.url), { workerData: { fd, level, sab, chunkBytes } });
  worker.on('error', (e) => {
    throw e;
  });
  let k = 0; // the chunk being filled
  return {
    free: () => (Atomics.load(ctrl, WRITTEN) >= k - 1 ? undefined : until(ctrl, WRITTEN, k - 1)), // chunk k - 2 written
    fill: (from, n) => bufs[k % 2].fill(0x61, from, from + n),
    hand(n) {
      ctrl[LEN + (k % 2)] = n;
      Atomics.store(ctrl, HANDED, ++k);
      Atomics.notify(ctrl, HANDED);
    },
    acked: () => until(ctrl, ACKED, k),
    async close() {
      Atomics.store(ctrl, STOP, 1);
      Atomics.notify(ctrl, HANDED);
      await once(worker, 'exit');
      closeSync(fd);
    },
  };
}

function pipelineWorker({ fd, level, sab, chunkBytes }) {
  const [ctrl, bufs] = views(sab, chunkBytes);
  const out = sink(fd, level);
  for (let k = 0; ; k++) {
    while (Atomics.load(ctrl, HANDED) === k) {
      if (Atomics.load(ctrl, STOP) === 1) return;
      Atomics.wait(ctrl, HANDED, k);
    }
    out.write(bufs[k % 2], ctrl[LEN + (k % 2)]);
    Atomics.store(ctrl, WRITTEN, k + 1);
    if (level !== 'always') Atomics.store(ctrl, ACKED, k + 1);
    Atomics.notify(ctrl, WRITTEN);
    out.sync();
    Atomics.store(ctrl, ACKED, k + 1);
    Atomics.notify(ctrl, ACKED);
  }
}

if (!isMainThread) pipelineWorker(workerData);
else {
  await runCells({
    async open(cell, spec) {
      const chunkBytes = Math.max(spec.chunkBytes ?? 1024 * 1024, cell.recordBytes);
      mkdirSync(cell.dir, { recursive: true });
      const fd = openSync(join(cell.dir, 'raw.bin'), 'w');
      const out = (spec.pipeline ? pipeline : inline)(fd, cell.level, chunkBytes);
      let filled = 0; // bytes of the current chunk
      let total = 0;
      const hand = () => {
        out.hand(filled);
        total += filled;
        filled = 0;
      };
      // Takes `bytes` into chunks, handing each full one over; a promise when a buffer must be waited for.
      const take = (bytes) => {
        for (; bytes > 0;) {
          const wait = filled === 0 ? out.free() : undefined;
          if (wait !== undefined) return wait.then(() => take(bytes));
          const m = Math.min(bytes, chunkBytes - filled);
          out.fill(filled, m);
          filled += m;
          bytes -= m;
          if (filled === chunkBytes) hand();
        }
        return undefined;
      };
      return {
        send: (payload, n) => take(payload.length * n),
        async settle() {
          if (filled > 0) hand();
          await out.acked();
        },
        diskBytes: () => total,
        close: () => out.close(),
      };
    },
    inFlight: 1,
  });
}
