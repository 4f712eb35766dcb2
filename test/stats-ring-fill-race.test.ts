/**
 * producer.stats() beside an attached handle appending in another thread: the ring's fill is read
 * from two counters (the producer's head, the writer's tail) that move meanwhile. A stats() call
 * paused between its two reads (a preemption; forced here by holding the thread after it read the
 * first counter until the other thread appended and the writer took the records) must still give
 * a fill between 0 and the ring's size, never a figure of billions of bytes.
 */
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { Producer, SyncPolicy } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';

const test = suite('stats-ring-fill-race');
const FIXTURE = new URL('./fixtures/attached-producer.mjs', import.meta.url);
const HEAD = 0;
const TAIL = 1;

test('ringBytes and ringFill stay within the ring while another thread appends and the writer drains', async () => {
  const logDir = tempDir();
  const ringBytes = 64 * 1024;
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), ringBytes });
  const token = p.share();
  const control = new Int32Array(token.control);
  const w = new Worker(FIXTURE, { workerData: { mode: 'append', token, id: 'a', n: 200_000, seed: 7 }, execArgv: [] });
  const done = new Promise<void>((resolve, reject) => { w.once('message', () => resolve()); w.once('error', reject); });
  try {
    await waitFor(() => p.writtenOffset > 1000, 'the attached handle to append');
    // Atomics.load of the control block: each read of a counter holds this thread until the other
    // counter passed what was read (the head read first, or the tail read first, whichever stats() does).
    const load = Atomics.load;
    let armed = true;
    let passed = false;
    const paused = (a: never, i: number): number => {
      const v = load(a, i) as unknown as number;
      if (!armed || (a as unknown as Int32Array).buffer !== control.buffer || (i !== HEAD && i !== TAIL)) return v;
      armed = false;
      const deadline = Date.now() + 10_000;
      const other = i === HEAD ? TAIL : HEAD;
      // Until the other counter passed the value read (the other thread appended, the writer drained).
      while (!passed && Date.now() < deadline) passed = (((load(control, other) >>> 0) - (v >>> 0)) | 0) > 0;
      return v;
    };
    let stats: ReturnType<typeof p.stats>;
    (Atomics as { load: unknown }).load = paused;
    try {
      stats = p.stats();
    } finally {
      (Atomics as { load: unknown }).load = load;
    }
    await done;
    await p.close();
    assert.ok(passed, 'the other counter passed the one read while stats() was held');
    assert.ok(stats.ringBytes >= 0 && stats.ringBytes <= ringBytes, `ringBytes ${stats.ringBytes} of a ${ringBytes}-byte ring`);
    assert.ok(stats.ringFill >= 0 && stats.ringFill <= 1, `ringFill ${stats.ringFill}`);
  } finally {
    await w.terminate();
  }
});

test.run();
