/**
 * Bad input, the rest of the surface (test/bad-input.test.ts covers the option tables): consumer ids of
 * every odd shape, record types and sizes, offsets, signals and handler options, state values, and every
 * call on a closed producer or transactional consumer. Each refusal is a LogError with its code, and the
 * log directory (cursors folder included) is byte-identical afterwards; the log still verifies clean.
 */
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, Consumer, ConsumerStyle, Whence, SyncPolicy, LogError, verifyLog, formatVerifyReport } from '../dist/index.js';
import { suite, tempDir, digestDir, rejectsWith, throwsWith, readTexts } from './kit.js';

const test = suite('bad-input-args');

type Details = { option?: string; logStartOffset?: number };
const option = (e: unknown): string | undefined => (e as { details: Details }).details.option;

/** Digest of the log directory and of its cursors folder (digestDir does not descend). */
function digest(logDir: string): string {
  return `${digestDir(logDir)}/${digestDir(join(logDir, 'cursors'))}`;
}

async function logOf(n: number, extra: Record<string, unknown> = {}): Promise<string> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), ...extra });
  for (let i = 0; i < n; i++) p.append(`rec-${i}`);
  await p.close();
  return logDir;
}

async function verifiesClean(logDir: string): Promise<void> {
  const r = await verifyLog(logDir);
  assert.is(r.damageCount, 0, formatVerifyReport(r));
}

test('consumer ids: empty, huge, path-like, control and odd unicode characters, non-strings: ERR_INVALID_CONSUMER_ID, nothing written', async () => {
  const logDir = await logOf(3);
  const before = digest(logDir);
  const bad: unknown[] = [
    '', 'a'.repeat(129), 'x'.repeat(100_000), '.', '..', '../x', '../../etc/passwd', '/', '/abs', 'a/b', '\\', 'a\\b', 'C:\\x',
    '.hidden', 'nul\u0000', '\u0000', 'tab\there', 'line\nbreak', 'cr\r', 'bell\u0007', 'del\u007f', 'esc\u001b[31m',
    'émoji', '😀', 'fullwidth\uff0fslash', 'rtl\u202eexe', 'zero\u200bwidth', 'nbsp\u00a0', 'sp ace', 'colon:x', 'star*', 'q?', 'pipe|',
    42, 0, null, undefined, {}, ['a'], true, Symbol('id'), new String('abc'),
  ];
  for (const id of bad) {
    for (const open of [() => Consumer.open({ logDir, style: ConsumerStyle.clientTx(id as never) })]) {
      const err = await rejectsWith(open, 'ERR_INVALID_CONSUMER_ID');
      assert.ok(err instanceof LogError, `${String(typeof id === 'symbol' ? 'symbol' : id)}`);
    }
  }
  // Also when the style object is built by hand, bypassing the factory.
  await rejectsWith(() => Consumer.open({ logDir, style: { kind: 'clientTx', consumerId: '../x' } as never }), 'ERR_INVALID_CONSUMER_ID');
  assert.is(digest(logDir), before, 'nothing written');
  assert.not.ok(existsSync(join(logDir, 'cursors')), 'no cursors folder');
  // The edges that are allowed: 128 characters, every allowed character, a dot inside.
  for (const id of ['a'.repeat(128), 'Az09._-', 'a..b', 'x.']) {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx(id) });
    assert.is([...c.iter()].length, 3, id);
    await c.close();
    assert.ok(existsSync(join(logDir, 'cursors', `client.${id}.cursor`)), `${id}: its cursor file is inside cursors/`);
  }
  await verifiesClean(logDir);
});

test('bad options of a transactional consumer: ERR_INVALID_OPTION before any cursor file or folder is made', async () => {
  const logDir = await logOf(2);
  const before = digest(logDir);
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ retry: 5 }, 'retry'], [{ retry: 'fixed' }, 'retry'], [{ retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
    [{ retry: { maxAttempts: 1.5 } }, 'retry.maxAttempts'], [{ retry: { delayMs: -1 } }, 'retry.delayMs'],
    [{ retry: { backoff: 'linear' } }, 'retry.backoff'], [{ retry: { maxDelayMs: NaN } }, 'retry.maxDelayMs'],
    [{ retry: { retryOnThrow: 'yes' } }, 'retry.retryOnThrow'], [{ retry: { deadLetterDir: '' } }, 'retry.deadLetterDir'],
    [{ retry: { deadLetterDir: 'a\0b' } }, 'retry.deadLetterDir'], [{ retry: { deadLetterDir: 7 } }, 'retry.deadLetterDir'],
    [{ retry: { tries: 3 } }, 'retry.tries'], [{ commit: 1 }, 'commit'], [{ commit: { everyRecords: 0 } }, 'commit.everyRecords'],
    [{ commit: { everyMs: 0 } }, 'commit.everyMs'], [{ commit: { everyMs: '5' } }, 'commit.everyMs'], [{ commit: { every: 1 } }, 'commit.every'],
    [{ visibility: 'written' }, 'visibility'], [{ pollIntervalMs: 0 }, 'pollIntervalMs'],
  ];
  for (const style of [ConsumerStyle.globalTx(), ConsumerStyle.clientTx('ok-id')]) {
    for (const [extra, name] of cases) {
      const err = await rejectsWith(() => Consumer.open({ logDir, style, ...extra } as never), 'ERR_INVALID_OPTION');
      assert.is(option(err), name, `${JSON.stringify(extra)}: ${err.message}`);
    }
  }
  assert.is(digest(logDir), before);
  assert.not.ok(existsSync(join(logDir, 'cursors')));
});

