/**
 * Waits on shared memory of one Waiter that overlap (a pool call leaves its wait for the files' end
 * pending, and the next call waits too: pool-supply.ts): each stays bounded by the thread's sweep
 * (MAX_WAIT_MS) and each ends on close(), also when the first to end ends while another is pending,
 * on another block or slot (the producer of this process replaced while the first wait was ending).
 */
import * as assert from 'uvu/assert';
import { MAX_WAIT_MS, Waiter } from '../src/consumer/waiter.js';
import { suite, tempDir } from './kit.js';

const test = suite('waiter-shared-overlap');

/** `p`, or 'stuck' after `ms` (a failure guard, not a wait). */
function guarded(p: Promise<void>, ms = 4 * MAX_WAIT_MS): Promise<'resolved' | 'stuck'> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<'stuck'>((resolve) => { timer = setTimeout(() => resolve('stuck'), ms); });
  return Promise.race([p.then(() => 'resolved' as const), stuck]).finally(() => clearTimeout(timer));
}

test('the first of two overlapping waits ends while the second (another block) is pending: the sweep still ends the second', async () => {
  const first = new Int32Array(new SharedArrayBuffer(8));
  const second = new Int32Array(new SharedArrayBuffer(8));
  const w = new Waiter(tempDir(), 60_000);
  try {
    const a = w.onShared(first, 0, 0, undefined);
    const b = w.onShared(second, 0, 0, undefined); // the next call waits on the new block meanwhile
    Atomics.notify(first, 0); // the first block's last bump: `a` ends, `b` is still pending
    assert.is(await guarded(a), 'resolved');
    assert.is(await guarded(b), 'resolved', `the sweep ends it within ${MAX_WAIT_MS} ms`);
  } finally {
    w.close();
    Atomics.notify(second, 0); // a stuck wait ends, so the process exits
  }
});

test('close() ends a wait pending after another wait of the same waiter ended', async () => {
  const first = new Int32Array(new SharedArrayBuffer(8));
  const second = new Int32Array(new SharedArrayBuffer(8));
  const w = new Waiter(tempDir(), 60_000);
  try {
    const a = w.onShared(first, 0, 0, undefined);
    const b = w.onShared(second, 0, 0, undefined);
    Atomics.notify(first, 0);
    await a;
    w.close();
    assert.is(await guarded(b, MAX_WAIT_MS / 2), 'resolved', 'close() ends it at once, not the sweep');
  } finally {
    w.close();
    Atomics.notify(second, 0);
  }
});

test('one waiter on two slots at once: the sweep ends both', async () => {
  const i32 = new Int32Array(new SharedArrayBuffer(8));
  const w = new Waiter(tempDir(), 60_000);
  try {
    const a = w.onShared(i32, 0, 0, undefined);
    const b = w.onShared(i32, 1, 0, undefined);
    assert.equal(await Promise.all([guarded(a), guarded(b)]), ['resolved', 'resolved']);
  } finally {
    w.close();
    Atomics.notify(i32, 0); // a stuck wait ends, so the process exits
  }
});

test.run();
