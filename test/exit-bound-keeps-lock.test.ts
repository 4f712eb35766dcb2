/**
 * The process exit hook gives up on a writer that does not finish within its bound (10 s), but it must
 * not hand the directory over while that writer thread still runs: a write the thread has in flight (a
 * pwritev stalled by the disk or an NFS server, which worker.terminate() cannot interrupt) lands when it
 * returns, on the files of whoever took the log meanwhile. The lock goes with the process, once the
 * thread is gone. The fixture stalls the writer's segment write (test/fixtures/stuck-write-io.mjs) and
 * lets the process leave with the producer open.
 */
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Producer } from '../dist/index.js';
import { readTexts, suite, tempDir, waitFor } from './kit.js';

const test = suite('exit-bound-keeps-lock');
const CHILD = fileURLToPath(new URL('./fixtures/exit-stuck-write.mjs', import.meta.url));
const STUCK_IO = fileURLToPath(new URL('./fixtures/stuck-write-io.mjs', import.meta.url));
const mine = Array.from({ length: 10 }, (_, i) => `s${i}`);

test('a writer still inside a write when the exit bound runs out keeps the lock until the process is gone', async () => {
  const logDir = tempDir();
  const stuck = tempDir();
  const child = spawn(process.execPath, [CHILD, logDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, REACTIVE_LOG_TEST_FILE_IO: STUCK_IO, STUCK_DIR: stuck },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));
  try {
    // The hook reports right after its bound ran out (and, before the fix, after it released the lock).
    await waitFor(() => stderr.includes('did not finish'), 'the exit hook to give up', 60_000);
    assert.not.ok(exited, 'the process is still there: its writer is inside the write');
    let second: Producer | null = null;
    let code: string | null = null;
    try {
      second = await Producer.open({ logDir });
    } catch (e) {
      code = (e as { code?: string }).code ?? null;
    }
    if (second !== null) {
      // What the overlap costs: records this producer had acknowledged as durable are overwritten.
      for (const t of mine) second.append(t);
      await second.flush();
      await second.close();
      writeFileSync(join(stuck, 'go'), '');
      await exit;
      await waitFor(() => existsSync(join(stuck, 'done')), 'the stalled write to land');
      const texts = await readTexts(logDir);
      assert.ok(mine.every((t) => texts.includes(t)), `records acknowledged durable by the second producer are gone: ${JSON.stringify(texts.slice(45, 60))}`);
      assert.unreachable('a second producer opened the log while the first one\'s writer still ran');
    }
    assert.is(code, 'ERR_LOG_LOCKED', 'the log is still held while the writer thread runs');
  } finally {
    writeFileSync(join(stuck, 'go'), '');
    await exit;
  }
  await waitFor(() => existsSync(join(stuck, 'done')), 'the stalled write to land');
  // Once the process is gone, the next producer takes the log over as after a crash.
  const third = await Producer.open({ logDir });
  for (const t of mine) third.append(t);
  await third.flush();
  await third.close();
  const texts = await readTexts(logDir);
  assert.equal(texts.slice(0, 50), Array.from({ length: 50 }, (_, i) => `r${i}`), 'the flushed records');
  assert.equal(texts.slice(-10), mine, "the third producer's records, after whatever the first one's writer wrote");
});

test.run();
