/**
 * Attached handles when the owner goes: after the owner's close, flush() rejects with ERR_LOG_CLOSED
 * as append does; when the owner's thread is terminated (its writer thread ends with it, running no
 * code), a waiting flush() sees the writer gone within about a second and rejects with
 * ERR_WRITER_FAILED, `error` is set, and later appends throw instead of taking records no writer
 * will write; an append waiting for room in a full ring sees it the same way (ERR_WRITER_FAILED
 * within about a second, not ERR_LOG_FULL after appendTimeoutMs, append after append).
 */
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { ErrorCode, Producer, SyncPolicy } from '../dist/index.js';
import { readRecords, rejectsWith, suite, tempDir, throwsWith } from './kit.js';

const test = suite('attached-owner-gone');
const FIXTURE = new URL('./fixtures/owner-worker.mjs', import.meta.url);

test('flush() on an attached handle after the owner closed rejects with ERR_LOG_CLOSED', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  const a = Producer.attach(p.share());
  a.append('a0');
  await p.close();
  throwsWith(() => a.append('late'), ErrorCode.LOG_CLOSED);
  await rejectsWith(p.flush(), ErrorCode.LOG_CLOSED);
  await rejectsWith(a.flush(), ErrorCode.LOG_CLOSED);
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['a0']);
});

test('an attached handle whose owner thread was terminated: flush fails with a code, later appends throw', async () => {
  const logDir = tempDir();
  const w = new Worker(FIXTURE, { workerData: { logDir, appendTimeoutMs: 500 }, execArgv: [] });
  const { token } = await new Promise<{ token: never }>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
  const a = Producer.attach(token);
  assert.is(a.append('a0'), 1);
  await a.flush();
  await w.terminate(); // the owner's thread, and with it the writer thread, are gone
  // An append before anyone waited may still be taken into the ring (append promises no durability);
  // the flush that covers it must not resolve.
  a.append('a1');
  await rejectsWith(a.flush({ signal: AbortSignal.timeout(10_000) }), ErrorCode.WRITER_FAILED);
  assert.is(a.error?.code, ErrorCode.WRITER_FAILED);
  throwsWith(() => a.append('a2'), ErrorCode.WRITER_FAILED);
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['from-owner', 'a0']);
});

test('an attached append waiting for room after the owner thread was terminated: ERR_WRITER_FAILED, not ERR_LOG_FULL', async () => {
  const logDir = tempDir();
  const appendTimeoutMs = 5000;
  const w = new Worker(FIXTURE, { workerData: { logDir, appendTimeoutMs, ringBytes: 64 * 1024 }, execArgv: [] });
  const { token } = await new Promise<{ token: never }>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
  const a = Producer.attach(token);
  await w.terminate();
  const record = Buffer.alloc(1000, 0x61);
  let error: unknown = null;
  const t0 = performance.now();
  for (let i = 0; i < 200 && error === null; i++) {
    try { a.append(record); } catch (e) { error = e; }
  }
  const ms = performance.now() - t0;
  assert.is((error as { code?: string } | null)?.code, ErrorCode.WRITER_FAILED, String(error));
  assert.ok(ms < appendTimeoutMs, `the appends waited ${Math.round(ms)} ms, as long as appendTimeoutMs`);
  assert.is(a.error?.code, ErrorCode.WRITER_FAILED);
});

test.run();
