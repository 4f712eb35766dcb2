/**
 * Consumer.tail() keeps the protocol of an async generator (src/consumer/tail-iterator.ts): calls
 * made while one waits run after it in order, return() and throw() end the iteration without
 * completing the record handed out last and release the consumer, a failed first call finishes the
 * iterator, and a record handed out is completed only when the next one is asked for. A commit that
 * fails as return() or throw() releases the consumer rejects their promise (no synchronous throw).
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, type Message } from '../dist/index.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, rejectsWith, waitFor, liveLogOf, logOf, tempDir } from './kit.js';
import { setFaults, clearFaults } from './faults.js';

const test = suite('tail-iterator');

const text = (r: IteratorResult<Message, void>): string | null => (r.done === true ? null : Buffer.from(r.value.data).toString());

/** An empty log with its producer open in this process. */
const live = (): Promise<{ p: Producer; logDir: string }> => liveLogOf(0, { syncPolicy: SyncPolicy.never() });

test('calls made while next() waits run after it, in order; a queued return() ends it and the last record comes again', async () => {
  const { p, logDir } = await live();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const it = c.tail();
    const order: string[] = [];
    const a = it.next().then((r) => (order.push(`a:${text(r)}`), r));
    const b = it.next().then((r) => (order.push(`b:${text(r)}`), r));
    const r = it.return().then((x) => (order.push(`return:${String(x.done)}`), x));
    p.append('r0');
    await waitFor(() => order.length === 1, 'the first next()');
    p.append('r1');
    await Promise.all([a, b, r]);
    assert.equal(order, ['a:r0', 'b:r1', 'return:true']);
    assert.equal(await it.next(), { value: undefined, done: true });
    // r0 was completed when the second next() ran; r1 was handed out, never completed.
    const again = c.tail();
    assert.is(text(await again.next()), 'r1');
    await again.return();
  } finally {
    await c.close();
    await p.close();
  }
});

test('throw() rejects with its error, ends the iteration and releases the consumer; completion is by the next call only', async () => {
  const { p, logDir } = await live();
  for (const x of ['t0', 't1']) p.append(x);
  await p.flush();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('tail-throw') });
  try {
    const it = c.tail();
    assert.is(text(await it.next()), 't0');
    assert.is(c.committedOffset, 0, 'nothing is committed while t0 is being handled');
    assert.is(text(await it.next()), 't1');
    const boom = new Error('boom');
    try {
      await it.throw(boom);
      assert.unreachable('throw() resolved');
    } catch (e) {
      assert.is(e, boom);
    }
    assert.equal(await it.next(), { value: undefined, done: true });
    const again = c.tail();
    assert.is(text(await again.next()), 't1', 't1 was not completed: it comes again');
    await again.return();
    assert.is(c.committedOffset, 1, 't0 was committed when t1 was asked for');
  } finally {
    await c.close();
    await p.close();
  }
});

test('a first call that fails finishes the iterator; return() before any next() never takes the consumer; asyncDispose releases it', async () => {
  const { p, logDir } = await live();
  p.append('d0');
  await p.flush();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const bad = c.tail(null as never);
    await rejectsWith(bad.next(), 'ERR_INVALID_OPTION');
    assert.equal(await bad.next(), { value: undefined, done: true }, 'finished after its failure');

    const unused = c.tail();
    assert.equal(await unused.return(), { value: undefined, done: true });
    const busy = c.tail();
    assert.is(text(await busy.next()), 'd0', 'the consumer was free: return() before next() took nothing');
    await rejectsWith(c.tail().next(), 'ERR_CONSUMER_BUSY');
    await busy[Symbol.asyncDispose]();
    const after = c.tail();
    assert.is(text(await after.next()), 'd0', 'asyncDispose released the consumer; d0 comes again');
    await after.return();
  } finally {
    await c.close();
    await p.close();
  }
  const closedIt = c.tail();
  await rejectsWith(closedIt.next(), 'ERR_LOG_CLOSED');
  assert.equal(await closedIt.next(), { value: undefined, done: true });
});

test('a cursor commit that fails in return() or throw() rejects their promise; neither throws', async () => {
  const logDir = await logOf(5);
  for (const how of ['return', 'throw'] as const) {
    const arm = join(tempDir(), 'arm');
    // Armed once two records are handed out: the commit as the iteration ends fails.
    setFaults({ arm, rules: [{ op: 'fdatasync', path: 'client\\.t\\.cursor$', thread: 'main', nth: 1, effect: { errno: 'EIO' } }] });
    let c: Consumer | null = null;
    let call: Promise<unknown> | null = null;
    let thrown: unknown = null;
    try {
      c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('t'), commit: { everyRecords: 100 } });
      const it = c.tail();
      await it.next();
      await it.next();
      writeFileSync(arm, '');
      try {
        call = how === 'return' ? it.return() : it.throw(new Error('from the loop'));
      } catch (e) {
        thrown = e;
      }
      assert.equal(await it.next(), { value: undefined, done: true });
    } finally {
      clearFaults();
    }
    assert.is(thrown, null, `${how}() threw synchronously: ${String(thrown)}`);
    await rejectsWith(call!, 'ERR_IO');
    await c.close();
  }
});

test.run();
