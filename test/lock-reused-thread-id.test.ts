/**
 * The append lock's word names its holder's OS thread. Linux hands a thread id out again once the ids
 * wrap (pid_max, 32768 on many systems): a thread terminated holding the lock can name a thread id that
 * a later thread of the process gets. An append on that later thread must see a holder that is gone
 * (ERR_PRODUCER_STALLED, the log failed), not an append of its own thread that called it from a
 * getter (ERR_INVALID_RECORD, the log left running behind a lock nobody releases). The dead holder is
 * made here by a worker that takes the lock with a stamp naming the test's thread, as a real append of
 * a thread with that id would, and is terminated holding it.
 */
import * as assert from 'uvu/assert';
import { existsSync, readlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { ErrorCode, Producer, SyncPolicy } from '../dist/index.js';
import { readRecords, rejectsWith, suite, tempDir, throwsWith } from './kit.js';

const test = suite('lock-reused-thread-id');

/** Far below appendTimeoutMs (10 s by default) + 2 s. */
const BOUND_MS = 5_000;

async function deadHolderNaming(token: unknown, tid: number): Promise<void> {
  const w = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const lock = new Int32Array(workerData.token.control, 192, 3); // APPEND.LOCK
    while (Atomics.compareExchange(lock, 0, 0, (workerData.tid << 10) | 3) !== 0);
    parentPort.postMessage({ holding: true });
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  `, { eval: true, workerData: { token, tid }, execArgv: [] });
  await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
  await w.terminate();
}

test('an append on a thread whose id a dead holder of the append lock had: ERR_PRODUCER_STALLED, bounded', async () => {
  if (!existsSync('/proc/thread-self')) return; // the lock word names no thread where /proc does not
  const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  p.append('before');
  await p.flush();
  await deadHolderNaming(p.share(), tid);
  const t = performance.now();
  const err = throwsWith(() => p.append('after'), ErrorCode.PRODUCER_STALLED);
  const took = performance.now() - t;
  assert.match(err.message, 'stopped inside an append');
  assert.ok(took < BOUND_MS, `the append took ${Math.round(took)} ms`);
  assert.is(p.error?.code, ErrorCode.PRODUCER_STALLED, 'the log failed');
  await rejectsWith(p.close(), ErrorCode.PRODUCER_STALLED);
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['before']);
});

test.run();
