/**
 * The producer's side of the ring (src/ring/ring-appender.ts) where the caller's own code runs in the
 * middle of an append: getters of a record's options or of batch records. Such code may resize the
 * record's data, append again on the same handle, or answer otherwise the second time it is read; each
 * case must leave whole records in the ring (or nothing), never a block written for one place and
 * published at another. Runs the appender on a ring in this thread, with no writer.
 */
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { RingAppender } from '../src/ring/ring-appender.js';
import { BATCH_MARKER, CONTROL_BYTES, I32, WRAP_MARKER, controlViews } from '../src/ring/layout.js';
import { RING_LEAD, newRing, ringBytesOf } from '../src/ring/ring-memory.js';
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
  const buf = newRing(size);
  const bytes = ringBytesOf(buf);
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

test('a record that must wrap and wait twice for room waits appendTimeoutMs in all, not once per wait', async () => {
  const SIZE = 64 * 1024;
  const TIMEOUT_MS = 600;
  const c = controlViews(new SharedArrayBuffer(CONTROL_BYTES));
  const buf = newRing(SIZE);
  // The ring full, its head 40 KiB in: a 48 KiB record waits for the 24 KiB before the end, skips
  // them, then waits for 48 KiB from index 0.
  const head = SIZE + 40 * 1024;
  Atomics.store(c.i32, I32.HEAD, head);
  Atomics.store(c.i32, I32.TAIL, head - SIZE);
  const a = new RingAppender(c, buf, SIZE - 16, TIMEOUT_MS, () => { throw new Error('stopped'); });
  // The writer, on a thread of its own: frees the 24 KiB 400 ms into the append, the rest (the skipped
  // bytes too) 900 ms in.
  const writer = new Worker(`
    const { workerData: { i32, TAIL, WAITING, first, all, freeFirst, freeAll } } = require('node:worker_threads');
    while (Atomics.load(i32, WAITING) === 0) Atomics.wait(i32, WAITING, 0, 5);
    const t0 = performance.now();
    const nap = (until) => { while (performance.now() < t0 + until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); };
    nap(freeFirst); Atomics.store(i32, TAIL, first); Atomics.notify(i32, TAIL);
    nap(freeAll); Atomics.store(i32, TAIL, all); Atomics.notify(i32, TAIL);
  `, { eval: true, workerData: { i32: c.i32, TAIL: I32.TAIL, WAITING: I32.PRODUCER_WAITING, first: head - SIZE + 24 * 1024, all: head + 24 * 1024, freeFirst: 400, freeAll: 900 } });
  const exited = new Promise((resolve) => writer.once('exit', resolve));
  try {
    // Each wait alone stays within the bound (400 ms, then 500 more): together they pass it.
    throwsWith(() => a.append(new Uint8Array(48 * 1024)), 'ERR_LOG_FULL');
  } finally {
    await exited;
  }
});

test('records of 4 mod 8 bytes from an 8-aligned source land 8-aligned in the ring buffer, across a wrap', () => {
  // The ring's index 0 lies RING_LEAD bytes into its buffer (src/ring/ring-memory.ts): a 100 B record
  // (104 ring bytes with its length word) then has its bytes at 0 mod 8, which V8 copies word by word.
  const size = 64 * 1024;
  const r = ring(size);
  const src = Buffer.alloc(100, 7);
  assert.is(src.byteOffset & 7, 0);
  const starts: number[] = [];
  for (let i = 0; i < 1000; i++) { // 104,000 bytes: past the ring's end once
    r.a.append(src);
    const head = r.head();
    starts.push((head - 104) % size);
    r.drain();
  }
  assert.ok(starts.some((at, i) => i > 0 && at < starts[i - 1]!), 'the records wrapped');
  for (const at of starts) assert.is((RING_LEAD + at + 4) & 7, 0, `data of the record at ${at} at ${(RING_LEAD + at + 4) & 7} mod 8`);
  assert.equal(r.records(r.head() - 104).map((x) => x.data), [src]);
});

test.run();