test('Producer.open on a path that is a file, or runs through one: ERR_INVALID_OPTION naming logDir, the file untouched', async () => {
  const parent = tempDir();
  const file = join(parent, 'plain');
  writeFileSync(file, 'not a log');
  for (const logDir of [file, join(file, 'x'), join(file, 'x', 'y')]) {
    const err = await rejectsWith(() => Producer.open({ logDir }), 'ERR_INVALID_OPTION');
    assert.is(option(err), 'logDir', err.message);
  }
  assert.is(readFileSync(file, 'utf8'), 'not a log');
  await rejectsWith(() => Consumer.open({ logDir: file, style: ConsumerStyle.globalTx() }), 'ERR_INVALID_OPTION');
  await rejectsWith(() => verifyLog(file), 'ERR_INVALID_OPTION');
});

test('Consumer.open on a directory that holds no log (not empty): ERR_INVALID_OPTION naming logDir, the directory byte-identical', async () => {
  const home = tempDir();
  writeFileSync(join(home, 'notes.txt'), 'my own notes');
  mkdirSync(join(home, 'photos'));
  writeFileSync(join(home, 'photos', 'a.jpg'), 'jpeg');
  writeFileSync(join(home, '123.seg'), 'not a segment name'); // named like one, but not <20 digits>.seg
  const before = `${digest(home)}/${digestDir(join(home, 'photos'))}`;
  const styles = [
    ['clientTx', ConsumerStyle.clientTx('billing')], ['globalTx', ConsumerStyle.globalTx()],
    ['nonTx oldest', ConsumerStyle.nonTx(Whence.oldest())], ['nonTx position 0', ConsumerStyle.nonTx(Whence.position(0))],
  ] as const;
  for (const [what, style] of styles) {
    const err = await rejectsWith(() => Consumer.open({ logDir: home, style }), 'ERR_INVALID_OPTION');
    assert.is(option(err), 'logDir', `${what}: ${err.message}`);
    assert.match(err.message, 'not a log directory', what);
    assert.is(`${digest(home)}/${digestDir(join(home, 'photos'))}`, before, `${what}: nothing written`);
    assert.not.ok(existsSync(join(home, 'cursors')), `${what}: no cursors folder`);
  }

  // A path where nothing is: refused the same way, and not created.
  const missing = join(tempDir(), 'no', 'such', 'log');
  for (const [what, style] of styles) {
    const err = await rejectsWith(() => Consumer.open({ logDir: missing, style }), 'ERR_INVALID_OPTION');
    assert.is(option(err), 'logDir', `${what}: ${err.message}`);
  }
  assert.is(digestDir(join(missing, '..', '..')), 'absent', 'nothing created');

  // An empty directory is a log nobody has written yet: a transactional consumer creates its cursor
  // there, and from then on the directory holds a log's entry (cursors/) and opens again.
  const empty = tempDir();
  const c = await Consumer.open({ logDir: empty, style: ConsumerStyle.clientTx('early') });
  await c.close();
  assert.ok(existsSync(join(empty, 'cursors', 'client.early.cursor')));
  const again = await Consumer.open({ logDir: empty, style: ConsumerStyle.nonTx(Whence.oldest()) });
  assert.equal([...again.iter()], []);
  await again.close();

  // A log with foreign files beside its own still opens: its own entries make it a log.
  const logDir = await logOf(2);
  writeFileSync(join(logDir, 'notes.txt'), 'an operator left this here');
  const d = await Consumer.open({ logDir, style: ConsumerStyle.globalTx() });
  assert.is((await d.nonblockingProcess(null, () => 'commit')).committed, 2);
  await d.close();
});

