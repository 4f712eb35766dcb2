/**
 * Transactional consumers (clientTx, globalTx): durable cursors, restart after the last commit, owner
 * locks, consumer id validation, iterators that commit the previous record, state committed with the
 * cursor, group commit, dead letters, retention held by a lagging cursor, damaged cursor files, and a
 * child consumer SIGKILLed many times that still applies every record exactly once.
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import {
  Producer, Consumer, ConsumerStyle, SyncPolicy, decodeDeadLetter, Whence,
} from '../dist/index.js';
import { suite, tempDir, logOf, rejectsWith, waitFor } from './kit.js';
import { Child, killAllChildren } from './child.js';
import { guarded } from './pool-kit.js';
import { withFaults } from './faults.js';

const test = suite('tx');

const text = (d: Uint8Array) => Buffer.from(d).toString();

test('clientTx: commit, close, reopen resumes exactly after the last commit', async () => {
  const logDir = await logOf(100);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  assert.is(c.committedOffset, 0);
  const s = await c.nonblockingProcess(30, () => 'commit');
  assert.equal(s, { committed: 30, skipped: 0, retried: 0, stoppedBy: 'limit' });
  assert.is(c.committedOffset, 30);
  await c.close();
  const d = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  const seen: number[] = [];
  const s2 = await d.nonblockingProcess(null, (m) => { seen.push(m.offset); return m.offset === 40 ? 'skip' : 'commit'; });
  assert.is(seen[0], 30);
  assert.is(seen.length, 70);
  assert.equal(s2, { committed: 69, skipped: 1, retried: 0, stoppedBy: 'end' });
  await d.close();
  // Another id has its own cursor, from the oldest record.
  const e = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('audit') });
  assert.is(e.position, 0);
  await e.close();
});

test('close() while a handler runs: close waits for it, its commit and state land, the summary counts it', async () => {
  const logDir = await logOf(10);
  for (const blocking of [false, true]) {
    const id = blocking ? 'closing-blocking' : 'closing';
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx(id) });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const seen: number[] = [];
    const handler = async (m: { offset: number }, ctx: { setState(v: string): void }): Promise<'commit'> => {
      seen.push(m.offset);
      if (m.offset === 3) await gate; // released only after close() was called
      ctx.setState(`after ${m.offset}`);
      return 'commit';
    };
    const order: string[] = [];
    const call = blocking ? c.blockingProcess(null, handler) : c.nonblockingProcess(null, handler);
    const summary = call.then((s) => { order.push('summary'); return s; });
    await waitFor(() => seen.length === 4, 'the handler to wait on record 3');
    const closing = c.close().then(() => { order.push('closed'); });
    // While it waits, the consumer takes no new calls and still holds its cursor.
    await rejectsWith(() => c.nonblockingProcess(null, () => 'commit'), 'ERR_LOG_CLOSED');
    await rejectsWith(() => Consumer.open({ logDir, style: ConsumerStyle.clientTx(id) }), 'ERR_CURSOR_LOCKED');
    release();
    const s = await summary;
    await closing;
    const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx(id) });
    assert.is(again.committedOffset, 4, `${id}: record 3's commit landed`);
    assert.is(text(again.state!), 'after 3', `${id}: with its state`);
    await again.close();
    assert.equal(s, { committed: 4, skipped: 0, retried: 0, stoppedBy: 'end' }, `${id}: the summary counts the record finished after close()`);
    assert.equal(order, ['summary', 'closed'], `${id}: the call returns, then close() finishes`);
    assert.equal(seen, [0, 1, 2, 3], `${id}: nothing is handed out after close()`);
    assert.is(c.close(), c.close(), 'close() again: the same promise');
  }
});

test('close() during a retry delay ends the call at once; the retried record is not completed', async () => {
  const logDir = await logOf(3);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.globalTx(), retry: { delayMs: 3_600_000 } });
  let attempts = 0;
  const call = c.nonblockingProcess(null, (m) => (m.offset === 1 ? (attempts++, 'retry') : 'commit'));
  await waitFor(() => attempts === 1, 'the first attempt on record 1');
  await c.close();
  const s = await guarded(call);
  if (s === 'stuck') assert.unreachable('the call sat out its retry delay after close()');
  else assert.equal(s, { committed: 1, skipped: 0, retried: 1, stoppedBy: 'end' });
  const again = await Consumer.open({ logDir, style: ConsumerStyle.globalTx() });
  assert.is(again.committedOffset, 1);
  await again.close();
});

test('break and throw leave the record uncommitted; the next call and a restart get it again', async () => {
  const logDir = await logOf(10);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.globalTx() });
  assert.is((await c.nonblockingProcess(null, (m) => (m.offset === 3 ? 'break' : 'commit'))).stoppedBy, 'break');
  assert.is(c.committedOffset, 3);
  await rejectsWith(async () => {
    await c.nonblockingProcess(null, (m) => { if (m.offset === 5) throw Object.assign(new Error('boom'), { code: 'BOOM' }); return 'commit'; });
  }, 'BOOM');
  assert.is(c.committedOffset, 5);
  await c.close();
  const d = await Consumer.open({ logDir, style: ConsumerStyle.globalTx() });
  const first = await d.nonblockingProcess(1, (m) => { assert.is(m.offset, 5); return 'commit'; });
  assert.is(first.committed, 1);
  await d.close();
});

test('iterators commit the previous record when asked for the next; leaving commits nothing more', async () => {
  const logDir = await logOf(10);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('it') });
  for (const m of c.iter()) if (m.offset === 4) break;
  assert.is(c.committedOffset, 4, 'records 0..3 committed, 4 was handed out but not committed');
  await c.close();
  const d = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('it') });
  const offs: number[] = [];
  for await (const m of d.tail()) {
    offs.push(m.offset);
    if (m.offset === 9) break;
  }
  assert.equal(offs, [4, 5, 6, 7, 8, 9]);
  assert.is(d.committedOffset, 9);
  await d.close();
});

test('one owner per cursor: ERR_CURSOR_LOCKED in this process and from another', async () => {
  const logDir = await logOf(5);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('solo') });
  await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('solo') }), 'ERR_CURSOR_LOCKED');
  const g = await Consumer.open({ logDir, style: ConsumerStyle.globalTx() });
  await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.globalTx() }), 'ERR_CURSOR_LOCKED');
  // A child process trying the same cursor fails; the lock names a live owner.
  const child = Child.fork('tx-consumer.mjs', [logDir, 'solo']);
  await child.exited;
  assert.is(child.exitInfo?.code, 1);
  assert.match(child.stderr, 'ERR_CURSOR_LOCKED');
  await g.close();
  await c.close();
  // Released on close: the child can take it now.
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('solo') });
  await again.close();
});

test('state committed with the cursor is there after reopening', async () => {
  const logDir = await logOf(20);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('sum') });
  await c.nonblockingProcess(null, (m, ctx) => {
    const sum = ctx.state === null ? 0 : Number(text(ctx.state));
    ctx.setState(String(sum + m.offset));
    return 'commit';
  });
  assert.is(text(c.state!), String((19 * 20) / 2));
  await c.close();
  const d = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('sum') });
  assert.is(text(d.state!), '190');
  assert.is(d.committedOffset, 20);
  await d.close();
  // nonTx consumers have no cursor to commit state with.
  const n = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  await rejectsWith(n.nonblockingProcess(1, (_m, ctx) => { ctx.setState('x'); return 'commit'; }), 'ERR_INVALID_OPTION');
  await n.close();
});

test('group commit: the durable cursor moves once per group, and when the call ends', async () => {
  const logDir = await logOf(25);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('grp'), commit: { everyRecords: 10 } });
  const durableSeen: number[] = [];
  await c.nonblockingProcess(15, () => {
    durableSeen.push(c.committedOffset!);
    return 'commit';
  });
  // While record k is handled, records below k are done but only whole groups of 10 are durable.
  assert.equal(durableSeen, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 10, 10, 10, 10]);
  assert.is(c.committedOffset, 15, 'the end of the call made the open group durable');
  await c.close();
  const d = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('grp') });
  assert.is(d.committedOffset, 15);
  await d.close();
});

test('retry policy: maxAttempts sends the record to the dead-letter log and counts it skipped', async () => {
  const logDir = await logOf(5);
  const deadLetterDir = join(tempDir(), 'dlq');
  const c = await Consumer.open({
    logDir, style: ConsumerStyle.clientTx('dl'),
    retry: { maxAttempts: 3, delayMs: 1, backoff: 'exponential', retryOnThrow: true, deadLetterDir },
  });
  const attempts: number[] = [];
  const s = await c.nonblockingProcess(null, (m, ctx) => {
    if (m.offset !== 2) return 'commit';
    attempts.push(ctx.attempt);
    if (ctx.attempt === 3) throw new Error('still failing');
    return 'retry';
  });
  assert.equal(attempts, [1, 2, 3]);
  assert.equal(s, { committed: 4, skipped: 1, retried: 3, stoppedBy: 'end' });
  await c.close();
  const dl = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const letters = [...dl.iter()].map((m) => decodeDeadLetter(m.data));
  assert.is(letters.length, 1);
  assert.is(letters[0]!.offset, 2);
  assert.is(letters[0]!.attempts, 3);
  assert.is(letters[0]!.lastError, 'still failing');
  assert.is(text(letters[0]!.data), 'rec-2');
  await dl.close();
});

test('a transactional consumer only sees durable records', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  p.append('rec-0');
  await p.flush();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('dur') });
  p.append('rec-1');
  await waitFor(() => p.writtenOffset === 2, 'the record to be written');
  const got = [...c.iter()].map((m) => m.offset);
  assert.equal(got, [0], 'record 1 is written but not fsynced');
  await p.flush();
  assert.equal([...c.iter()].map((m) => m.offset), [1]);
  await c.close();
  await p.close();
});

test('retention with blockingMinimumRetention keeps what a lagging cursor has not committed', async () => {
  const logDir = tempDir();
  const opts = { logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: 4096, blockingMinimumRetention: 0, appendTimeoutMs: 300, ringBytes: 65536, maxBatchBytes: 1024 };
  const p0 = await Producer.open(opts);
  p0.append('rec-0');
  await p0.flush();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('slow') });
  await c.nonblockingProcess(1, () => 'commit'); // the cursor stays at 1
  let n = 1;
  try {
    for (;;) { p0.append(`rec-${n}-${'x'.repeat(80)}`); n++; }
  } catch (e) {
    assert.is((e as { code: string }).code, 'ERR_LOG_FULL');
  }
  assert.is(p0.logStartOffset, 0, 'the segment holding the cursor was kept');
  // While the cursor stays, a flush cannot complete either: bounded, then ERR_LOG_FULL.
  await rejectsWith(p0.flush(), 'ERR_LOG_FULL');
  // The consumer catches up as records become durable; retention deletes what it committed, and the
  // writer drains the ring.
  const ac = new AbortController();
  const consuming = c.blockingProcess(null, () => 'commit', { signal: ac.signal });
  try {
    // Each flush is bounded by appendTimeoutMs (300 ms) while retention holds the writer back; on a
    // loaded machine the consumer may need longer to free the segments, so a flush may be refused
    // (ERR_LOG_FULL, not terminal) and is asked again until the consumer has caught up.
    await waitFor(async () => {
      try {
        await p0.flush();
        return true;
      } catch (e) {
        if ((e as { code?: string }).code !== 'ERR_LOG_FULL') throw e;
        return false;
      }
    }, 'a flush once the consumer has freed the segments', 30_000);
    await waitFor(() => c.committedOffset === n, 'the consumer to commit every record');
  } finally {
    ac.abort();
    await consuming;
  }
  assert.ok(p0.logStartOffset > 0, 'retention resumed once the cursor moved');
  await c.close();
  await p0.close();
});

test('a cursor file damaged by hand is ERR_LOG_CORRUPT naming it', async () => {
  const logDir = await logOf(3);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('bad') });
  await c.nonblockingProcess(2, () => 'commit');
  await c.close();
  const path = join(logDir, 'cursors', 'client.bad.cursor');
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(64, 0xee), 0, 64, 0);
  writeSync(fd, Buffer.alloc(64, 0xee), 0, 64, 32 + 64 * 1024);
  closeSync(fd);
  const err = await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('bad') }), 'ERR_LOG_CORRUPT');
  assert.match(err.message, 'client.bad.cursor');
  // An empty cursor file is damage too (a created cursor always holds a valid slot).
  writeFileSync(path, Buffer.alloc(0));
  await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('bad') }), 'ERR_LOG_CORRUPT');
  assert.ok(readdirSync(join(logDir, 'cursors')).includes('client.bad.cursor'));
});

test('a torn newer cursor slot falls back to the older one; the first commit keeps the created slot', async () => {
  const logDir = await logOf(5);
  const path = join(logDir, 'cursors', 'client.ab.cursor');
  const SLOT = 32 + 64 * 1024;
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('ab') });
  await c.nonblockingProcess(1, () => 'commit'); // sequence 2 -> slot 0; sequence 1 stays in slot 1
  await c.close();
  // Garble the newest slot (sequence 2, offset 1): the cursor falls back to sequence 1 (offset 0).
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(16, 0x5a), 0, 16, 8);
  closeSync(fd);
  const d = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('ab') });
  assert.is(d.committedOffset, 0, 'the older slot');
  await d.nonblockingProcess(2, () => 'commit'); // sequences 2 and 3 again: slot 0 then slot 1
  await d.close();
  const fd2 = openSync(path, 'r+');
  writeSync(fd2, Buffer.alloc(16, 0x5a), 0, 16, SLOT + 8); // garble sequence 3 (offset 2)
  closeSync(fd2);
  const e = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('ab') });
  assert.is(e.committedOffset, 1, 'sequence 2 in slot 0');
  await e.close();
});

test('a transactional consumer here follows a producer in another process, durable records only', async () => {
  const logDir = tempDir();
  const producer = Child.fork('ipc-producer.mjs', [logDir]);
  try {
    await producer.next('open');
    producer.proc.send({ type: 'append', records: ['rec-0', 'rec-1', 'rec-2'] });
    await producer.next('appended');
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('remote'), pollIntervalMs: 5 });
    const seen: number[] = [];
    const ac = new AbortController();
    const run = c.blockingProcess(null, (m) => {
      assert.is(text(m.data), `rec-${m.offset}`);
      seen.push(m.offset);
      if (m.offset === 5) ac.abort();
      return 'commit';
    }, { signal: ac.signal });
    await waitFor(() => seen.length === 3, 'the first three records');
    producer.proc.send({ type: 'append', records: ['rec-3', 'rec-4', 'rec-5'] });
    const s = await run;
    assert.equal(seen, [0, 1, 2, 3, 4, 5]);
    assert.is(s.stoppedBy, 'abort');
    assert.is(c.committedOffset, 6);
    await c.close();
    producer.proc.send({ type: 'close' });
    await producer.next('closed');
  } finally {
    await killAllChildren();
  }
});

test('a cursor below the log start (retention deleted its records) is ERR_POSITION_EXPIRED, never a skip', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: 4096 });
  p.append('rec-0');
  p.append('rec-1');
  await p.flush();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('late') });
  await c.nonblockingProcess(1, () => 'commit');
  await c.close(); // the cursor stays at 1; no blockingMinimumRetention, so nothing protects it
  for (let i = 1; i < 500; i++) {
    p.append(`rec-${i}-${'x'.repeat(60)}`);
    if (i % 20 === 0) await p.flush();
  }
  await p.flush();
  await waitFor(() => p.logStartOffset > 0, 'retention to delete the first segment');
  const err = await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('late') }), 'ERR_POSITION_EXPIRED');
  const d = (err as unknown as { details: { offset: number; logStartOffset: number } }).details;
  assert.is(d.offset, 1);
  assert.ok(d.logStartOffset > 1);
  // A cursor that never committed stands for "from the oldest": it follows the log start.
  const fresh = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('fresh') });
  assert.is(fresh.position, p.logStartOffset);
  await fresh.close();
  await p.close();
});

test('a new cursor opened while a roll applies retention opens at the log start, here and in another process', async () => {
  // At the second roll retention deletes the first segment (maxTotalBytes alone keeps the newest sealed
  // one), so the log start moves past it; its index unlink is slowed (writer thread), and both opens
  // happen while it waits.
  const logDir = tempDir();
  const idx0 = join(logDir, `${'0'.padStart(20, '0')}.idx`);
  const plan = { rules: [{ op: 'unlink' as const, path: '\\.idx$', thread: 'writer' as const, nth: 1, effect: { delayMs: 1500 } }] };
  await withFaults(plan, async () => {
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: 1024 });
    const child = Child.fork('tx-open.mjs', [logDir, 'there'], { execArgv: [] });
    try {
      await child.next('ready');
      for (let i = 0; i < 120; i++) p.append(`rec-${i}`);
      await p.flush();
      for (let i = 120; i < 240; i++) p.append(`rec-${i}`);
      await waitFor(() => p.logStartOffset > 0, 'retention to raise the log start');
      const start = p.logStartOffset;
      const here = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('here') });
      assert.is(here.committedOffset, start);
      await here.close();
      child.send({ type: 'open' });
      await waitFor(() => child.pending.some((m) => m.type === 'opened' || m.type === 'open-failed'), 'the child to open its cursor');
      const there = child.pending.find((m) => m.type === 'opened' || m.type === 'open-failed')!;
      assert.is(there.type, 'opened', `the child's open failed: ${String(there.code)} ${String(there.message)}`);
      assert.is(there.committed, start);
      assert.ok(existsSync(idx0), 'both opened while retention was still under way');
      await p.flush();
    } finally {
      await child.kill();
      await p.close();
    }
  });
});

test('an open that fails after creating a new cursor file leaves no cursor file behind', async () => {
  const logDir = await logOf(10);
  // The first segment open of this thread is the bounds walk; the second, the first open's probe of
  // the log start (before cursors/ is made); the third, the seek after the cursor file was created, fails.
  const plan = { rules: [{ op: 'open' as const, path: '\\.seg$', thread: 'main' as const, nth: 3, effect: { errno: 'EIO' } }] };
  await withFaults(plan, () => rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('late') }), 'ERR_IO'));
  assert.equal(readdirSync(join(logDir, 'cursors')), [], 'no cursor file and no lock left');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('late') });
  assert.is(c.committedOffset, 0);
  assert.equal([...c.iter()].length, 10);
  await c.close();
});

test('SIGKILL a child consumer at random points: every record applied exactly once', async () => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  const wantKills = Number(process.env.TX_KILLS ?? 15);
  console.log(`tx kill test seed=${seed} kills=${wantKills} (replay: SEED=${seed} TX_KILLS=${wantKills})`);
  let rng = seed;
  const rand = () => ((rng = (rng * 1103515245 + 12345) % 2147483648) / 2147483648);
  const N = 100_000;
  const logDir = await logOf(N);
  type Done = { count: number; sum: number };
  const run = async (everyRecords: number, killAfterMs: number | null): Promise<{ killed: boolean; final: Done | null }> => {
    const child = Child.fork('tx-consumer.mjs', [logDir, 'crashy', String(everyRecords)]);
    let timer: NodeJS.Timeout | undefined;
    if (killAfterMs !== null) {
      await child.next('open');
      timer = setTimeout(() => child.proc.kill('SIGKILL'), killAfterMs);
    }
    await child.exited;
    clearTimeout(timer);
    const r = child.exitInfo!;
    if (r.signal !== 'SIGKILL') assert.is(r.code, 0, `the child ends cleanly when not killed\n${child.stderr}`);
    const done = child.pending.find((m) => m.type === 'done') as { state?: Done } | undefined;
    return { killed: r.signal === 'SIGKILL', final: done?.state ?? null };
  };
  let kills = 0;
  let final: Done | null = null;
  for (let round = 0; kills < wantKills && final === null && round < 4 * wantKills; round++) {
    const r = await run([1, 1, 7, 50][round % 4]!, Math.floor(rand() * 15));
    if (r.killed) kills++;
    final = r.final;
  }
  if (final === null) final = (await run(1000, null)).final;
  assert.ok(kills >= wantKills, `killed ${kills} times`);
  assert.equal(final, { count: N, sum: (N * (N + 1)) / 2 }, 'each record applied exactly once');
});

test.run();
