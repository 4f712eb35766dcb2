/**
 * Consuming with the non-transactional consumer: the processing functions (commit, skip, retry, break,
 * a throwing handler, bad outcomes, max and how each call stops), blocking iteration woken by appends
 * in this process, ended by break, abort and close() (consume-processes.test.ts: across processes).
 */
import * as assert from 'uvu/assert';
import { readFileSync, realpathSync } from 'node:fs';
import { getEventListeners } from 'node:events';
import { Producer, Consumer, ConsumerStyle, Whence, SyncPolicy, LogError, type Message, type Outcome, type ProcessContext } from '../dist/index.js';
import { suite, tempDir, liveLogOf, waitFor, rejectsWith } from './kit.js';

const test = suite('consume');

/**
 * The control block's slot a consumer of the producer's process waits on at the end of the log
 * (visibility 'written'), I32.WRITTEN_SEQ in src/ring/layout.ts, read from the source text: this file
 * runs on dist/ and loads no module of src/ (NaN, failing the test, if not found).
 */
const WRITTEN_SEQ = Number(/\bWRITTEN_SEQ: (\d+),/.exec(readFileSync(new URL('../src/ring/layout.ts', import.meta.url), 'utf8'))?.[1]);
const rec = (i: number) => `msg-${i}`;
const textOf = (m: Message) => Buffer.from(m.data).toString();

/** A log holding records 0..n-1 in 1 KiB segments; the producer stays open (in-process) unless `close`. */
async function logWith(n: number, close: boolean): Promise<{ logDir: string; p: Producer }> {
  const log = await liveLogOf(Array.from({ length: n }, (_, i) => rec(i)), { syncPolicy: SyncPolicy.never(), fileRollSize: 1024 });
  if (close) await log.p.close();
  return log;
}

const openAt = (logDir: string, whence = Whence.oldest()) => Consumer.open({ logDir, style: ConsumerStyle.nonTx(whence) });

interface Call { offset: number; attempt: number; logId: string; ctxOffset: number; text: string }
function recorder(decide: (m: Message, ctx: ProcessContext) => Outcome | Promise<Outcome>) {
  const calls: Call[] = [];
  const handler = (m: Message, ctx: ProcessContext) => {
    calls.push({ offset: m.offset, attempt: ctx.attempt, logId: ctx.logId, ctxOffset: ctx.offset, text: textOf(m) });
    return decide(m, ctx);
  };
  return { calls, handler };
}

// ---------------------------------------------------------------------------------------------------
// Processing functions
// ---------------------------------------------------------------------------------------------------

for (const mode of ['in-process', 'from the files'] as const) {
  test(`nonblockingProcess commit (${mode}): every record once, in order, with ctx; ends with 'end'`, async () => {
    const { logDir, p } = await logWith(30, mode === 'from the files');
    const c = await openAt(logDir);
    try {
      const { calls, handler } = recorder(() => 'commit');
      const s = await c.nonblockingProcess(null, handler);
      assert.equal(s, { committed: 30, skipped: 0, retried: 0, stoppedBy: 'end' });
      assert.equal(calls.map((k) => k.offset), Array.from({ length: 30 }, (_, i) => i));
      assert.equal(calls.map((k) => k.text), Array.from({ length: 30 }, (_, i) => rec(i)));
      const logId = realpathSync(logDir);
      for (const k of calls) {
        assert.is(k.attempt, 1);
        assert.is(k.logId, logId);
        assert.is(k.ctxOffset, k.offset);
      }
      assert.is(c.logId, logId);
      // Nothing is left: the next call sees nothing and ends.
      const again = recorder(() => 'commit');
      assert.equal(await c.nonblockingProcess(null, again.handler), { committed: 0, skipped: 0, retried: 0, stoppedBy: 'end' });
      assert.is(again.calls.length, 0);
      if (mode === 'in-process') {
        p.append(rec(30));
        await p.flush();
        const more = recorder(() => 'commit');
        assert.equal(await c.nonblockingProcess(null, more.handler), { committed: 1, skipped: 0, retried: 0, stoppedBy: 'end' });
        assert.equal(more.calls.map((k) => k.offset), [30]);
      }
    } finally {
      await c.close();
      await p.close();
    }
  });
}

