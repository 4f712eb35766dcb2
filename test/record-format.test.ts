/**
 * The attribute block of format 2 (src/format/record.ts): what the encoder writes, the decoder reads
 * back, for random keys, headers and dedup keys (fast-check; the seed is printed); the limits and the
 * shapes the encoder refuses; and blocks the decoder refuses instead of misreading.
 */
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  AttributeEncoder, MAX_DEDUP_KEY_BYTES, MAX_HEADERS, MAX_HEADER_NAME_BYTES, MAX_HEADER_VALUE_BYTES, MAX_KEY_BYTES,
  decodeAttributes, type AppendOptions,
} from '../src/format/record.js';
import { suite } from './kit.js';

const test = suite('record-format');

const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
console.log(`record format seed=${seed} (replay: SEED=${seed})`);

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

const headerName = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' });
const options = fc.record({
  key: fc.option(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.string({ maxLength: 20, unit: 'grapheme' })), { nil: undefined }),
  headers: fc.option(fc.dictionary(headerName, fc.string({ maxLength: 30, unit: 'grapheme' }), { maxKeys: 6 }), { nil: undefined }),
  dedupKey: fc.option(fc.string({ minLength: 1, maxLength: 30 }), { nil: undefined }),
}, { requiredKeys: [] });

test('what the encoder writes, the decoder reads back, with the data after it', () => {
  const enc = new AttributeEncoder(true);
  fc.assert(fc.property(options, fc.uint8Array({ maxLength: 50 }), (raw, data) => {
    const opts: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) if (v !== undefined) opts[k] = v;
    const n = enc.encode(opts as AppendOptions);
    const hasHeaders = raw.headers !== undefined && Object.keys(raw.headers).length > 0;
    if (raw.key === undefined && !hasHeaders && raw.dedupKey === undefined) {
      assert.is(n, 0, 'no attribute: no block');
      return;
    }
    const payload = Buffer.concat([enc.bytes.subarray(0, n), data]);
    const got = decodeAttributes(payload, 0, payload.byteLength);
    if (typeof got === 'string') throw new Error(got);
    const key = raw.key === undefined ? null : typeof raw.key === 'string' ? Buffer.from(raw.key) : raw.key;
    assert.equal(got.key === null ? null : Buffer.from(got.key), key === null ? null : Buffer.from(key));
    assert.equal(got.headers === null ? null : { ...got.headers }, hasHeaders ? { ...raw.headers } : null);
    if (got.headers !== null) assert.equal(Object.keys(got.headers), Object.keys(raw.headers!), 'header order is kept');
    assert.is(got.dedupKey, raw.dedupKey ?? null);
    assert.equal(Buffer.from(payload.subarray(got.dataStart)), Buffer.from(data));
  }), { seed, numRuns: 500 });
});

test('encodeInto writes what encode writes, within the room given, or answers -1 and writes nothing past it', () => {
  const enc = new AttributeEncoder(true);
  const ref = new AttributeEncoder(true);
  fc.assert(fc.property(options, fc.nat({ max: 400 }), fc.nat({ max: 7 }), (raw, room, at) => {
    const opts: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) if (v !== undefined) opts[k] = v;
    const target = Buffer.alloc(at + room + 64, 0xee);
    const n = enc.encodeInto(opts as AppendOptions, target, at, at + room);
    const want = ref.encode(opts as AppendOptions);
    assert.ok(target.subarray(at + room).every((b) => b === 0xee), 'nothing written past the room');
    assert.ok(target.subarray(0, at).every((b) => b === 0xee), 'nothing written before the start');
    if (n === -1) {
      assert.ok(want > 0, 'a record without attributes always fits');
      return;
    }
    assert.is(n, want);
    assert.equal(Buffer.from(target.subarray(at, at + n)), Buffer.from(ref.bytes.subarray(0, want)));
  }), { seed, numRuns: 1000 });
});

test('an encoding started from a getter of the options being encoded is refused; the encoder goes on', () => {
  const enc = new AttributeEncoder(false);
  let inner: string | undefined;
  const n = enc.encode({ key: 'outer', headers: { get h(): string { inner = codeOf(() => enc.encode({ key: 'inner-key-that-is-longer' })); return 'v'; } } });
  assert.is(inner, 'ERR_INVALID_RECORD');
  const got = decodeAttributes(enc.bytes, 0, n);
  if (typeof got === 'string') throw new Error(got);
  assert.is(Buffer.from(got.key!).toString(), 'outer');
  assert.equal({ ...got.headers }, { h: 'v' });
  assert.is(codeOf(() => enc.encode({ headers: { get h(): string { throw new Error('boom'); } } })), undefined, 'a plain Error: no code');
  assert.ok(enc.encode({ key: 'next' }) > 0, 'usable after a getter threw');
});

test('a header named __proto__ is a header, not a prototype', () => {
  const enc = new AttributeEncoder();
  const headers = JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string>;
  const n = enc.encode({ headers });
  const got = decodeAttributes(enc.bytes, 0, n);
  if (typeof got === 'string') throw new Error(got);
  assert.equal(Object.keys(got.headers!), ['__proto__', 'a']);
  assert.is(got.headers!['__proto__'], 'x');
  assert.is(Object.getPrototypeOf(got.headers), Object.prototype);
});

