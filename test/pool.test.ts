/**
 * Consumer worker pools: records dispatched in log order to 2 and 4 workers, finishing out of order,
 * each committed once, the cursor advancing only over the contiguous finished prefix; a worker that
 * exits mid-record or hangs past timeoutMs has its records handed out again; dead letters from a pool.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { Producer, Consumer, ConsumerStyle, LogError, SyncPolicy, Whence, decodeDeadLetter } from '../dist/index.js';
import { POOL_LOG, guarded, handler } from './pool-kit.js';
import { suite, logOf, tempDir, rejectsWith, waitFor } from './kit.js';
import { Child } from './child.js';

const test = suite('pool');

for (const workers of [2, 4]) {
  test(`a pool of ${workers} processes 100,000 records, each committed once, the cursor in order`, async () => {
    const N = 100_000;
    const logDir = await logOf(N, POOL_LOG);
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx(`pool${workers}`), commit: { everyRecords: 1 } });
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(c.committedOffset!), 1);
    const s = await c.nonblockingProcess(null, handler, { workers, batchRecords: 500 });
    clearInterval(sampler);
    assert.equal(s, { committed: N, skipped: 0, retried: 0, stoppedBy: 'end' });
    assert.is(c.committedOffset, N);
    for (let i = 1; i < samples.length; i++) assert.ok(samples[i]! >= samples[i - 1]!, 'the cursor never moves backwards');
    await c.close();
    const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx(`pool${workers}`) });
    assert.equal(await again.nonblockingProcess(null, () => 'commit'), { committed: 0, skipped: 0, retried: 0, stoppedBy: 'end' }, 'nothing is left to deliver');
    await again.close();
  });
}

test('a lane held up by a slow record: the others run ahead only as far as the outcome window, then wait', async () => {
  const N = 150_000; // more than the 65,536-record window
  const logDir = await logOf(Array.from({ length: N }, (_, i) => (i === 10 ? `slow-${i}` : `rec-${i}`)), POOL_LOG);
  writeFileSync(join(logDir, 'slow-pending'), ''); // the handler's markers: see fixtures/pool-handler.mjs
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('window'), commit: { everyRecords: 1 } });
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(c.committedOffset!), 1);
  const s = await c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 256 });
  clearInterval(sampler);
  assert.equal(s, { committed: N, skipped: 0, retried: 0, stoppedBy: 'end' });
  assert.is(c.committedOffset, N);
  for (let i = 1; i < samples.length; i++) assert.ok(samples[i]! >= samples[i - 1]!, 'the cursor never moves backwards');
  assert.ok(existsSync(join(logDir, 'ran-ahead')), 'the other lane ran ahead while the slow record ran');
  assert.not.ok(existsSync(join(logDir, 'window-violated')), 'but not past the outcome window');
  await c.close();
});

test('max limits a pool run; the next call continues exactly there', async () => {
  const logDir = await logOf(3000, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('pmax') });
  const s = await c.nonblockingProcess(1234, handler, { workers: 2, batchRecords: 100 });
  assert.equal(s, { committed: 1234, skipped: 0, retried: 0, stoppedBy: 'limit' });
  assert.is(c.committedOffset, 1234);
  const rest: number[] = [];
  await c.nonblockingProcess(null, (m) => { rest.push(m.offset); return 'commit'; });
  assert.is(rest[0], 1234);
  assert.is(rest.length, 3000 - 1234);
  await c.close();
});

test('a worker that exits mid-record: its range is handed out again, nothing lost or doubled', async () => {
  const records = Array.from({ length: 2000 }, (_, i) => (i === 777 ? `crash-${i}` : `rec-${i}`));
  const logDir = await logOf(records, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('crash') });
  const s = await c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 50 });
  assert.equal(s, { committed: 2000, skipped: 0, retried: 0, stoppedBy: 'end' });
  assert.is(c.committedOffset, 2000);
  assert.ok(existsSync(join(logDir, 'crashed-777')), 'a worker really exited on record 777');
  await c.close();
});

test('a worker that hangs past timeoutMs: its range is taken back and handed out again', async () => {
  const records = Array.from({ length: 600 }, (_, i) => (i === 300 ? `hang-${i}` : `rec-${i}`));
  const logDir = await logOf(records, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('hang') });
  const s = await c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 50, timeoutMs: 500 });
  assert.equal(s, { committed: 600, skipped: 0, retried: 0, stoppedBy: 'end' });
  assert.ok(existsSync(join(logDir, 'hung-300')), 'a worker really hung on record 300');
  await c.close();
});

test('a blocking call aborted while a handler hangs ends once timeoutMs stops that worker', async () => {
  const records = Array.from({ length: 200 }, (_, i) => (i === 150 ? `hang-${i}` : `rec-${i}`));
  const logDir = await logOf(records, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('hang-abort') });
  const ac = new AbortController();
  const run = c.blockingProcess(null, handler, { workers: 2, batchRecords: 50, timeoutMs: 400, signal: ac.signal });
  await waitFor(() => existsSync(join(logDir, 'hung-150')), 'a worker hangs on record 150');
  ac.abort();
  const outcome = await guarded(run);
  if (outcome === 'stuck') assert.unreachable('the call did not end while the handler hung');
  else assert.is(outcome.stoppedBy, 'abort');
  assert.ok(c.committedOffset! <= 150, 'nothing past the hung record is committed');
  await c.close();
});

test('dead letters from a pool, counted as skipped', async () => {
  const records = Array.from({ length: 300 }, (_, i) => (i % 100 === 5 ? `fail-${i}` : `rec-${i}`));
  const logDir = await logOf(records, POOL_LOG);
  const deadLetterDir = join(tempDir(), 'dlq');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('pdl'), retry: { maxAttempts: 2, deadLetterDir } });
  const s = await c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 40 });
  assert.equal(s, { committed: 297, skipped: 3, retried: 6, stoppedBy: 'end' });
  await c.close();
  const dl = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  assert.equal([...dl.iter()].map((m) => decodeDeadLetter(m.data).offset), [5, 105, 205]);
  await dl.close();
});

test('a nonTx pool, and pool options checked', async () => {
  const logDir = await logOf(1000, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  // @ts-expect-error: the types already refuse a function with pool options; this checks the run-time guard
  await rejectsWith(c.nonblockingProcess(null, () => 'commit', { workers: 2 }), 'ERR_INVALID_OPTION');
  await rejectsWith(c.nonblockingProcess(null, handler, { workers: 0 }), 'ERR_INVALID_OPTION');
  for (const bad of [{ workers: 1.5 }, { timeoutMs: '10' }, { batchRecords: 0 }]) {
    const e = await rejectsWith(c.nonblockingProcess(null, handler, bad as never), 'ERR_INVALID_OPTION');
    assert.is((e as unknown as { details: { option: string } }).details.option, Object.keys(bad)[0]);
  }
  // A misspelt option is refused, naming it, rather than quietly left at its default.
  const typo = await rejectsWith(c.nonblockingProcess(null, handler, { workers: 2, batchRecord: 10 } as never), 'ERR_INVALID_OPTION');
  assert.is((typo as unknown as { details: { option: string } }).details.option, 'batchRecord');
  assert.is(c.position, 0, 'a refused call delivers nothing');
  const s = await c.nonblockingProcess(null, handler, { workers: 2 });
  assert.is(s.committed, 1000);
  assert.is(c.position, 1000);
  await c.close();
});

test('a pool handler answering something other than an outcome fails the call as it does in-process', async () => {
  const logDir = await logOf(Array.from({ length: 30 }, (_, i) => (i === 10 ? 'bad-10' : `rec-${i}`)), POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('bad-outcome') });
  const e = await rejectsWith(c.nonblockingProcess(null, handler, { workers: 2 }), 'ERR_INVALID_OPTION');
  assert.match(e.message, `returned "commitx"; expected 'commit', 'retry', 'skip' or 'break'`);
  assert.ok(e instanceof LogError, 'a LogError, as in-process');
  assert.equal(e.details, { option: 'handler' });
  assert.is(c.committedOffset, 10, 'the records before it are committed, it and the rest are not');
  await c.close();
});

// Blocking pools dispatch ranges ahead of the records written so far; the workers wait on Atomics for
// them (the producer's control block here, a block the coordinator publishes into elsewhere).
test('a blocking pool waits for records appended later in this process, each committed once', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('live'), commit: { everyRecords: 1 } });
  const ac = new AbortController();
  const run = c.blockingProcess(null, handler, { workers: 2, batchRecords: 64, signal: ac.signal });
  const N = 5_000;
  for (let burst = 0; burst < 10; burst++) {
    for (let i = 0; i < N / 10; i++) p.append(`rec-${burst * (N / 10) + i}`);
    await p.flush();
    await waitFor(() => (c.committedOffset ?? 0) >= (burst + 1) * (N / 10), `burst ${burst} committed`);
  }
  ac.abort();
  const s = await run;
  assert.equal(s, { committed: N, skipped: 0, retried: 0, stoppedBy: 'abort' });
  assert.is(c.committedOffset, N);
  await c.close();
  await p.close();
});

test('a blocking pool with group commit makes the cursor durable before it waits for new records, as without a pool', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('group'), commit: { everyRecords: 1000 } });
  const ac = new AbortController();
  const run = c.blockingProcess(null, handler, { workers: 2, signal: ac.signal });
  for (let i = 0; i < 10; i++) p.append(`rec-${i}`);
  await p.flush();
  try {
    // Ten records of a group of 1,000, then no more: the call is waiting, and its cursor must say 10.
    await waitFor(() => c.committedOffset === 10, 'the cursor made durable while the call waits');
  } finally {
    ac.abort(); // a failed wait must not leave the call (and the test process) running
  }
  assert.equal(await run, { committed: 10, skipped: 0, retried: 0, stoppedBy: 'abort' });
  await c.close();
  await p.close();
});

test('a blocking pool in another process than the producer follows the files', async () => {
  const logDir = tempDir();
  const child = Child.fork('ipc-producer.mjs', [logDir]);
  await child.next('open');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('remote'), commit: { everyRecords: 1 } });
  const ac = new AbortController();
  const run = c.blockingProcess(null, handler, { workers: 2, batchRecords: 64, signal: ac.signal });
  let sent = 0;
  for (let burst = 0; burst < 5; burst++) {
    const records = Array.from({ length: 300 }, (_, i) => `rec-${sent + i}`);
    sent += records.length;
    child.send({ type: 'append', records });
    await child.next('appended');
    await waitFor(() => (c.committedOffset ?? 0) >= sent, `records up to ${sent} committed`);
  }
  ac.abort();
  const s = await run;
  assert.equal(s, { committed: sent, skipped: 0, retried: 0, stoppedBy: 'abort' });
  child.send({ type: 'close' });
  await child.next('closed');
  await c.close();
});

test.run();
