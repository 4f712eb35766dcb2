/**
 * A thread attached to a shared producer that is terminated while it holds the append lock (its
 * stamp names its OS thread, as a real append's does): the owner's close() and the other handles'
 * appends see the holder's thread gone within a slice of their wait, instead of blocking their
 * thread for appendTimeoutMs + 2 s (12 s by default, with the event loop stopped). close() resolves
 * with every record whose append returned durable; an append throws ERR_PRODUCER_STALLED.
 */
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { ErrorCode, Producer, SyncPolicy } from '../dist/index.js';
import { readRecords, suite, tempDir, throwsWith } from './kit.js';

const test = suite('close-dead-lock-holder');

/** Far below the default appendTimeoutMs (10 s) + 2 s, far above a slice of the lock's wait (50 ms). */
const BOUND_MS = 5_000;

/** A worker that takes the append lock with a stamp naming its own OS thread, then is terminated holding it. */
async function deadHolder(token: unknown): Promise<void> {
  const w = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const { readlinkSync } = require('node:fs');
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    const lock = new Int32Array(workerData.token.control, 192, 3); // APPEND.LOCK
    while (Atomics.compareExchange(lock, 0, 0, (tid << 10) | 3) !== 0);
    parentPort.postMessage({ holding: tid });
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  `, { eval: true, workerData: { token }, execArgv: [] });
  await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
  await w.terminate();
}

test('the owner\'s close() with a dead holder of the append lock resolves without waiting out the stall bound', async () => {
  if (!existsSync('/proc/self/task')) return; // the lock word names no thread where /proc does not
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() }); // appendTimeoutMs: 10 s
  p.append('before');
  await deadHolder(p.share());
  const t = performance.now();
  await p.close();
  const took = performance.now() - t;
  assert.ok(took < BOUND_MS, `close() took ${Math.round(took)} ms`);
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['before']);
});

test('an append behind a dead holder of the append lock throws ERR_PRODUCER_STALLED without waiting out the bound', async () => {
  if (!existsSync('/proc/self/task')) return;
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  p.append('before');
  await deadHolder(p.share());
  const t = performance.now();
  throwsWith(() => p.append('after'), ErrorCode.PRODUCER_STALLED);
  const took = performance.now() - t;
  assert.ok(took < BOUND_MS, `the append took ${Math.round(took)} ms`);
  const err = await p.close().then(() => null, (e: Error & { code: string }) => e);
  assert.is(err?.code, ErrorCode.PRODUCER_STALLED);
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['before']);
});

test.run();