test('limits are exact: the largest of each field is taken, one byte more is ERR_RECORD_TOO_LARGE', () => {
  const enc = new AttributeEncoder(true);
  assert.ok(enc.encode({ key: new Uint8Array(MAX_KEY_BYTES) }) > MAX_KEY_BYTES);
  assert.is(codeOf(() => enc.encode({ key: new Uint8Array(MAX_KEY_BYTES + 1) })), 'ERR_RECORD_TOO_LARGE');
  assert.is(codeOf(() => enc.encode({ key: 'é'.repeat(MAX_KEY_BYTES / 2 + 1) })), 'ERR_RECORD_TOO_LARGE', 'a string key counts UTF-8 bytes');
  assert.ok(enc.encode({ headers: { ['n'.repeat(MAX_HEADER_NAME_BYTES)]: 'v' } }) > 0);
  assert.is(codeOf(() => enc.encode({ headers: { ['n'.repeat(MAX_HEADER_NAME_BYTES + 1)]: 'v' } })), 'ERR_RECORD_TOO_LARGE');
  assert.ok(enc.encode({ headers: { a: 'v'.repeat(MAX_HEADER_VALUE_BYTES) } }) > MAX_HEADER_VALUE_BYTES);
  assert.is(codeOf(() => enc.encode({ headers: { a: 'v'.repeat(MAX_HEADER_VALUE_BYTES + 1) } })), 'ERR_RECORD_TOO_LARGE');
  const many = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`h${i}`, '']));
  assert.ok(enc.encode({ headers: many(MAX_HEADERS) }) > 0);
  assert.is(codeOf(() => enc.encode({ headers: many(MAX_HEADERS + 1) })), 'ERR_RECORD_TOO_LARGE');
  assert.ok(enc.encode({ dedupKey: 'd'.repeat(MAX_DEDUP_KEY_BYTES) }) > 0);
  assert.is(codeOf(() => enc.encode({ dedupKey: 'd'.repeat(MAX_DEDUP_KEY_BYTES + 1) })), 'ERR_RECORD_TOO_LARGE');
});

test('without a dedup window the encoder refuses a dedup key, and nothing else changes', () => {
  const enc = new AttributeEncoder();
  assert.is(codeOf(() => enc.encode({ dedupKey: 'order-1' })), 'ERR_INVALID_RECORD');
  assert.is(codeOf(() => enc.encode({ key: 'k', dedupKey: 'order-1' })), 'ERR_INVALID_RECORD');
  assert.ok(enc.encode({ key: 'k' }) > 0);
});

test('shapes the encoder refuses are ERR_INVALID_RECORD naming the field', () => {
  const enc = new AttributeEncoder(true);
  const bad: [unknown, string][] = [
    [null, 'options'],
    [5, 'options'],
    [{ key: 5 }, 'key'],
    [{ key: null }, 'key'],
    [{ key: [1, 2] }, 'key'],
    [{ headers: 'a=b' }, 'headers'],
    [{ headers: null }, 'headers'],
    [{ headers: [['a', 'b']] }, 'headers'],
    [{ headers: { a: 1 } }, 'headers.a'],
    [{ headers: { a: null } }, 'headers.a'],
    [{ headers: { '': 'v' } }, 'headers'],
    [{ dedupKey: 7 }, 'dedupKey'],
    [{ dedupKey: '' }, 'dedupKey'],
    [{ kye: 'x' }, 'kye'],
  ];
  for (const [opts, field] of bad) {
    try {
      enc.encode(opts as AppendOptions);
      assert.unreachable(`${JSON.stringify(opts)} was taken`);
    } catch (e) {
      const err = e as { code?: string; details?: { option?: string } };
      assert.is(err.code, 'ERR_INVALID_RECORD', JSON.stringify(opts));
      assert.is(err.details?.option, field, JSON.stringify(opts));
    }
  }
});

test('the decoder refuses a block that overruns the record or names an unknown attribute', () => {
  const enc = new AttributeEncoder(true);
  const n = enc.encode({ key: 'kkkk', headers: { name: 'value' }, dedupKey: 'd1' });
  const block = Buffer.from(enc.bytes.subarray(0, n));
  for (let cut = 0; cut < n; cut++) {
    const got = decodeAttributes(block, 0, cut);
    assert.type(got, 'string', `a block cut to ${cut} of ${n} bytes`);
  }
  for (const flags of [0, 8, 0x80, 0xff]) {
    const b = Buffer.from(block);
    b[0] = flags;
    assert.type(decodeAttributes(b, 0, b.byteLength), 'string', `flags 0x${flags.toString(16)}`);
  }
  const zeroHeaders = Buffer.from([2, 0]);
  assert.type(decodeAttributes(zeroHeaders, 0, 2), 'string', 'a header block with no header');
});

test('asked for the shape only, the decoder refuses exactly the blocks it refuses when decoding (random damage)', () => {
  fc.assert(fc.property(options, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.nat(), (opts, flips, cut) => {
    const enc = new AttributeEncoder(true);
    const n = enc.encode(opts as AppendOptions);
    if (n === 0) return;
    const b = Buffer.from(enc.bytes.subarray(0, n + 3)); // three bytes of data after the block
    for (const [at, v] of flips) b[at % b.byteLength] = v;
    const end = b.byteLength - (cut % 4);
    const full = decodeAttributes(b, 0, end);
    const shape = decodeAttributes(b, 0, end, false, true);
    assert.is(typeof shape === 'string' ? shape : 'ok', typeof full === 'string' ? full : 'ok');
  }), { seed, numRuns: 2000 });
});

test.run();
