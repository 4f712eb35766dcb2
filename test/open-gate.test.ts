/**
 * Producer.open starts its writer thread before it takes the directory's lock, and the thread waits at
 * a gate in shared memory until the open holds it (docs/architecture.md). A refused open stops the
 * thread at the gate: nothing in the directory changes (a torn tail a crash left is not cut), and the
 * thread ends. The open that gets the lock then recovers the log as always.
 */
import * as assert from 'uvu/assert';
import { appendFileSync, openSync, closeSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Producer } from '../dist/index.js';
import { Child } from './child.js';
import { digestDir, suite, tempDir } from './kit.js';

const test = suite('open-gate');
const native = createRequire(import.meta.url)('fs-native-extensions') as { tryLock(fd: number): boolean; unlock(fd: number): void };

test('a refused open leaves a torn tail uncut and its writer thread ends; the next open cuts it', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  for (let i = 0; i < 10; i++) p.append(`record ${i}`);
  await p.close();
  const segment = join(logDir, readdirSync(logDir).find((n) => n.endsWith('.seg'))!);
  appendFileSync(segment, Buffer.from('a torn frame'));
  // Another holder of the lock (as a producer in another process holds it).
  const fd = openSync(join(logDir, 'producer.lock'), 'a');
  assert.ok(native.tryLock(fd));
  const before = digestDir(logDir);
  try {
    // In a process of its own, which must end by itself once the open is refused.
    const child = Child.fork('open-gate-refused.mjs', [logDir], { execArgv: [] });
    const result = await child.next<{ type: string; code: string }>('result');
    assert.is(result.code, 'ERR_LOG_LOCKED');
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([child.exited.then(() => true), new Promise<boolean>((r) => { timer = setTimeout(r, 10_000, false); })]);
    clearTimeout(timer);
    if (!ended) await child.kill();
    assert.ok(ended, 'the refused process ends by itself: no writer thread is left waiting at its gate');
    assert.is(digestDir(logDir), before, 'the directory is as it was: the torn tail is not cut');
  } finally {
    native.unlock(fd);
    closeSync(fd);
  }
  const q = await Producer.open({ logDir });
  assert.is(q.nextOffset, 10);
  assert.is(q.recovery.truncated?.bytes, 'a torn frame'.length, 'the open that holds the lock cuts the torn tail');
  await q.close();
});

test.run();
