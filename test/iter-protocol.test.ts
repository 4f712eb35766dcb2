/**
 * consumer.iter() behaves as the generator it is typed as (src/consumer/record-iterator.ts writes it
 * out): nothing runs before the first next(); a loop that breaks leaves the record it broke on to be
 * handed out again first; return(), throw() and dispose give the consumer back; once done it stays
 * done; a refused start leaves it done. And each message's data is a Buffer that stays valid while
 * the reader reads on: records without attributes and with them, from iter(), tail() and a
 * processing call.
 */
import * as assert from 'uvu/assert';
import { deepStrictEqual } from 'node:assert';
import { isDeepStrictEqual } from 'node:util';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, type Message } from '../dist/index.js';
import { logOf, suite, tempDir, throwsWith } from './kit.js';

const test = suite('iter-protocol');

const text = (m: Message): string => Buffer.from(m.data).toString();
const openAt = (logDir: string, id = 'c'): Promise<Consumer> => Consumer.open({ logDir, style: ConsumerStyle.clientTx(id) });

test('nothing runs before the first next(): iter() of a closed consumer throws there, and the iterator is done after', async () => {
  const logDir = await logOf(3);
  const c = await openAt(logDir);
  const it = c.iter();
  await c.close();
  throwsWith(() => it.next(), 'ERR_LOG_CLOSED');
  assert.equal(it.next(), { value: undefined, done: true });
});

test('a loop that breaks: the record it broke on comes first next time; the iterator is done after the break', async () => {
  const logDir = await logOf(5);
  const c = await openAt(logDir);
  try {
    const it = c.iter();
    assert.is(it[Symbol.iterator](), it, 'an iterable iterator');
    for (const m of it) if (m.offset === 2) break;
    assert.equal(it.next(), { value: undefined, done: true }, 'done after the break');
    assert.equal([...c.iter()].map(text), ['rec-2', 'rec-3', 'rec-4']);
    assert.is(c.committedOffset, 5);
  } finally {
    await c.close();
  }
});

test('return() before the first next() and while suspended gives the consumer back; a second iteration meanwhile is busy', async () => {
  const logDir = await logOf(4);
  const c = await openAt(logDir);
  try {
    const unused = c.iter();
    assert.equal(unused.return(undefined), { value: undefined, done: true });
    assert.equal(unused.next(), { value: undefined, done: true }, 'a returned iterator never starts');
    const it = c.iter();
    assert.is(it.next().value?.offset, 0);
    assert.is(it.next().value?.offset, 1); // completes record 0
    throwsWith(() => c.iter().next(), 'ERR_CONSUMER_BUSY');
    assert.equal(it.return(undefined), { value: undefined, done: true });
    assert.equal([...c.iter()].map(text), ['rec-1', 'rec-2', 'rec-3'], 'record 1 was handed out, not completed');
  } finally {
    await c.close();
  }
});

test('throw(e) rethrows e and gives the consumer back; dispose does as return()', async () => {
  const logDir = await logOf(3);
  const c = await openAt(logDir);
  try {
    const it = c.iter();
    it.next();
    const e = new Error('from the caller');
    assert.throws(() => it.throw(e), (got: unknown) => got === e);
    assert.equal(it.next(), { value: undefined, done: true });
    const it2 = c.iter();
    assert.is(it2.next().value?.offset, 0);
    (it2 as unknown as Disposable)[Symbol.dispose]();
    assert.equal(it2.next(), { value: undefined, done: true });
    assert.equal([...c.iter()].map(text), ['rec-0', 'rec-1', 'rec-2']);
  } finally {
    await c.close();
  }
});

test('at the end: done, and done again; records appended later are for the next iteration', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    p.append('a');
    await p.flush();
    const it = c.iter();
    assert.is(text(it.next().value as Message), 'a');
    assert.equal(it.next(), { value: undefined, done: true });
    p.append('b');
    await p.flush();
    assert.equal(it.next(), { value: undefined, done: true }, 'a finished iterator stays done');
    assert.equal([...c.iter()].map(text), ['b']);
  } finally {
    await c.close();
    await p.close();
  }
});

