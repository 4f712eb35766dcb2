/**
 * A worker terminated while it sleeps waiting for the append lock of a shared producer (not holding
 * it) runs no more code: its count among the lock's sleepers (APPEND.WAITERS) stays. A release then
 * sees a sleeper counted, marks a wake-up in flight (APPEND.WAKING) and notifies, and the notify finds
 * nobody: a WAKING left set keeps every later release from waking anyone, so each thread that does
 * sleep on the lock sleeps out its 50 ms slice on every turn. The test looks at the lock's line
 * itself: after each release that found no sleeper, no wake-up is left in flight; and the thread
 * that sleeps on the lock on each turn still gets it, every record appended once.
 */
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { readlinkSync } from 'node:fs';
import { Producer, SyncPolicy } from '../dist/index.js';
import { suite, readRecords, tempDir, waitFor } from './kit.js';

const test = suite('lock-terminated-waiter');
const FIXTURE = new URL('./fixtures/lock-handoff.mjs', import.meta.url);
/** Slots of the append lock's line (APPEND in src/ring/layout.ts). */
const WAITERS = 1;
const WAKING = 3;

function messageWith(w: Worker, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>): void => { if (key in m) { w.off('message', onMessage); resolve(); } };
    w.on('message', onMessage);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`worker exited (${code}) before a message with "${key}"`)));
  });
}

test('a waiter terminated while asleep on the append lock: a release that finds no sleeper leaves no wake-up in flight', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  const token = p.share();
  const line = new Int32Array(token.control, 192, 6); // APPEND_LINE_BYTE
  const sync = new Int32Array(new SharedArrayBuffer(12));
  const rounds = 5;
  let mainTid = 0;
  try { mainTid = Number(readlinkSync('/proc/thread-self').split('/').at(-1)); } catch { /* no /proc */ }
  const holder = new Worker(FIXTURE, { workerData: { mode: 'holder', token, sync: sync.buffer, rounds, mainTid }, execArgv: [] });
  const done = messageWith(holder, 'done');
  done.catch(() => undefined); // awaited after the rounds
  try {
    await messageWith(holder, 'holding');
    const victim = new Worker(FIXTURE, { workerData: { mode: 'victim', token }, execArgv: [] });
    await messageWith(victim, 'attached');
    await waitFor(() => Atomics.load(line, WAITERS) === 1, 'the victim to sleep on the lock');
    await victim.terminate();
    assert.is(Atomics.load(line, WAITERS), 1, 'the terminated victim\'s count among the sleepers stays');
    Atomics.store(sync, 0, 1); // the holder lets go, nobody asleep on the lock
    await waitFor(() => Atomics.load(sync, 1) === 1, 'the holder\'s next append');
    assert.is(Atomics.load(line, WAKING), 0, 'the holder\'s release found no sleeper: no wake-up left in flight');
    for (let r = 0; r < rounds; r++) {
      await waitFor(() => Atomics.load(sync, 1) === r + 1, `the holder's round ${r}`);
      p.append(`m${r}`); // sleeps on the lock until the holder lets go, which wakes it
      // This thread's release: only the victim's stale count, nobody asleep (the holder waits on sync[2]).
      assert.is(Atomics.load(line, WAKING), 0, `round ${r}: this thread's release found no sleeper: no wake-up left in flight`);
      Atomics.store(sync, 2, r + 1);
      Atomics.notify(sync, 2);
    }
    await done;
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
