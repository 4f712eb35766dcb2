/**
 * The producer's side of the ring (src/ring/ring-appender.ts) where the caller's own code runs in the
 * middle of an append: getters of a record's options or of batch records. Such code may resize the
 * record's data, append again on the same handle, or answer otherwise the second time it is read; each
 * case must leave whole records in the ring (or nothing), never a block written for one place and
 * published at another. Runs the appender on a ring in this thread, with no writer.
 */
import * as assert from 'uvu/assert';
import { RingAppender } from '../src/ring/ring-appender.js';
import { BATCH_MARKER, CONTROL_BYTES, I32, WRAP_MARKER, controlViews } from '../src/ring/layout.js';
import { RECORD_LENGTH_MASK, decodeAttributes } from '../src/format/record.js';
import { suite, throwsWith } from './kit.js';

const test = suite('ring-appender');

interface Ring {
  readonly a: RingAppender;
  readonly head: () => number;
  /** The records published from `from` (a head value) to HEAD: key as text, data. */
  readonly records: (from: number) => { key: string | null; data: Buffer }[];
  /** Marks everything published as written (what the writer does). */
  readonly drain: () => void;
}

function ring(size: number): Ring {
  const c = controlViews(new SharedArrayBuffer(CONTROL_BYTES));
  const buf = new SharedArrayBuffer(size);
  const bytes = Buffer.from(buf);
  const a = new RingAppender(c, buf, size - 16, 1000, () => { throw new Error('stopped'); });
  const head = (): number => Atomics.load(c.i32, I32.HEAD) >>> 0;
  return {
    a,
    head,
    drain: () => Atomics.store(c.i32, I32.TAIL, Atomics.load(c.i32, I32.HEAD)),
    records: (from) => {
      const out: { key: string | null; data: Buffer }[] = [];
      for (let p = from; p < head();) {
        const at = p % size;
        const word = size - at < 4 ? WRAP_MARKER : bytes.readUInt32LE(at);
        if (word === WRAP_MARKER) {
          p += size - at;
          continue;
        }
        if (word === BATCH_MARKER) {
          p += 12;
          continue;
        }
        const len = word & RECORD_LENGTH_MASK;
        if (word >>> 31 === 0) {
          out.push({ key: null, data: Buffer.from(bytes.subarray(at + 4, at + 4 + len)) });
        } else {
          const attrs = decodeAttributes(bytes, at + 4, at + 4 + len);
          if (typeof attrs === 'string') throw new Error(`record at ${at}: ${attrs}`);
          out.push({ key: attrs.key === null ? null : Buffer.from(attrs.key).toString(), data: Buffer.from(bytes.subarray(attrs.dataStart, at + 4 + len)) });
        }
        p += 4 + len;
      }
      return out;
    },
  };
}

test('data resized by a getter of its options near the ring end: the record is whole, at the index it is published at', () => {
  const r = ring(1024);
  r.a.appendPlain(Buffer.alloc(596, 0x77)); // the head at 600: 10 bytes of data and a short key fit before the end, 500 do not
  r.drain();
  const from = r.head();
  // A resizable ArrayBuffer (ES2024; Node 20 has it, this project's TypeScript lib does not name it).
  const Resizable = ArrayBuffer as unknown as new (bytes: number, opts: { maxByteLength: number }) => ArrayBuffer & { resize(bytes: number): void };
  const ab = new Resizable(10, { maxByteLength: 1000 });
  const data = new Uint8Array(ab).fill(0x31); // tracks the buffer's length
  const opts = { get key(): string { ab.resize(500); new Uint8Array(ab).fill(0x32); return 'K'; } };
  r.a.append(data, opts);
  const recs = r.records(from);
  assert.is(recs.length, 1, 'one record, after the skip to the ring\'s start');
  const rec = recs[0]!;
  assert.ok(r.head() > 1024, 'it wrapped');
  assert.is(rec.key, 'K');
  assert.is(rec.data.length, 500);
  assert.ok(rec.data.every((b) => b === 0x32), 'the data as it was when copied');
});

test('an append from a getter of another append\'s options on the same handle is refused; the outer one is whole', () => {
  const r = ring(4096);
  let inner: Error | null = null;
  r.a.append(Buffer.alloc(10, 0x01), {
    key: 'kkkk',
    headers: { get h(): string { inner = throwsWith(() => r.a.append(Buffer.alloc(200, 0x11)), 'ERR_INVALID_RECORD'); return 'VVVVVVVV'; } },
  });
  assert.ok(inner !== null, 'the getter ran');
  const recs = r.records(0);
  assert.is(recs.length, 1, 'only the outer record');
  assert.is(recs[0]!.key, 'kkkk');
  assert.ok(recs[0]!.data.equals(Buffer.alloc(10, 0x01)));
  // Uncaught in the getter, the refusal refuses the outer append too, and the handle goes on.
  throwsWith(() => r.a.append('x', { key: 'y', headers: { get h(): string { r.a.appendPlain(Buffer.alloc(1)); return 'v'; } } }), 'ERR_INVALID_RECORD');
  r.a.append('after', { key: 'z' });
  assert.equal(r.records(0).map((m) => m.key), ['kkkk', 'z']);
});

test('appends from getters of batch records are refused, and so is a batch whose options answer otherwise when read again', () => {
  const r = ring(4096);
  const nested = { data: 'a', get key(): string { r.a.append('inner'); return 'k'; } };
  throwsWith(() => r.a.appendBatch([nested]), 'ERR_INVALID_RECORD');
  assert.is(r.head(), 0, 'nothing published');
  // The batch's record objects are read once (their fields copied); their headers objects are read again when copied.
  let reads = 0;
  const fickle = { data: 'b', headers: { get h(): string { return ++reads === 1 ? 'short' : 'a much longer value'; } } };
  throwsWith(() => r.a.appendBatch(['first', fickle]), 'ERR_INVALID_RECORD');
  assert.is(r.head(), 0, 'nothing published');
  assert.is(r.a.appendBatch(['one', { data: 'two', key: 'k2' }]), 2);
  assert.equal(r.records(0).map((m) => [m.key, m.data.toString()]), [[null, 'one'], ['k2', 'two']]);
});

test.run();