test('record types: only Uint8Array (any buffer behind it) and strings; zero bytes is a record; offsets stay dense', async () => {
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
    ];
    good('first', 'first');
    for (const [what, v] of bad) {
      const err = throwsWith(() => p.append(v as never), 'ERR_INVALID_OPTION');
      assert.is(option(err), 'data', what);
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
  assert.equal(await readTexts(logDir), expected);
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

test('offsets: bigint, strings, fractions, NaN, negative and past the end are ERR_INVALID_OPTION; below the start ERR_POSITION_EXPIRED', async () => {
  for (const v of [5n, '5', 0.5, NaN, -1, -Infinity, Number.MAX_SAFE_INTEGER + 1, {}, [], null]) {
    const err = throwsWith(() => Whence.position(v as never), 'ERR_INVALID_OPTION');
    assert.is(option(err), 'whence', String(v));
  }
  assert.equal(Whence.position(-0), { kind: 'position', offset: -0 }, '-0 is offset 0');
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024, maxTotalBytes: 2048 });
  for (let i = 0; i < 60; i++) {
    p.append(`rec-${i}-${'r'.repeat(100)}`);
    if (i % 5 === 4) await p.flush();
  }
  await p.close();
  const start = Number((await verifyLog(logDir)).logStartOffset);
  assert.ok(start > 0, 'retention moved the start');
  const before = digest(logDir);
  for (const offset of [5n, 2.5, NaN, -1, 61, 1e15, '7']) {
    const err = await rejectsWith(() => Consumer.open({ logDir, style: { kind: 'nonTx', whence: { kind: 'position', offset } } as never }), 'ERR_INVALID_OPTION');
    assert.is(option(err), 'whence', String(offset));
  }
  for (const offset of [0, start - 1]) {
    const err = await rejectsWith(() => Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(offset)) }), 'ERR_POSITION_EXPIRED');
    assert.is((err as unknown as { details: Details }).details.logStartOffset, start);
  }
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(start)) });
  assert.is(c.iter().next().value?.offset, start);
  await c.close();
  assert.is(digest(logDir), before);
});

test('signals and call options: ERR_INVALID_OPTION, the consumer not left busy and nothing committed', async () => {
  const logDir = await logOf(5);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.globalTx() });
  const before = digest(logDir);
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
      assert.is(option(err), name, `${what}: ${err.message}`);
    }
    assert.is(digest(logDir), before, 'nothing committed');
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
    const before = digest(logDir);
    for (const v of [42, {}, [1, 2], true, new DataView(new ArrayBuffer(2)), new ArrayBuffer(2), new Uint16Array(1), undefined, new Uint8Array(64 * 1024 + 1)]) {
      const err = await rejectsWith(() => c.nonblockingProcess(1, (_m, ctx) => { ctx.setState(v as never); return 'commit'; }), 'ERR_INVALID_OPTION');
      assert.is(option(err), 'state', `${Object.prototype.toString.call(v)}: ${err.message}`);
      assert.is(digest(logDir), before, 'the cursor file is unchanged');
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

test('every call on a closed producer or transactional consumer: ERR_LOG_CLOSED, the directory unchanged', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  p.append('one');
  await p.close();
  const afterClose = digest(logDir);
  for (const data of ['two', Buffer.from('two'), new Uint8Array(0), 42, null]) throwsWith(() => p.append(data as never), 'ERR_LOG_CLOSED');
  await rejectsWith(() => p.flush(), 'ERR_LOG_CLOSED');
  await p.close();
  await p[Symbol.asyncDispose]();
  assert.is(p.nextOffset, 1);
  assert.is(p.durableOffset, 1);
  assert.is(digest(logDir), afterClose, 'calls on a closed producer wrote nothing (no lock, no hint)');

  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('closing') });
  assert.is(c.iter().next().value?.offset, 0);
  await c.close();
  const cursorClosed = digest(logDir);
  throwsWith(() => c.iter().next(), 'ERR_LOG_CLOSED');
  await rejectsWith(() => c.tail().next(), 'ERR_LOG_CLOSED');
  await rejectsWith(async () => { for await (const _m of c) { /* none */ } }, 'ERR_LOG_CLOSED');
  await rejectsWith(() => c.nonblockingProcess(null, () => 'commit'), 'ERR_LOG_CLOSED');
  await rejectsWith(() => c.blockingProcess(1, () => 'commit'), 'ERR_LOG_CLOSED');
  await rejectsWith(() => c.nonblockingProcess(null, new URL('./fixtures/pool-handler.mjs', import.meta.url), { workers: 1 }), 'ERR_LOG_CLOSED');
  await c.close();
  await c[Symbol.asyncDispose]();
  assert.is(c.committedOffset, 0, 'leaving the iterator committed nothing');
  assert.is(digest(logDir), cursorClosed, 'calls on a closed consumer wrote nothing');
  await verifiesClean(logDir);
});

test.run();