test("max: a number stops with 'limit' after that many completed (commit or skip); null runs to the end", async () => {
  const { logDir, p } = await logWith(20, true);
  const c = await openAt(logDir);
  try {
    const none = recorder(() => 'commit');
    assert.equal(await c.nonblockingProcess(0, none.handler), { committed: 0, skipped: 0, retried: 0, stoppedBy: 'limit' });
    assert.is(none.calls.length, 0, 'max 0 calls nothing');
    const first = recorder(() => 'commit');
    assert.equal(await c.nonblockingProcess(3, first.handler), { committed: 3, skipped: 0, retried: 0, stoppedBy: 'limit' });
    assert.equal(first.calls.map((k) => k.offset), [0, 1, 2]);
    // Skips count toward max; retries do not.
    const mixed = recorder((m, ctx) => (m.offset === 4 && ctx.attempt === 1 ? 'retry' : m.offset % 2 === 0 ? 'skip' : 'commit'));
    assert.equal(await c.nonblockingProcess(4, mixed.handler), { committed: 2, skipped: 2, retried: 1, stoppedBy: 'limit' });
    assert.equal(mixed.calls.map((k) => [k.offset, k.attempt]), [[3, 1], [4, 1], [4, 2], [5, 1], [6, 1]]);
    const rest = recorder(() => 'commit');
    assert.equal(await c.nonblockingProcess(null, rest.handler), { committed: 13, skipped: 0, retried: 0, stoppedBy: 'end' });
    assert.equal(rest.calls.map((k) => k.offset), Array.from({ length: 13 }, (_, i) => 7 + i));
    // A max larger than what is there ends with 'end'.
    assert.equal(await c.nonblockingProcess(100, rest.handler), { committed: 0, skipped: 0, retried: 0, stoppedBy: 'end' });
  } finally {
    await c.close();
    await p.close();
  }
});

