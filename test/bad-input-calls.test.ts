/**
 * Bad input, the state of a handle: every call on a closed producer or consumer, concurrent iterations
 * and processing calls on one consumer, a second producer on a locked directory (same process and
 * another process), and `await using`. Every rejection is a LogError with a stable code and leaves the
 * log as it was. Options are in bad-input-options.test.ts; arguments of calls on an open handle in
 * bad-input-args.test.ts.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Producer, Consumer, ConsumerStyle, Whence, SyncPolicy, LogError } from '../dist/index.js';
import { suite, tempDir, digestDir, readRecords, rejectsWith, throwsWith } from './kit.js';
import { Child } from './child.js';
import { existingLog, verifiesClean } from './bad-input-kit.js';

const test = suite('bad-input-calls');

// ---------------------------------------------------------------------------------------------------
// Closed handles and busy consumers
// ---------------------------------------------------------------------------------------------------

test('producer: every call after close throws ERR_LOG_CLOSED (also while closing) and writes nothing; close and dispose are idempotent', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  p.append('one');
  const closing = p.close();
  throwsWith(() => p.append('while closing'), 'ERR_LOG_CLOSED');
  await closing;
  const afterClose = digestDir(logDir);
  for (const data of ['after close', Buffer.from('after close'), new Uint8Array(0), 42, null]) throwsWith(() => p.append(data as never), 'ERR_LOG_CLOSED');
  await rejectsWith(() => p.flush(), 'ERR_LOG_CLOSED');
  await p.close();
  await Promise.all([p.close(), p.close()]);
  await p[Symbol.asyncDispose]();
  assert.is(p.nextOffset, 1);
  assert.is(p.durableOffset, 1, 'close fsynced what was appended');
  assert.is(digestDir(logDir), afterClose, 'calls on a closed producer wrote nothing (no lock, no hint)');
  assert.equal(await readRecords(logDir), [{ offset: 0, text: 'one' }]);
  await verifiesClean(logDir);
});

test('consumer, nonTx and clientTx: iter, tail, for-await and processing after close give ERR_LOG_CLOSED and write nothing; close and dispose are idempotent', async () => {
  const logDir = await existingLog();
  const styles = [['nonTx', ConsumerStyle.nonTx(Whence.oldest()), false], ['clientTx', ConsumerStyle.clientTx('closing'), true]] as const;
  for (const [what, style, readFirst] of styles) {
    const c = await Consumer.open({ logDir, style });
    if (readFirst) assert.is(c.iter().next().value?.offset, 0, what);
    await c.close();
    await c.close();
    const closed = digestDir(logDir);
    throwsWith(() => c.iter().next(), 'ERR_LOG_CLOSED');
    throwsWith(() => [...c.iter()], 'ERR_LOG_CLOSED');
    await rejectsWith(() => c.tail().next(), 'ERR_LOG_CLOSED');
    await rejectsWith(() => c.tail({ signal: new AbortController().signal }).next(), 'ERR_LOG_CLOSED');
    await rejectsWith(async () => { for await (const _m of c) { /* nothing */ } }, 'ERR_LOG_CLOSED');
    await rejectsWith(() => c.nonblockingProcess(null, () => 'commit'), 'ERR_LOG_CLOSED');
    await rejectsWith(() => c.blockingProcess(1, () => 'commit'), 'ERR_LOG_CLOSED');
    await rejectsWith(() => c.nonblockingProcess(null, new URL('./fixtures/pool-handler.mjs', import.meta.url), { workers: 1 }), 'ERR_LOG_CLOSED');
    await c.close();
    await c[Symbol.asyncDispose]();
    if (readFirst) assert.is(c.committedOffset, 0, `${what}: leaving the iterator committed nothing`);
    assert.is(digestDir(logDir), closed, `${what}: calls on a closed consumer wrote nothing`);
  }
  await verifiesClean(logDir);
});

test('consumer: a second concurrent iteration or processing call gives ERR_CONSUMER_BUSY', async () => {
  const logDir = await existingLog();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const it = c.iter();
    assert.is(it.next().value?.offset, 0);
    throwsWith(() => c.iter().next(), 'ERR_CONSUMER_BUSY');
    await rejectsWith(() => c.tail().next(), 'ERR_CONSUMER_BUSY');
    await rejectsWith(() => c.nonblockingProcess(null, () => 'commit'), 'ERR_CONSUMER_BUSY');
    await rejectsWith(() => c.blockingProcess(null, () => 'commit'), 'ERR_CONSUMER_BUSY');
    // The first iteration is unharmed and continues where it was.
    assert.is(it.next().value?.offset, 1);
    it.return(undefined);
    // Once it ended, the consumer serves again. The record the left loop was on was not completed
    // (a loop completes a record when it asks for the next one), so it comes first.
    const again = c.iter();
    assert.is(again.next().value?.offset, 1);
    assert.is(again.next().value?.offset, 2);
    again.return(undefined);

    // A processing call in progress (its handler is waiting) makes the consumer busy too.
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let entered = false;
    const seen: number[] = [];
    const running = c.nonblockingProcess(1, async (m): Promise<'commit'> => { entered = true; seen.push(m.offset); await gate; return 'commit'; });
    throwsWith(() => c.iter().next(), 'ERR_CONSUMER_BUSY');
    await rejectsWith(() => c.nonblockingProcess(1, () => 'commit'), 'ERR_CONSUMER_BUSY');
    assert.ok(entered);
    release();
    const summary = await running;
    assert.is(summary.committed, 1);
    assert.is(summary.stoppedBy, 'limit');
    assert.equal(seen, [2]);

    // A blocking tail waiting at the end of the log makes it busy until it ends.
    for (const _m of c.iter()) { /* drain to the end */ }
    const ac = new AbortController();
    const tail = c.tail({ signal: ac.signal });
    const waiting = tail.next();
    await rejectsWith(() => c.nonblockingProcess(null, () => 'commit'), 'ERR_CONSUMER_BUSY');
    ac.abort();
    assert.is((await waiting).done, true);
    assert.equal([...c.iter()], []);
  } finally {
    await c.close();
  }
});

