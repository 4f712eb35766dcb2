/**
 * A consumer opened on a log without durable.offset, while repairs that change nothing come and go
 * (each creates the file, locks it exclusively, removes it and lets go: readers-lock.ts), either holds
 * the readers lock once open or is refused with ERR_LOG_LOCKED. It never opens unlocked: the file made
 * by someone else between the reader's failed open and its own create, or gone again after, is opened
 * again (or created), not taken as "no lock to hold".
 */
import * as assert from 'uvu/assert';
import { closeSync, openSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';

const test = suite('readers-lock-flicker');
const native = createRequire(import.meta.url)('fs-native-extensions') as { tryLock(fd: number, offset: number, length: number, opts: { shared: boolean }): boolean };
const FLICKER = new URL('./fixtures/readers-flicker.mjs', import.meta.url);
const OPENS = 400;

/** Whether some descriptor holds byte 0 of durable.offset (tried exclusively from a descriptor of our own). */
function readersByteHeld(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r+'); // an exclusive lock needs a descriptor open for writing
  } catch {
    return false; // not there: nobody holds a lock on the file at this path
  }
  try {
    return !native.tryLock(fd, 0, 1, { shared: false });
  } finally {
    closeSync(fd);
  }
}

test('opens beside repairs that come and go: each one holds the readers lock or is refused', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  p.append('a');
  await p.close();
  const path = join(logDir, 'durable.offset');
  rmSync(path);
  const stop = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(FLICKER, { workerData: { dir: logDir, stop } });
  const played = new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await waitFor(() => Atomics.load(stop, 1) > 0, 'the repairs started');
  let opened = 0;
  let refused = 0;
  const unlocked: number[] = [];
  try {
    for (let i = 0; i < OPENS; i++) {
      let c: Consumer;
      try {
        c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
      } catch (e) {
        assert.is((e as { code?: string }).code, 'ERR_LOG_LOCKED', String(e));
        refused++;
        continue;
      }
      opened++;
      // While c is open no repair can remove the file it holds: it is at the path and byte 0 is held.
      if (!readersByteHeld(path)) unlocked.push(i);
      await c.close();
    }
  } finally {
    Atomics.store(stop, 0, 1);
  }
  const repairs = await played;
  console.log(`  ${opened} opened, ${refused} refused, ${unlocked.length} opened without the lock, beside ${repairs} repairs`);
  assert.ok(opened > 0 && repairs > 0, 'opens and repairs both happened');
  assert.equal(unlocked, [], 'every consumer that opened held the readers lock');
});

test.run();