test("skip: the record is passed over, counted as skipped, and not delivered again", async () => {
  const { logDir, p } = await logWith(10, true);
  const c = await openAt(logDir);
  try {
    const { calls, handler } = recorder((m) => (m.offset % 3 === 0 ? 'skip' : 'commit'));
    assert.equal(await c.nonblockingProcess(null, handler), { committed: 6, skipped: 4, retried: 0, stoppedBy: 'end' });
    assert.equal(calls.map((k) => k.offset), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal([...c.iter()], [], 'skipped records are not delivered again');
  } finally {
    await c.close();
    await p.close();
  }
});

test("retry: the handler runs again on the same record with ctx.attempt + 1; counted in retried", async () => {
  const { logDir, p } = await logWith(5, true);
  const c = await openAt(logDir);
  try {
    const { calls, handler } = recorder(async (m, ctx) => {
      await Promise.resolve();
      if (m.offset === 1 && ctx.attempt < 4) return 'retry';
      if (m.offset === 3 && ctx.attempt < 2) return 'retry';
      return 'commit';
    });
    assert.equal(await c.nonblockingProcess(null, handler), { committed: 5, skipped: 0, retried: 4, stoppedBy: 'end' });
    assert.equal(calls.map((k) => [k.offset, k.attempt]), [[0, 1], [1, 1], [1, 2], [1, 3], [1, 4], [2, 1], [3, 1], [3, 2], [4, 1]]);
    for (const k of calls) {
      assert.is(k.text, rec(k.offset), 'the same record, the same bytes, on every attempt');
      assert.is(k.ctxOffset, k.offset);
    }
  } finally {
    await c.close();
    await p.close();
  }
});

test("break: returns stoppedBy 'break'; the record is not consumed and comes first next time", async () => {
  const { logDir, p } = await logWith(6, true);
  const c = await openAt(logDir);
  try {
    let breaks = 0;
    const first = recorder((m) => (m.offset === 2 && breaks++ === 0 ? 'break' : 'commit'));
    assert.equal(await c.nonblockingProcess(null, first.handler), { committed: 2, skipped: 0, retried: 0, stoppedBy: 'break' });
    assert.equal(first.calls.map((k) => k.offset), [0, 1, 2]);
    assert.is(c.position, 2, 'the consumer is still at the record it broke on');
    const second = recorder(() => 'commit');
    assert.equal(await c.nonblockingProcess(1, second.handler), { committed: 1, skipped: 0, retried: 0, stoppedBy: 'limit' });
    assert.equal(second.calls.map((k) => [k.offset, k.attempt, k.text]), [[2, 1, rec(2)]]);
    // A break on a retried record: also redelivered, and an iterator gets it too.
    const third = recorder((m, ctx) => (ctx.attempt === 1 ? 'retry' : 'break'));
    assert.equal(await c.nonblockingProcess(null, third.handler), { committed: 0, skipped: 0, retried: 1, stoppedBy: 'break' });
    assert.equal(third.calls.map((k) => [k.offset, k.attempt]), [[3, 1], [3, 2]]);
    assert.equal([...c.iter()].map((m) => m.offset), [3, 4, 5]);
  } finally {
    await c.close();
    await p.close();
  }
});

test("blockingProcess 'break' returns at once and leaves the record for the next call", async () => {
  const { logDir, p } = await logWith(3, false);
  const c = await openAt(logDir);
  try {
    const ac = new AbortController();
    const b = recorder((m) => (m.offset === 1 ? 'break' : 'commit'));
    assert.equal(await c.blockingProcess(null, b.handler, { signal: ac.signal }), { committed: 1, skipped: 0, retried: 0, stoppedBy: 'break' });
    const n = recorder(() => 'commit');
    assert.equal(await c.nonblockingProcess(null, n.handler), { committed: 2, skipped: 0, retried: 0, stoppedBy: 'end' });
    assert.equal(n.calls.map((k) => k.offset), [1, 2]);
  } finally {
    await c.close();
    await p.close();
  }
});

test('a handler that throws: the call rejects with its error; the record is delivered again next time', async () => {
  const { logDir, p } = await logWith(4, true);
  const c = await openAt(logDir);
  try {
    const boom = new Error('handler failed');
    const sync = recorder((m) => { if (m.offset === 1) throw boom; return 'commit'; });
    try {
      await c.nonblockingProcess(null, sync.handler);
      assert.unreachable('the call should reject');
    } catch (e) {
      assert.is(e, boom, 'rejects with the handler\'s own error');
    }
    assert.equal(sync.calls.map((k) => k.offset), [0, 1]);
    // An async handler that rejects, on the redelivered record.
    const asyncBoom = new TypeError('async failure');
    const again = recorder(async () => { throw asyncBoom; });
    try {
      await c.blockingProcess(null, again.handler);
      assert.unreachable('the call should reject');
    } catch (e) {
      assert.is(e, asyncBoom);
    }
    assert.equal(again.calls.map((k) => [k.offset, k.attempt]), [[1, 1]], 'the failed record came first, as a first attempt');
    // The consumer is not busy after a rejection, and the record is still there.
    const ok = recorder(() => 'commit');
    assert.equal(await c.nonblockingProcess(null, ok.handler), { committed: 3, skipped: 0, retried: 0, stoppedBy: 'end' });
    assert.equal(ok.calls.map((k) => k.offset), [1, 2, 3]);
  } finally {
    await c.close();
    await p.close();
  }
});

test('an invalid outcome, max or handler: ERR_INVALID_OPTION; the record is not consumed', async () => {
  const { logDir, p } = await logWith(3, true);
  const c = await openAt(logDir);
  try {
    for (const bad of ['COMMIT', 'ack', '', undefined, null, 42, true, {}]) {
      const r = recorder(() => bad as never);
      const err = await rejectsWith(() => c.nonblockingProcess(null, r.handler), 'ERR_INVALID_OPTION');
      assert.ok(err instanceof LogError);
      assert.is((err as LogError).details.option, 'handler', `outcome ${String(bad)}`);
      assert.equal(r.calls.map((k) => k.offset), [0], `outcome ${String(bad)}: one call, on record 0`);
    }
    const async = recorder(async () => 'done' as never);
    await rejectsWith(() => c.nonblockingProcess(null, async.handler), 'ERR_INVALID_OPTION');
    for (const max of [-1, 1.5, NaN, '3', Infinity]) {
      const err = await rejectsWith(() => c.nonblockingProcess(max as never, () => 'commit'), 'ERR_INVALID_OPTION');
      assert.is((err as LogError).details.option, 'max', `max ${String(max)}`);
      await rejectsWith(() => c.blockingProcess(max as never, () => 'commit'), 'ERR_INVALID_OPTION');
    }
    // A module that is not a file: a directory, another scheme than file:.
    for (const handler of [null, undefined, 'commit', {}, tempDir(), new URL('http://127.0.0.1/handler.mjs'), 'data:text/javascript,export default () => "commit"']) {
      const err = await rejectsWith(() => c.nonblockingProcess(null, handler as never), 'ERR_INVALID_OPTION');
      assert.is((err as LogError).details.option, 'handler', String(handler));
    }
    const ok = recorder(() => 'commit');
    assert.equal(await c.nonblockingProcess(null, ok.handler), { committed: 3, skipped: 0, retried: 0, stoppedBy: 'end' });
    assert.equal(ok.calls.map((k) => k.offset), [0, 1, 2]);
  } finally {
    await c.close();
    await p.close();
  }
});

test('synchronous answers run back to back, yet a promise reaction queued in a handler runs within 64 records; a thenable answer is awaited', async () => {
  const { logDir, p } = await logWith(300, true);
  const c = await openAt(logDir);
  try {
    const ranAt: number[] = [];
    let handled = 0;
    const summary = await c.nonblockingProcess(null, (m) => {
      handled++;
      if (m.offset % 100 === 0) void Promise.resolve().then(() => ranAt.push(handled));
      return 'commit';
    });
    assert.is(summary.committed, 300);
    assert.is(ranAt.length, 3);
    ranAt.forEach((at, i) => assert.ok(at - 100 * i <= 64, `the reaction queued at record ${100 * i} ran after ${at} records`));
    const thenable = recorder(() => ({ then: (done: (o: Outcome) => void) => done('skip') }) as unknown as Outcome);
    const c2 = await openAt(logDir);
    try {
      assert.equal(await c2.nonblockingProcess(2, thenable.handler), { committed: 0, skipped: 2, retried: 0, stoppedBy: 'limit' });
    } finally {
      await c2.close();
    }
  } finally {
    await c.close();
    await p.close();
  }
});

// ---------------------------------------------------------------------------------------------------
// Blocking, in this process
// ---------------------------------------------------------------------------------------------------

test("blockingProcess waits for appends in this process; ends with 'limit', 'abort' and on close()", async () => {
  const { logDir, p } = await logWith(2, false);
  const c = await openAt(logDir);
  try {
    // max 5 with 2 records stored: it waits for three more.
    const five = recorder(() => 'commit');
    let done = false;
    const running = c.blockingProcess(5, five.handler).then((s) => { done = true; return s; });
    await waitFor(() => five.calls.length === 2, 'the two stored records');
    for (let i = 2; i < 5; i++) {
      p.append(rec(i));
      await waitFor(() => five.calls.length === i + 1, `record ${i} after its append`);
    }
    assert.equal(await running, { committed: 5, skipped: 0, retried: 0, stoppedBy: 'limit' });
    assert.ok(done);
    assert.equal(five.calls.map((k) => k.text), [0, 1, 2, 3, 4].map(rec));

    // null: it runs until the signal aborts.
    const ac = new AbortController();
    const all = recorder(() => 'commit');
    const endless = c.blockingProcess(null, all.handler, { signal: ac.signal });
    for (let i = 5; i < 15; i++) {
      p.append(rec(i));
      if (i % 3 === 0) await waitFor(() => all.calls.length === i - 4, `record ${i}`);
    }
    await waitFor(() => all.calls.length === 10, 'ten more records');
    ac.abort();
    assert.equal(await endless, { committed: 10, skipped: 0, retried: 0, stoppedBy: 'abort' });
    assert.equal(all.calls.map((k) => k.offset), Array.from({ length: 10 }, (_, i) => 5 + i));

    // A signal aborted before the call: nothing is processed.
    const none = recorder(() => 'commit');
    p.append(rec(15));
    await p.flush();
    assert.equal(await c.blockingProcess(null, none.handler, { signal: AbortSignal.abort() }), { committed: 0, skipped: 0, retried: 0, stoppedBy: 'abort' });
    assert.is(none.calls.length, 0);

    // A handler retrying forever is stopped by abort.
    const stuck = new AbortController();
    const retrying = recorder(async (): Promise<'retry'> => { await new Promise((r) => setImmediate(r)); return 'retry'; });
    const spinning = c.blockingProcess(null, retrying.handler, { signal: stuck.signal });
    await waitFor(() => retrying.calls.length >= 3, 'a few retries');
    stuck.abort();
    const s = await spinning;
    assert.is(s.stoppedBy, 'abort');
    assert.is(s.committed, 0);
    assert.is(s.retried, retrying.calls.length);
    assert.ok(retrying.calls.every((k, i) => k.offset === 15 && k.attempt === i + 1), 'the same record, attempts 1, 2, 3, ...');

    // close() ends a waiting blockingProcess (record 15 was not completed: it comes first, then waits).
    const last = recorder(() => 'commit');
    const waiting = c.blockingProcess(null, last.handler);
    await waitFor(() => last.calls.length === 1, 'record 15 again');
    assert.is(last.calls[0]!.offset, 15);
    await c.close();
    const ended = await waiting;
    assert.equal(ended, { committed: 1, skipped: 0, retried: 0, stoppedBy: 'end' }, 'close() ends the call as the end of the log');
  } finally {
    await c.close();
    await p.close();
  }
});

test('a synchronous handler that always answers retry still lets an abort (from a timer) stop the call', async () => {
  // With no retry delay the loop must still yield to the event loop now and then, or no timer, I/O or
  // abort could ever run. A safety valve breaks after many attempts so that a starving loop fails the
  // test instead of hanging it.
  const { logDir, p } = await logWith(1, true);
  const c = await openAt(logDir);
  try {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    let attempts = 0;
    const s = await c.blockingProcess(null, (_m, ctx) => {
      attempts = ctx.attempt;
      return attempts >= 200_000 ? 'break' : 'retry';
    }, { signal: ac.signal });
    assert.is(s.stoppedBy, 'abort', `stopped by ${s.stoppedBy} after ${attempts} attempts: the retry loop never yielded to the event loop`);
  } finally {
    await c.close();
    await p.close();
  }
});

test('for await (const m of consumer) is woken by later appends in this process and ends on break', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  const c = await openAt(logDir, Whence.latest());
  try {
    const got: Message[] = [];
    const loop = (async () => {
      for await (const m of c) {
        got.push(m);
        if (m.offset === 9) break;
      }
    })();
    // One record at a time, each only after the reader took the previous one: every one wakes a waiting reader.
    for (let i = 0; i < 10; i++) {
      p.append(rec(i));
      await waitFor(() => got.length === i + 1, `the reader to get record ${i}`);
    }
    await loop;
    assert.equal(got.map((m) => [m.offset, textOf(m)]), Array.from({ length: 10 }, (_, i) => [i, rec(i)]));
    // After break the consumer serves again (the loop released it). The record the loop broke on was
    // not completed (a loop completes a record by asking for the next), so it comes first.
    p.append(rec(10));
    await p.flush();
    assert.equal([...c.iter()].map((m) => m.offset), [9, 10]);
  } finally {
    await c.close();
    await p.close();
  }
});

