/**
 * A JetStream producer whose process stood still past its lease (a long GC pause, a stopped process,
 * a machine put to sleep) while another producer took the lease over: the first thing it does once
 * it runs again is append. The stream's fence alone cannot stop that record while the new producer
 * has not appended yet (both read the same last sequence), so the producer publishes only while its
 * lease is surely live (its last stored renewal is recent): past that, it renews first, finds the
 * lease taken and stops with ERR_LOG_LOCKED, nothing landed; the new producer goes on.
 * The new producer runs in a worker thread, which goes on while the main thread stands still.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, textsOf, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream stale producer');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

const LEASE_MS = 1_000;

/** Opens a producer of `stream` (tried again while the lease is held), reports it, then appends `b1` when asked. */
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  const { Producer } = await import(workerData.index);
  const { jetstream } = await import(workerData.jetstream);
  const backend = jetstream({ servers: workerData.url, stream: workerData.stream, leaseMs: workerData.leaseMs, timeoutMs: 2000 });
  const opened = new Int32Array(workerData.opened);
  let b;
  for (;;) {
    try { b = await Producer.open({ backend }); break; } catch (e) {
      if (e.code !== 'ERR_LOG_LOCKED') throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  Atomics.store(opened, 0, 1);
  Atomics.notify(opened, 0);
  parentPort.once('message', async () => {
    try {
      const offset = b.append('b1');
      await b.flush();
      parentPort.postMessage({ offset });
    } catch (e) {
      parentPort.postMessage({ error: e.code + ': ' + e.message });
    } finally {
      await b.close().catch(() => undefined);
    }
  });
})().catch((e) => parentPort.postMessage({ error: String(e) }));
`;

test('a producer paused past its lease, taken over meanwhile, lands nothing when it appends at once: ERR_LOG_LOCKED', async () => {
  const stream = `stale-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: LEASE_MS, timeoutMs: 2_000 });
  const a = await Producer.open({ backend });
  const opened = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      index: new URL('../dist/index.js', import.meta.url).href, jetstream: new URL('../dist/jetstream.js', import.meta.url).href,
      url: server.url, stream, leaseMs: LEASE_MS, opened: opened.buffer,
    },
  });
  const reply = new Promise<{ offset?: number; error?: string }>((resolve) => worker.once('message', resolve));
  try {
    a.append('a0');
    await a.flush();
    // The main thread stands still (nothing of it runs: no renewal) until the worker's producer took
    // the lease, which expires LEASE_MS after a's last renewal.
    assert.is.not(Atomics.wait(opened, 0, 0, 30_000), 'timed-out', 'the worker\'s producer opened while this thread stood still');
    a.append('a-stale'); // the first thing after the pause: before any renewal could tell a its lease is gone
    const e = await within(rejectsWith(a.flush(), 'ERR_LOG_LOCKED'), 10_000, 'the stale producer\'s flush');
    assert.match(e.message, /lease/);
    worker.postMessage('append');
    const r = await within(reply, 10_000, 'the new producer\'s append');
    assert.equal(r, { offset: 1 }, 'the new producer appends at offset 1 and goes on');
  } finally {
    await a.destroy();
    await worker.terminate();
  }
  assert.equal(await textsOf(backend), ['a0', 'b1'], 'nothing of the stale producer landed after its lease was taken over');
});

runOrSkip(test, 'jetstream stale producer');