test('message data is a Buffer viewing the record, valid while the reader reads on (plain, with key and headers; iter, tail, processing call)', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 64 * 1024 });
  const n = 3000;
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) p.append(`rec-${i}`, { key: `k${i}`, headers: { i: String(i) } });
    else p.append(`rec-${i}`);
  }
  await p.close();
  const check = (all: Message[], how: string): void => {
    assert.is(all.length, n, how);
    for (const [i, m] of all.entries()) {
      assert.ok(Buffer.isBuffer(m.data), `${how}: record ${i} is a Buffer`);
      assert.is(m.data.constructor, Buffer, `${how}: its constructor is Buffer`);
      assert.is(m.data.toString(), `rec-${i}`, `${how}: record ${i} still holds its bytes after the whole log was read`);
      assert.ok(Buffer.isBuffer(m.data.subarray(1)), `${how}: its subarray is a Buffer`);
      assert.is(m.key === null ? null : Buffer.from(m.key).toString(), i % 3 === 0 ? `k${i}` : null, `${how}: key of ${i}`);
    }
  };
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    check([...c.iter()], 'iter');
  } finally {
    await c.close();
  }
  const t = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const all: Message[] = [];
    for await (const m of t.tail()) if (all.push(m) === n) break;
    check(all, 'tail');
  } finally {
    await t.close();
  }
  const q = await openAt(logDir, 'proc');
  try {
    const all: Message[] = [];
    await q.nonblockingProcess(null, (m) => { all.push(m); return 'commit'; });
    check(all, 'nonblockingProcess');
  } finally {
    await q.close();
  }
});

test('message data deep-equals a Buffer of the same bytes, as Node compares Buffers (assert.deepStrictEqual, util.isDeepStrictEqual)', async () => {
  const logDir = await logOf(['plain']);
  const p = await Producer.open({ logDir });
  p.append('keyed', { key: 'k', headers: { h: '1' } });
  await p.close();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const [plain, keyed] = [...c.iter()];
    for (const [m, bytes] of [[plain!, 'plain'], [keyed!, 'keyed']] as const) {
      assert.ok(Object.getPrototypeOf(m.data) === Object.getPrototypeOf(Buffer.from(bytes)), `${bytes}: the prototype of a Buffer`);
      assert.ok(isDeepStrictEqual(m.data, Buffer.from(bytes)), `${bytes}: util.isDeepStrictEqual`);
      deepStrictEqual(m.data, Buffer.from(bytes));
      deepStrictEqual(m.data.subarray(1), Buffer.from(bytes).subarray(1));
    }
  } finally {
    await c.close();
  }
});

test('iter() is a generator to the language: %IteratorPrototype% in its chain (the iterator helpers of Node 22 on), tagged Generator', async () => {
  const logDir = await logOf(4);
  const c = await openAt(logDir);
  try {
    const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object;
    const it = c.iter();
    assert.ok(Object.prototype.isPrototypeOf.call(iteratorPrototype, it), 'inherits %IteratorPrototype%, as a generator does');
    assert.is(Object.prototype.toString.call(it), '[object Generator]');
    // What the helpers do, where the Node running this has them (22 and later): take() returns the iterator after 2.
    const take = (iteratorPrototype as { take?: (this: Iterator<Message>, n: number) => Iterable<Message> }).take;
    if (take !== undefined) {
      assert.equal([...take.call(it, 2)].map(text), ['rec-0', 'rec-1']);
      assert.equal([...c.iter()].map(text), ['rec-1', 'rec-2', 'rec-3'], 'the record take() stopped at comes again');
    }
    it.return(undefined);
  } finally {
    await c.close();
  }
});

test.run();
