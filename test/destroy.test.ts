/**
 * destroy(err) aborts a handle without draining, where close() drains: the producer stops its writer
 * thread and releases the lock, flushes waiting reject with `err` (ERR_LOG_CLOSED without one), later
 * calls fail with ERR_LOG_CLOSED, and the log reopens to a valid prefix of what was appended. The
 * consumer releases its cursor and lock without waiting for a running handler or committing its
 * outcome. Both are safe to call twice and after close().
 */
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { withFaults } from './faults.js';
import { suite, rejectsWith, tempDir, throwsWith, waitFor, readTexts, logOf } from './kit.js';

const test = suite('destroy');

test('producer destroy: the lock is released, later calls fail with ERR_LOG_CLOSED, the log reopens to a prefix', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  for (let i = 0; i < 1000; i++) p.append(`r${i}`);
  const destroyed = p.destroy();
  assert.is(p.destroy(), destroyed, 'a second call returns the same promise');
  assert.is(p.close(), destroyed, 'close() after destroy() returns its promise');
  await destroyed;
  throwsWith(() => p.append('late'), 'ERR_LOG_CLOSED');
  await rejectsWith(p.flush(), 'ERR_LOG_CLOSED');
  const q = await Producer.open({ logDir });
  const kept = q.nextOffset;
  assert.ok(kept <= 1000);
  await q.close();
  const texts = await readTexts(logDir);
  assert.is(texts.length, kept);
  texts.forEach((t, i) => assert.is(t, `r${i}`));
});

test('producer destroy(err): a flush waiting on an fsync rejects with err at once, before the thread stops', async () => {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  // Every segment fsync takes 20 s once armed: the flush below can only end through destroy(). The
  // thread itself may stay inside the delay until it ends (a thread blocked in a call is stopped when
  // the call returns), so only the flush is timed, never destroy().
  const plan = { rules: [{ op: 'fdatasync' as const, path: '\\.seg$', thread: 'writer' as const, nth: 1, persistent: true, effect: { delayMs: 20_000 } }], arm };
  const p = await withFaults(plan, () => Producer.open({ logDir, syncPolicy: SyncPolicy.never() }));
  p.append('r0');
  await waitFor(() => p.writtenOffset === 1, 'record 0 to be written');
  writeFileSync(arm, '');
  const flushed = p.flush().then(() => null, (e: unknown) => e);
  const stop = new Error('shutting down');
  const started = Date.now();
  const destroyed = p.destroy(stop);
  assert.is(await flushed, stop, 'the waiting flush rejects with the error given to destroy');
  assert.ok(Date.now() - started < 10_000, 'the flush did not wait for the fsync');
  throwsWith(() => p.append('late'), 'ERR_LOG_CLOSED');
  await destroyed;
  const q = await Producer.open({ logDir });
  await q.close();
});

test('producer destroy after close does nothing', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  p.append('r0');
  await p.close();
  await p.destroy(new Error('late'));
  assert.is(p.error, null);
  assert.equal(await readTexts(logDir), ['r0']);
});

test('consumer destroy: a running handler is not waited for, its outcome is not committed, the call rejects with err', async () => {
  const logDir = await logOf(3);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('d') });
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const seen: number[] = [];
  const call = c.nonblockingProcess(null, async (m) => {
    seen.push(m.offset);
    if (m.offset === 1) await gate;
    return 'commit' as const;
  }).then(() => null, (e: unknown) => e);
  await waitFor(() => seen.length === 2, 'the handler to run on record 1');
  const stop = new Error('abort');
  await c.destroy(stop); // resolves while the handler still waits on the gate
  assert.is(c.destroy(), c.destroy(), 'a second call returns the same promise');
  // The cursor lock is free already: another owner opens at the last durable commit (record 1 next).
  const d = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('d') });
  assert.is(d.committedOffset, 1);
  await d.close();
  release();
  assert.is(await call, stop, 'the call rejects with the error given to destroy');
  throwsWith(() => c.iter().next(), 'ERR_LOG_CLOSED');
  const e = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('d') });
  assert.is(e.committedOffset, 1, 'the outcome of the handler that ran during destroy was not committed');
  await e.close();
});

test('consumer destroy without err rejects the call with ERR_LOG_CLOSED; destroy after close does nothing', async () => {
  const logDir = await logOf(2);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('e') });
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  let running = false;
  const call = c.nonblockingProcess(null, async () => {
    running = true;
    await gate;
    return 'commit' as const;
  }).then(() => null, (e: unknown) => e);
  await waitFor(() => running, 'the handler to run');
  await c.destroy();
  release();
  assert.is((await call as { code?: string } | null)?.code, 'ERR_LOG_CLOSED');
  const d = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('e') });
  assert.equal([...d.iter()].map((m) => m.offset), [0, 1], 'the record in flight at destroy is handed out again, then the next');
  await d.close();
  await d.destroy(new Error('late'));
  const e = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('e') });
  assert.is(e.committedOffset, 2, 'close() committed; the destroy after it changed nothing');
  await e.close();
});

test.run();