// ---------------------------------------------------------------------------------------------------
// One producer per directory
// ---------------------------------------------------------------------------------------------------

test('a second Producer.open in the same process: ERR_LOG_LOCKED, the log untouched', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  try {
    p.append('held');
    await p.flush();
    const before = digestDir(logDir);
    const err = await rejectsWith(() => Producer.open({ logDir }), 'ERR_LOG_LOCKED');
    assert.ok(err instanceof LogError);
    assert.ok(err.message.includes(logDir), `the message names the directory: ${err.message}`);
    // Through another spelling of the same directory too.
    await rejectsWith(() => Producer.open({ logDir: join(logDir, '.', '') + '/' }), 'ERR_LOG_LOCKED');
    assert.is(digestDir(logDir), before);
    // The holder keeps working.
    assert.is(p.append('still mine'), 1);
    await p.flush();
  } finally {
    await p.close();
  }
  const q = await Producer.open({ logDir });
  assert.is(q.nextOffset, 2);
  await q.close();
});

test('a Producer.open in a child process while this process holds the log: ERR_LOG_LOCKED', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  const child = Child.fork('ipc-producer.mjs', [logDir]);
  try {
    p.append('parent');
    await p.flush();
    const m = await child.next<{ type: string; code: string; message: string }>('open-failed');
    assert.is(m.code, 'ERR_LOG_LOCKED', m.message);
    assert.ok(m.message.includes(String(process.pid)), `the message names the holder's pid: ${m.message}`);
    await child.exited;
  } finally {
    await child.kill();
    await p.close();
  }
});

test('this process cannot open a log a child process holds, until the child closes or dies', async () => {
  const logDir = tempDir();
  const first = Child.fork('ipc-producer.mjs', [logDir]);
  let second: Child | undefined;
  try {
    const opened = await first.next<{ type: string; pid: number }>('open');
    first.send({ type: 'append', records: ['from child'] });
    await first.next('appended');
    const err = await rejectsWith(() => Producer.open({ logDir }), 'ERR_LOG_LOCKED');
    assert.ok(err.message.includes(String(opened.pid)), `the message names the child's pid: ${err.message}`);
    first.send({ type: 'close' });
    await first.next('closed');
    await first.exited;
    // Released by close: this process gets it.
    const p = await Producer.open({ logDir });
    assert.is(p.nextOffset, 1);
    await p.close();
    // A holder killed with SIGKILL leaves a stale lock, which the next opener takes over.
    second = Child.fork('ipc-producer.mjs', [logDir]);
    await second.next('open');
    await rejectsWith(() => Producer.open({ logDir }), 'ERR_LOG_LOCKED');
    await second.kill();
    const q = await Producer.open({ logDir });
    assert.is(q.nextOffset, 1);
    await q.close();
  } finally {
    await first.kill();
    await second?.kill();
  }
});

// ---------------------------------------------------------------------------------------------------
// await using
// ---------------------------------------------------------------------------------------------------

test('await using closes the producer at the end of the block, also when the block throws', async () => {
  const logDir = tempDir();
  let held: Producer | undefined;
  {
    await using p = await Producer.open({ logDir });
    held = p;
    p.append('in block');
    await rejectsWith(() => Producer.open({ logDir }), 'ERR_LOG_LOCKED');
  }
  throwsWith(() => held!.append('after block'), 'ERR_LOG_CLOSED');
  const boom = new Error('boom');
  try {
    await using q = await Producer.open({ logDir });
    held = q;
    assert.is(q.append('second block'), 1);
    throw boom;
  } catch (e) {
    assert.is(e, boom);
  }
  throwsWith(() => held!.append('after block'), 'ERR_LOG_CLOSED');
  // Both blocks released the lock and made their records durable.
  const r = await Producer.open({ logDir });
  assert.is(r.nextOffset, 2);
  await r.close();
  assert.equal(await readRecords(logDir), [{ offset: 0, text: 'in block' }, { offset: 1, text: 'second block' }]);
  // The consumer is disposable too.
  let c2: Consumer | undefined;
  {
    await using c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    c2 = c;
    assert.is([...c.iter()].length, 2);
  }
  throwsWith(() => c2!.iter().next(), 'ERR_LOG_CLOSED');
});

test.run();
