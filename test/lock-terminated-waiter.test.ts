/**
 * A worker terminated while it sleeps waiting for the append lock of a shared producer (not holding
 * it) runs no more code: its count among the lock's sleepers stays. The lock's wake-ups must still
 * reach the threads that do sleep on it: a thread that waits for the lock gets it soon after the
 * holder lets go, not at the end of its 50 ms slice, on every handoff.
 */
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { readlinkSync } from 'node:fs';
import { Producer, SyncPolicy } from '../dist/index.js';
import { suite, readRecords, tempDir, waitFor } from './kit.js';

const test = suite('lock-terminated-waiter');
const FIXTURE = new URL('./fixtures/lock-handoff.mjs', import.meta.url);

function messageWith(w: Worker, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>): void => { if (key in m) { w.off('message', onMessage); resolve(); } };
    w.on('message', onMessage);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`worker exited (${code}) before a message with "${key}"`)));
  });
}

test('a waiter terminated while asleep on the append lock: the next sleepers are still woken at the release', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  const token = p.share();
  const waiters = new Int32Array(token.control, 192, 6);
  const sync = new Int32Array(new SharedArrayBuffer(12));
  const rounds = 9;
  const times = new Float64Array(new SharedArrayBuffer(8 * rounds));
  let mainTid = 0;
  try { mainTid = Number(readlinkSync('/proc/thread-self').split('/').at(-1)); } catch { /* no /proc */ }
  const holder = new Worker(FIXTURE, { workerData: { mode: 'holder', token, sync: sync.buffer, times: times.buffer, rounds, mainTid }, execArgv: [] });
  const done = messageWith(holder, 'done');
  done.catch(() => undefined); // awaited after the rounds
  try {
    await messageWith(holder, 'holding');
    const victim = new Worker(FIXTURE, { workerData: { mode: 'victim', token }, execArgv: [] });
    await messageWith(victim, 'attached');
    await waitFor(() => Atomics.load(waiters, 1) === 1, 'the victim to sleep on the lock');
    await victim.terminate();
    Atomics.store(sync, 0, 1); // the holder lets go
    const lags: number[] = [];
    for (let r = 0; r < rounds; r++) {
      await waitFor(() => Atomics.load(sync, 1) === r + 1, `the holder's round ${r}`);
      p.append(`m${r}`); // waits on the lock until the holder lets go
      lags.push(performance.timeOrigin + performance.now() - times[r]!);
      Atomics.store(sync, 2, r + 1);
      Atomics.notify(sync, 2);
    }
    await done;
    const median = [...lags].sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
    console.log(`lock-terminated-waiter: lags after the release (ms): ${lags.map((l) => l.toFixed(1)).join(' ')}`);
    assert.ok(median < 25, `a sleeper takes the lock soon after the release (median ${median.toFixed(1)} ms; a missed wake-up costs a 50 ms slice)`);
    await p.close();
    const texts = (await readRecords(logDir)).map((r) => r.text);
    assert.is(texts.length, 1 + 2 * rounds, 'every record once, the victim\'s never appended');
    assert.ok(!texts.includes('victim'));
  } finally {
    await holder.terminate();
    await p.destroy();
  }
});

test.run();