test('consumer.tail({ signal }) is woken by appends, durable visibility waits for fsync, and it ends on abort', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.periodic(86_400_000) }); // fsync only on flush()
  const c = await openAt(logDir);
  const d = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()), visibility: 'durable' });
  const ac = new AbortController();
  try {
    const got: number[] = [];
    const durable: number[] = [];
    let ended = false;
    const loop = (async () => {
      for await (const m of c.tail({ signal: ac.signal })) got.push(m.offset);
      ended = true;
    })();
    const dloop = (async () => {
      for await (const m of d.tail({ signal: ac.signal })) durable.push(m.offset);
    })();
    for (let i = 0; i < 5; i++) {
      p.append(rec(i));
      await waitFor(() => got.length === i + 1, `written record ${i}`);
    }
    assert.equal(got, [0, 1, 2, 3, 4]);
    assert.is(p.durableOffset, 0, 'nothing was fsynced yet');
    assert.equal(durable, [], 'a durable-visibility reader sees nothing before the fsync');
    await p.flush();
    await waitFor(() => durable.length === 5, 'the durable reader after flush');
    assert.equal(durable, [0, 1, 2, 3, 4]);
    assert.not.ok(ended);
    ac.abort();
    await loop;
    await dloop;
    assert.ok(ended, 'the loop ended on abort');
  } finally {
    ac.abort();
    await c.close();
    await d.close();
    await p.close();
  }
});

