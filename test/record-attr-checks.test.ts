/**
 * The checks of a record's key and headers that give a LogError instead of a TypeError or a silent
 * drop: a key whose buffer was transferred away or shrank below the view is ERR_INVALID_OPTION (as
 * such data is); headers that are not a plain object (a Map, a Set, a Date, a class's instance) are
 * ERR_INVALID_RECORD. Each refusal, by append and by appendBatch, uses no
 * offset and leaves the directory and what a consumer reads as they were. Plain objects of another
 * realm and objects without a prototype are headers as before.
 */
import * as assert from 'uvu/assert';
import { runInNewContext } from 'node:vm';
import { Consumer, ConsumerStyle, ErrorCode, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { digestDir, suite, tempDir, throwsWith } from './kit.js';

const test = suite('record-attr-checks');

type Resizable = ArrayBuffer & { resize(n: number): void };
const resizable = (n: number, max: number): Resizable => new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => Resizable)(n, { maxByteLength: max });

async function stored(logDir: string): Promise<Array<{ offset: number; text: string; headers: Readonly<Record<string, string>> | null }>> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...c.iter()].map((m) => ({ offset: m.offset, text: Buffer.from(m.data).toString(), headers: m.headers }));
  } finally {
    await c.close();
  }
}

/**
 * Appends `opts` with append and inside a batch; each must throw `code` (a message matching `message`)
 * with no offset used, the directory unchanged and only the first record readable.
 */
async function refused(opts: () => Record<string, unknown>, code: string, message: RegExp): Promise<void> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  try {
    p.append('first', { key: 'k', headers: { h: 'v' } });
    await p.flush();
    const before = digestDir(logDir);
    for (const call of [() => p.append('x', opts() as never), () => p.appendBatch(['ok', { data: 'x', ...opts() } as never])]) {
      const err = throwsWith(call, code);
      assert.match(err.message, message);
      assert.is(p.nextOffset, 1, 'no offset used');
    }
    await p.flush();
    assert.is(digestDir(logDir), before, 'nothing written');
  } finally {
    await p.close();
  }
  assert.equal((await stored(logDir)).map((r) => r.text), ['first']);
}

test('a key whose buffer was transferred away: ERR_INVALID_OPTION, not a TypeError', async () => {
  await refused(() => {
    const key = new Uint8Array(4);
    structuredClone(key.buffer, { transfer: [key.buffer] });
    return { key };
  }, ErrorCode.INVALID_OPTION, /"key".*detached/);
});

test('a key whose resizable buffer shrank below the view: ERR_INVALID_OPTION', async () => {
  await refused(() => {
    const rab = resizable(8, 8);
    const key = new Uint8Array(rab, 0, 8);
    rab.resize(2);
    return { key };
  }, ErrorCode.INVALID_OPTION, /"key".*shrank below the view/);
});

test('an empty key that can be read is still a key of 0 bytes', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  assert.is(p.append('a', { key: new Uint8Array(0) }), 0);
  assert.is(p.appendBatch([{ data: 'b', key: new Uint8Array(new ArrayBuffer(4), 4) }]), 1);
  await p.close();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const keys = [...c.iter()].map((m) => m.key?.byteLength);
  await c.close();
  assert.equal(keys, [0, 0]);
});

const notPlain: Array<[string, () => unknown, RegExp]> = [
  ['a Map', () => new Map([['trace', 'abc']]), /got a Map \(Object\.fromEntries\(map\)/],
  ['a Set', () => new Set(['trace']), /got a Set/],
  ['a Date', () => new Date(0), /got a Date/],
  ['a class\'s instance', () => new (class TraceHeaders { trace = 'abc'; })(), /got a TraceHeaders/],
  ['an object with an object prototype', () => Object.create({ trace: 'abc' }), /got an object with another prototype/],
];

for (const [what, make, message] of notPlain) {
  test(`headers that are ${what}: ERR_INVALID_RECORD naming it, nothing appended`, async () => {
    await refused(() => ({ headers: make() }), ErrorCode.INVALID_RECORD, message);
  });
}

test('plain objects are headers: of another realm, without a prototype, with Symbol-named properties (not headers)', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  const bare = Object.assign(Object.create(null) as Record<string, string>, { b: '2' });
  const hidden = { c: '3' };
  Object.defineProperty(hidden, Symbol('meta'), { value: 'x', enumerable: false });
  (hidden as Record<symbol, string>)[Symbol('trace')] = 'abc';
  assert.is(p.append('realm', { headers: runInNewContext('({ a: "1" })') as Record<string, string> }), 0);
  assert.is(p.append('bare', { headers: bare }), 1);
  assert.is(p.appendBatch([{ data: 'hidden', headers: hidden }]), 2);
  assert.is(p.append('empty', { headers: {} }), 3);
  await p.close();
  assert.equal((await stored(logDir)).map((r) => r.headers === null ? null : { ...r.headers }), [{ a: '1' }, { b: '2' }, { c: '3' }, null]);
});

test.run();
