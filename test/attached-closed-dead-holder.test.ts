/**
 * An attached handle whose owner closed (or was destroyed) while a thread that ended inside an append
 * still holds the append lock: its append and appendBatch throw ERR_LOG_CLOSED at once, as after any
 * close of the owner, instead of waiting on the dead holder's lock and throwing ERR_PRODUCER_STALLED
 * (after a slice of 50 ms where /proc names the holder's thread, after appendTimeoutMs + 2 s where
 * it does not: a lock word that names no thread).
 */
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { ErrorCode, Producer, SyncPolicy } from '../dist/index.js';
import { readTexts, rejectsWith, suite, tempDir, throwsWith } from './kit.js';

const test = suite('attached-closed-dead-holder');

/**
 * A worker that takes the append lock and is terminated holding it; `namesThread`: its stamp names
 * its OS thread, as a real append's does on Linux (else the stamp names none, as elsewhere).
 */
async function deadHolder(token: unknown, namesThread: boolean): Promise<void> {
  const w = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const { readlinkSync } = require('node:fs');
    const tid = workerData.namesThread ? Number(readlinkSync('/proc/thread-self').split('/').at(-1)) : 0;
    const lock = new Int32Array(workerData.token.control, 192, 3); // APPEND.LOCK
    while (Atomics.compareExchange(lock, 0, 0, (tid << 10) | 3) !== 0);
    parentPort.postMessage({ holding: tid });
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  `, { eval: true, workerData: { token, namesThread }, execArgv: [] });
  await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
  await w.terminate();
}

for (const stop of ['close', 'destroy'] as const) {
  for (const namesThread of [true, false]) {
    test(`after the owner's ${stop}() beside a dead lock holder (${namesThread ? 'named' : 'unnamed'} thread), an attached append throws ERR_LOG_CLOSED at once`, async () => {
      if (namesThread && !existsSync('/proc/self/task')) return;
      const logDir = tempDir();
      // appendTimeoutMs 200: an owner's close() waits out 2.2 s for a holder it cannot see gone.
      const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), appendTimeoutMs: 200 });
      const token = p.share();
      const a = Producer.attach(token);
      a.append('before');
      await a.flush();
      await deadHolder(token, namesThread);
      await p[stop]();
      const t = performance.now();
      throwsWith(() => a.append('after'), ErrorCode.LOG_CLOSED);
      throwsWith(() => a.appendBatch(['after']), ErrorCode.LOG_CLOSED);
      const took = performance.now() - t;
      assert.ok(took < 40, `the appends took ${Math.round(took)} ms`);
      assert.is(a.error, null);
      // After a destroy() nothing is known durable: the handle's close() says the log stopped.
      if (stop === 'close') await a.close();
      else await rejectsWith(a.close(), ErrorCode.LOG_CLOSED);
      assert.equal(await readTexts(logDir), ['before']);
    });
  }
}

test.run();