test('one signal over successive tails: each waiting tail ends on abort at once, and no listener is left on the signal', async () => {
  // The wait at the log's end keeps one abort listener from wait to wait (no listener per wait); it
  // must be removed when the iteration ends, and an abort must end a wait without its 1 s bound.
  const { logDir, p } = await logWith(1, false);
  const control = new Int32Array(p.share().control, 0, WRITTEN_SEQ + 1); // the slot the tails wait on
  const c = await openAt(logDir);
  const ac = new AbortController();
  try {
    const got: number[] = [];
    const first = (async () => {
      for await (const m of c.tail({ signal: ac.signal })) {
        got.push(m.offset);
        if (m.offset === 1) break; // record 1 is not completed: the next tail hands it out again
      }
    })();
    await waitFor(() => getEventListeners(ac.signal, 'abort').length === 1, 'the first tail waiting with its listener');
    p.append(rec(1));
    await first;
    assert.is(getEventListeners(ac.signal, 'abort').length, 0, 'break removed the listener');
    let waiting = false;
    const loop = (async () => {
      for await (const m of c.tail({ signal: ac.signal })) got.push(m.offset);
    })();
    p.append(rec(2));
    await waitFor(() => got.length === 4, 'record 2 through the second tail');
    await waitFor(() => (waiting = getEventListeners(ac.signal, 'abort').length === 1), 'the second tail waiting with its listener');
    assert.ok(waiting);
    assert.ok(WRITTEN_SEQ >= 0, `WRITTEN_SEQ read from src/ring/layout.ts: ${WRITTEN_SEQ}`);
    ac.abort();
    // The abort itself woke the tail's wait on the slot (its waiter left the slot's list): a wake-up
    // now finds nobody. A wait the abort did not wake would sleep on to its 1 s bound, and be found.
    const stillAsleep = Atomics.notify(control, WRITTEN_SEQ);
    await loop;
    assert.is(stillAsleep, 0, 'the abort woke the waiting tail: no wait of it was left asleep on the slot');
    assert.is(getEventListeners(ac.signal, 'abort').length, 0, 'the ended tail removed its listener');
    assert.equal(got, [0, 1, 1, 2]);
  } finally {
    await c.close();
    await p.close();
  }
});

test('consumer.close() ends a for-await loop waiting for records', async () => {
  const { logDir, p } = await logWith(3, false);
  const c = await openAt(logDir);
  try {
    const got: number[] = [];
    let ended = false;
    const loop = (async () => {
      for await (const m of c) got.push(m.offset);
      ended = true;
    })();
    await waitFor(() => got.length === 3, 'the stored records');
    assert.not.ok(ended, 'it waits at the end of the log');
    await c.close();
    await loop;
    assert.ok(ended);
    assert.equal(got, [0, 1, 2]);
    // From the files too (no producer in this process).
    await p.close();
    const f = await openAt(logDir);
    const fgot: number[] = [];
    const floop = (async () => { for await (const m of f) fgot.push(m.offset); })();
    await waitFor(() => fgot.length === 3, 'the stored records, from the files');
    await f.close();
    await floop;
    assert.equal(fgot, [0, 1, 2]);
  } finally {
    await c.close();
    await p.close();
  }
});

test.run();
