/**
 * The consumer's waits after close(): a wait on the files returns at once and starts no directory
 * watch (a closed consumer holds no descriptor), as a wait on shared memory does. close() ends every
 * wait on the files pending, not only the last one started (a pool call leaves one pending). A wait
 * on shared memory that nothing wakes (a writer gone without a last bump) ends within MAX_WAIT_MS,
 * though it takes no timeout of its own (the thread's sweep), and keeps the event loop alive until then.
 */
import * as assert from 'uvu/assert';
import { MAX_WAIT_MS, Waiter } from '../src/consumer/waiter.js';
import { suite, tempDir } from './kit.js';

const test = suite('waiter');

/** `p`, or 'stuck' after 10 s (a failure guard, not a wait). */
function guarded(p: Promise<void>): Promise<'resolved' | 'stuck'> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<'stuck'>((resolve) => { timer = setTimeout(() => resolve('stuck'), 10_000); });
  return Promise.race([p.then(() => 'resolved' as const), stuck]).finally(() => clearTimeout(timer));
}

test('onFiles after close returns at once and watches nothing', async () => {
  const w = new Waiter(tempDir(), 60_000);
  w.close();
  assert.is(await guarded(w.onFiles(undefined)), 'resolved');
  assert.is((w as unknown as { watcher: unknown }).watcher, null, 'no watch started after close');
});

test('onFiles with an aborted signal returns at once', async () => {
  const w = new Waiter(tempDir(), 60_000);
  assert.is(await guarded(w.onFiles(AbortSignal.abort())), 'resolved');
  w.close();
});

test('close ends every wait on the files pending, not only the last', async () => {
  const w = new Waiter(tempDir(), 60_000);
  await w.onFiles(undefined); // the first starts the watch and returns at once
  const first = w.onFiles(undefined);
  const second = w.onFiles(undefined);
  w.close();
  assert.equal(await Promise.all([guarded(first), guarded(second)]), ['resolved', 'resolved']);
});


test('a wait on shared memory that nothing wakes ends within MAX_WAIT_MS, several at once too', async () => {
  const i32 = new Int32Array(new SharedArrayBuffer(8));
  const a = new Waiter(tempDir(), 60_000);
  const b = new Waiter(tempDir(), 60_000);
  try {
    const ends = await Promise.all([guarded(a.onShared(i32, 0, 0, undefined)), guarded(b.onShared(i32, 1, 0, undefined))]);
    assert.equal(ends, ['resolved', 'resolved'], `each wait ends by the sweep (every ${MAX_WAIT_MS} ms), before the guard's 10 s`);
  } finally {
    a.close();
    b.close();
  }
});

test.run();
