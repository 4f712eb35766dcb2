/**
 * Bad input, arguments of calls on an open handle: what append takes (record types, buffers that were
 * transferred away or shrunk, sizes against maxRecordBytes), the arguments of the consuming calls
 * (signals, max, handlers, options) and the state a transactional handler sets. Each refusal is a
 * LogError with its code, offsets stay dense, nothing is committed, and the log still verifies clean.
 * Options of Producer.open and Consumer.open are in bad-input-options.test.ts; calls on closed or busy
 * handles and locks in bad-input-calls.test.ts.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Producer, Consumer, ConsumerStyle, SyncPolicy, LogError } from '../dist/index.js';
import { suite, tempDir, digestDir, logOf, readRecords, readTexts, rejectsWith, throwsWith } from './kit.js';
import { KiB, MiB, details, verifiesClean } from './bad-input-kit.js';

const test = suite('bad-input-args');

// ---------------------------------------------------------------------------------------------------
// append
// ---------------------------------------------------------------------------------------------------

test('append data: only Uint8Array (any buffer behind it) and strings; zero bytes is a record; offsets stay dense', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), maxRecordBytes: 16 });
  const expected: string[] = [];
  const good = (data: Uint8Array | string, text: string): void => {
    assert.is(p.append(data), expected.length, text);
    expected.push(text);
  };
  try {
    const bad: Array<[string, unknown]> = [
      ['SharedArrayBuffer', new SharedArrayBuffer(4)], ['ArrayBuffer', new ArrayBuffer(4)], ['DataView', new DataView(new ArrayBuffer(4))],
      ['Uint16Array', new Uint16Array(2)], ['Int8Array', new Int8Array(2)], ['Float64Array', new Float64Array(1)],
      ['Uint8ClampedArray', new Uint8ClampedArray(2)], ['String object', new String('x')], ['number', 7], ['NaN', NaN],
      ['a plain array of bytes', [65, 66]], ['an array-like', { length: 1, 0: 65 }], ['a function', () => 'x'], ['a Promise', Promise.resolve('x')],
      ['a number', 42], ['an object', { data: 'x' }], ['null', null], ['undefined', undefined], ['an array', [1, 2, 3]],
      ['a boolean', true], ['a bigint', 5n], ['a symbol', Symbol('s')],
    ];
    good('first', 'first');
    for (const [what, v] of bad) {
      const err = throwsWith(() => p.append(v as never), 'ERR_INVALID_OPTION');
      assert.ok(err instanceof LogError, what);
      assert.is(details(err).option, 'data', what);
      assert.is(p.nextOffset, expected.length, `${what}: no offset used`);
    }
    // Zero bytes is a valid record (format.md: records of length 0 are allowed), in every form.
    good('', '');
    good(new Uint8Array(0), '');
    good(Buffer.alloc(0), '');
    good(new Uint8Array(new SharedArrayBuffer(3)).fill(0x41), 'AAA');
    good(new Uint8Array(new ArrayBuffer(8), 2, 2).fill(0x42), 'BB');
    good('x'.repeat(16), 'x'.repeat(16));
    for (const over of ['x'.repeat(17), Buffer.alloc(17), 'ü'.repeat(9)]) throwsWith(() => p.append(over), 'ERR_RECORD_TOO_LARGE');
    good('last', 'last');
    await p.flush();
  } finally {
    await p.close();
  }
  assert.equal(await readRecords(logDir), expected.map((text, offset) => ({ offset, text })));
  await verifiesClean(logDir);

  // maxRecordBytes 0: only empty records.
  const zero = tempDir();
  const q = await Producer.open({ logDir: zero, maxRecordBytes: 0 });
  try {
    assert.is(q.append(''), 0);
    throwsWith(() => q.append('a'), 'ERR_RECORD_TOO_LARGE');
    throwsWith(() => q.append(new Uint8Array(1)), 'ERR_RECORD_TOO_LARGE');
    assert.is(q.append(new Uint8Array(0)), 1);
  } finally {
    await q.close();
  }
  assert.equal(await readTexts(zero), ['', '']);
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
    assert.equal(await readRecords(logDir), [
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
    const inProcess = await readRecords(logDir);
    assert.equal(inProcess.map((r) => r.offset), expected.map((_, i) => i), 'dense offsets, no gap');
    inProcess.forEach((r, i) => assert.is(r.text, expected[i], `record ${i}`));
  } finally {
    await p.close();
  }
  const fromFiles = await readRecords(logDir);
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
    assert.equal(await readRecords(logDir), [{ offset: 0, text: 'before' }, { offset: 1, text: 'after' }]);
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
    const got = await readRecords(logDir);
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
// Consuming calls and state
// ---------------------------------------------------------------------------------------------------

test('signals and call options: ERR_INVALID_OPTION, the consumer not left busy and nothing committed', async () => {
  const logDir = await logOf(5);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.globalTx() });
  const before = digestDir(logDir);
  try {
    const handler = (): 'commit' => 'commit';
    const calls: Array<[string, () => Promise<unknown>, string]> = [
      ['tail(null)', () => c.tail(null as never).next(), 'options'],
      ['tail(5)', () => c.tail(5 as never).next(), 'options'],
      ['tail signal a string', () => c.tail({ signal: 'abort' as never }).next(), 'signal'],
      ['tail signal look-alike', () => c.tail({ signal: { aborted: false } as never }).next(), 'signal'],
      ['blockingProcess signal look-alike', () => c.blockingProcess(1, handler, { signal: { aborted: true } as never }), 'signal'],
      ['nonblockingProcess options null', () => c.nonblockingProcess(1, handler as never, null as never), 'options'],
      ['max bigint', () => c.nonblockingProcess(1n as never, handler), 'max'],
      ['max negative', () => c.blockingProcess(-1, handler), 'max'],
      ['workers with a function handler', () => c.nonblockingProcess(1, handler as never, { workers: 2 } as never), 'workers'],
      ['handler a number', () => c.nonblockingProcess(1, 42 as never), 'handler'],
      ['handler module missing', () => c.nonblockingProcess(1, join(logDir, 'no-such-handler.mjs'), { workers: 1 }), 'handler'],
    ];
    for (const [what, call, name] of calls) {
      const err = await rejectsWith(call, 'ERR_INVALID_OPTION');
      assert.is(details(err).option, name, `${what}: ${err.message}`);
    }
    assert.is(digestDir(logDir), before, 'nothing committed');
    assert.is(c.committedOffset, 0);
    // Not left busy: a good call runs.
    assert.equal(await c.nonblockingProcess(2, handler), { committed: 2, skipped: 0, retried: 0, stoppedBy: 'limit' });
  } finally {
    await c.close();
  }
});

test('setState with a value that is not bytes, a string or null: ERR_INVALID_OPTION, nothing committed', async () => {
  const logDir = await logOf(3);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('stateful') });
  try {
    await c.nonblockingProcess(1, (_m, ctx) => { ctx.setState('kept'); return 'commit'; });
    const before = digestDir(logDir);
    for (const v of [42, {}, [1, 2], true, new DataView(new ArrayBuffer(2)), new ArrayBuffer(2), new Uint16Array(1), undefined, new Uint8Array(64 * 1024 + 1)]) {
      const err = await rejectsWith(() => c.nonblockingProcess(1, (_m, ctx) => { ctx.setState(v as never); return 'commit'; }), 'ERR_INVALID_OPTION');
      assert.is(details(err).option, 'state', `${Object.prototype.toString.call(v)}: ${err.message}`);
      assert.is(digestDir(logDir), before, 'the cursor file is unchanged');
      assert.is(c.committedOffset, 1);
    }
    assert.is(Buffer.from(c.state!).toString(), 'kept');
    await c.nonblockingProcess(1, (_m, ctx) => { ctx.setState(new Uint8Array(new SharedArrayBuffer(2)).fill(0x5a)); return 'commit'; });
    assert.is(Buffer.from(c.state!).toString(), 'ZZ');
  } finally {
    await c.close();
  }
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('stateful') });
  assert.is(Buffer.from(again.state!).toString(), 'ZZ');
  assert.is(again.committedOffset, 2);
  await again.close();
  await verifiesClean(logDir);
});

test.run();
