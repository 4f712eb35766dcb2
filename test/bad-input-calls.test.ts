/**
 * Bad input, calls: append arguments, records over maxRecordBytes, calls on closed handles, concurrent
 * iterations, a second producer on a locked directory (same process and another process), and
 * `await using`. Every rejection is a LogError with a stable code and leaves the log as it was.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Producer, Consumer, ConsumerStyle, Whence, SyncPolicy, LogError } from '../dist/index.js';
import { suite, tempDir, digestDir, rejectsWith, throwsWith } from './kit.js';
import { Child } from './child.js';
import { KiB, MiB, details, existingLog, readAll } from './bad-input-kit.js';

const test = suite('bad-input-calls');


// ---------------------------------------------------------------------------------------------------
// append arguments and record size
// ---------------------------------------------------------------------------------------------------

test('append of a value that is not bytes or a string: ERR_INVALID_OPTION, offsets stay dense', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  try {
    assert.is(p.append('first'), 0);
    const bad: Array<[string, unknown]> = [
      ['a number', 42], ['an object', { data: 'x' }], ['null', null], ['undefined', undefined], ['an array', [1, 2, 3]],
      ['a boolean', true], ['a bigint', 5n], ['a symbol', Symbol('s')],
    ];
    for (const [what, v] of bad) {
      const err = throwsWith(() => p.append(v as never), 'ERR_INVALID_OPTION');
      assert.ok(err instanceof LogError, what);
      assert.is(details(err).option, 'data', what);
      assert.is(p.nextOffset, 1, `${what}: no offset used`);
    }
    assert.is(p.append('second'), 1);
    await p.flush();
    assert.equal(await readAll(logDir), [{ offset: 0, text: 'first' }, { offset: 1, text: 'second' }]);
  } finally {
    await p.close();
  }
});

test('append of bytes whose buffer was transferred away (or shrunk under the view): ERR_INVALID_OPTION, offsets stay dense', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  const transferred = (bytes: Uint8Array): Uint8Array => {
    structuredClone(bytes.buffer, { transfer: [bytes.buffer as ArrayBuffer] });
    return bytes;
  };
  const posted = (bytes: Uint8Array): Uint8Array => {
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
    port1.close();
    port2.close();
    return bytes;
  };
  const shrunk = (): Uint8Array => {
    const buffer = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void })(64, { maxByteLength: 128 });
    const view = new Uint8Array(buffer, 16, 32);
    buffer.resize(8); // the view now lies past the buffer's end
    return view;
  };
  try {
    assert.is(p.append('first'), 0);
    const bad: Array<[string, Uint8Array]> = [
      ['a Uint8Array transferred with structuredClone', transferred(new Uint8Array(100).fill(7))],
      ['a Buffer transferred with structuredClone', transferred(Buffer.alloc(4096, 'b'))],
      ['a Uint8Array posted with its buffer in the transfer list', posted(new Uint8Array(10))],
      ['a view into a transferred buffer', (() => { const b = new Uint8Array(64); const v = b.subarray(8, 40); transferred(b); return v; })()],
      ['a view past the end of a shrunk resizable buffer', shrunk()],
    ];
    for (const [what, data] of bad) {
      const before = p.nextOffset;
      const err = throwsWith(() => p.append(data), 'ERR_INVALID_OPTION');
      assert.ok(err instanceof LogError, `${what}: a LogError, not a ${(err as Error).constructor.name}`);
      assert.is(details(err).option, 'data', what);
      assert.is(p.nextOffset, before, `${what}: no offset used`);
      assert.is(p.append(`after ${what}`), before, `${what}: the next record gets the next offset`);
    }
    assert.is(p.append(new Uint8Array(0)), bad.length + 1, 'an empty record is still a record');
    await p.flush();
    assert.is(p.writtenOffset, bad.length + 2, 'nothing but the good records went through the ring');
    assert.equal(await readAll(logDir), [
      { offset: 0, text: 'first' },
      ...bad.map(([what], i) => ({ offset: i + 1, text: `after ${what}` })),
      { offset: bad.length + 1, text: '' },
    ]);
  } finally {
    await p.close();
  }
});

test('a record over maxRecordBytes: ERR_RECORD_TOO_LARGE (Buffer, Uint8Array, short and long strings), nothing written', async () => {
  const logDir = tempDir();
  const max = 1000;
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), maxRecordBytes: max });
  const expected: string[] = [];
  const ok = (data: string | Uint8Array) => {
    const offset = p.append(data);
    assert.is(offset, expected.length, 'the next good record gets the next offset');
    expected.push(typeof data === 'string' ? data : Buffer.from(data).toString());
  };
  const tooLarge: Array<[string, string | Uint8Array]> = [
    ['Buffer of max+1', Buffer.alloc(max + 1, 1)],
    ['Uint8Array of max+1', new Uint8Array(max + 1)],
    ['Buffer far over', Buffer.alloc(10 * max)],
    ['ASCII string of max+1', 'x'.repeat(max + 1)],
    ['multi-byte string of max+2 bytes, fewer units than max', 'é'.repeat(max / 2 + 1)],
    ['3-byte chars, 334 units = 1002 bytes', '€'.repeat(334)],
    ['long string (> 4096 units) over max', 'y'.repeat(5000)],
    ['long multi-byte string over max', 'ü'.repeat(4100)],
  ];
  try {
    ok('a');
    for (const [what, data] of tooLarge) {
      const before = p.nextOffset;
      const err = throwsWith(() => p.append(data), 'ERR_RECORD_TOO_LARGE');
      assert.ok(err instanceof LogError, what);
      assert.ok(err.message.includes('maxRecordBytes'), `${what}: message names maxRecordBytes: ${err.message}`);
      assert.is(p.nextOffset, before, `${what}: no offset used`);
      ok(`after ${what}`);
    }
    ok(Buffer.alloc(max, 0x41)); // exactly max is fine
    ok('é'.repeat(max / 2)); // exactly max bytes of 2-byte chars
    await p.flush();
    assert.is(p.durableOffset, expected.length);
    const inProcess = await readAll(logDir);
    assert.equal(inProcess.map((r) => r.offset), expected.map((_, i) => i), 'dense offsets, no gap');
    inProcess.forEach((r, i) => assert.is(r.text, expected[i], `record ${i}`));
  } finally {
    await p.close();
  }
  const fromFiles = await readAll(logDir);
  assert.is(fromFiles.length, expected.length);
  assert.is(fromFiles.at(-1)!.text, 'é'.repeat(max / 2));
});

test('default options: a record of 16 MiB + 1 is ERR_RECORD_TOO_LARGE and leaves no trace', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  try {
    p.append('before');
    throwsWith(() => p.append(Buffer.alloc(16 * MiB + 1)), 'ERR_RECORD_TOO_LARGE');
    assert.is(p.append('after'), 1);
    await p.flush();
    assert.equal(await readAll(logDir), [{ offset: 0, text: 'before' }, { offset: 1, text: 'after' }]);
  } finally {
    await p.close();
  }
});

test('rejected records interleaved with good ones across many ring wraps leave no gap or damage', async () => {
  const logDir = tempDir();
  // A small ring wraps often; a rejected short string reserves (and may wrap) space before it is measured.
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), ringBytes: 64 * KiB, maxRecordBytes: 1000 });
  const expected: string[] = [];
  try {
    for (let i = 0; i < 3000; i++) {
      const good = `${i}:${'g'.repeat((i * 37) % 700)}`;
      assert.is(p.append(good), expected.length);
      expected.push(good);
      if (i % 3 === 0) throwsWith(() => p.append('ñ'.repeat(501 + (i % 400))), 'ERR_RECORD_TOO_LARGE');
      if (i % 7 === 0) throwsWith(() => p.append(Buffer.alloc(1001 + i)), 'ERR_RECORD_TOO_LARGE');
    }
    await p.flush();
    const got = await readAll(logDir);
    assert.is(got.length, expected.length);
    got.forEach((r, i) => {
      assert.is(r.offset, i);
      assert.is(r.text, expected[i], `record ${i}`);
    });
  } finally {
    await p.close();
  }
});

// ---------------------------------------------------------------------------------------------------
// Closed handles and busy consumers
// ---------------------------------------------------------------------------------------------------

test('producer: append and flush after close throw ERR_LOG_CLOSED; close is idempotent', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  p.append('one');
  const closing = p.close();
  throwsWith(() => p.append('while closing'), 'ERR_LOG_CLOSED');
  await closing;
  throwsWith(() => p.append('after close'), 'ERR_LOG_CLOSED');
  throwsWith(() => p.append(Buffer.from('after close')), 'ERR_LOG_CLOSED');
  await rejectsWith(() => p.flush(), 'ERR_LOG_CLOSED');
  await p.close();
  await Promise.all([p.close(), p.close()]);
  assert.is(p.nextOffset, 1);
  assert.is(p.durableOffset, 1, 'close fsynced what was appended');
  assert.equal(await readAll(logDir), [{ offset: 0, text: 'one' }]);
});

test('consumer: iter, tail, for-await and processing after close give ERR_LOG_CLOSED; close is idempotent', async () => {
  const logDir = await existingLog();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  await c.close();
  await c.close();
  throwsWith(() => c.iter().next(), 'ERR_LOG_CLOSED');
  throwsWith(() => [...c.iter()], 'ERR_LOG_CLOSED');
  await rejectsWith(() => c.tail().next(), 'ERR_LOG_CLOSED');
  await rejectsWith(() => c.tail({ signal: new AbortController().signal }).next(), 'ERR_LOG_CLOSED');
  await rejectsWith(async () => { for await (const _m of c) { /* nothing */ } }, 'ERR_LOG_CLOSED');
  await rejectsWith(() => c.nonblockingProcess(null, () => 'commit'), 'ERR_LOG_CLOSED');
  await rejectsWith(() => c.blockingProcess(1, () => 'commit'), 'ERR_LOG_CLOSED');
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
  assert.equal(await readAll(logDir), [{ offset: 0, text: 'in block' }, { offset: 1, text: 'second block' }]);
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
