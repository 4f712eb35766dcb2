/**
 * The wait of flush() (src/producer/durable-wait.ts) against a control block driven by the test as a
 * writer that retention holds back: RETENTION_BLOCKED stays set at every look, and the writer either
 * writes a little between looks (a transactional consumer commits, retention frees a segment) or
 * nothing. appendTimeoutMs bounds only a wait in which the durable offset does not move.
 */
import * as assert from 'uvu/assert';
import { waitDurable, type DurableWaiter } from '../src/producer/durable-wait.js';
import { CONTROL_BYTES, I32, I64, bump, controlViews, loadOffset, storeOffset } from '../src/ring/layout.js';
import { LogError } from '../src/errors.js';
import { suite, rejectsWith } from './kit.js';

const test = suite('flush-wait-progress');

function blockedLog(appendTimeoutMs: number): DurableWaiter {
  const c = controlViews(new SharedArrayBuffer(CONTROL_BYTES));
  Atomics.store(c.i32, I32.RETENTION_BLOCKED, 1);
  return {
    c, appendTimeoutMs,
    check: () => undefined,
    failed: () => Promise.reject(new Error('the log did not fail')),
    closed: () => LogError.closed('producer'),
  };
}

test('a flush resolves while the writer, held back by retention, makes durable a record every few ms', async () => {
  const w = blockedLog(100);
  const target = 30;
  // The writer: one record every 10 ms (300 ms in all), blocked again before each look of the flush.
  const writer = setInterval(() => {
    const next = loadOffset(w.c, I64.DURABLE_OFFSET) + 1;
    storeOffset(w.c, I64.DURABLE_OFFSET, next);
    bump(w.c, I32.DURABLE_SEQ);
    if (next >= target) clearInterval(writer);
  }, 10);
  try {
    await waitDurable(w, target);
  } finally {
    clearInterval(writer);
  }
  assert.is(loadOffset(w.c, I64.DURABLE_OFFSET), target);
});

test('a flush while the writer writes nothing still fails with ERR_LOG_FULL after appendTimeoutMs', async () => {
  const w = blockedLog(50);
  storeOffset(w.c, I64.DURABLE_OFFSET, 5);
  const t0 = performance.now();
  await rejectsWith(waitDurable(w, 10), 'ERR_LOG_FULL');
  assert.ok(performance.now() - t0 >= 50);
});

test.run();
