/**
 * The ring's 4-byte lead (src/ring/ring-memory.ts): index 0 of the ring lies RING_LEAD bytes into its
 * SharedArrayBuffer, which is ringBytes + 8 long. Property-style checks that every thread's views agree
 * on it, at the ring's end above all:
 * - in one thread, the producer's RingAppender (append, appendPlain, appendBatch, appendRun) and the
 *   writer's RingBatch on a 64 KiB ring that wraps often, with records ending exactly at the ring's end
 *   and 0 to 3 bytes left before it: every record read back exactly from the slices the writer would
 *   write, no slice reaching outside the ring, the buffer's padding (its first 4 and last 4 bytes) never
 *   written;
 * - a real producer and attached threads (producer.share()): every record read back from the files,
 *   the padding unwritten (the lead keeps the ring's id the open stored there), stats' ring fill
 *   within the ring.
 */
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { RingAppender, type BatchRecord } from '../src/ring/ring-appender.js';
import { CONTROL_BYTES, I32, controlViews } from '../src/ring/layout.js';
import { RING_LEAD, newRing, ringSize } from '../src/ring/ring-memory.js';
import { RECORD_ATTRIBUTES_FLAG, RECORD_LENGTH_MASK } from '../src/format/record.js';
import { decodeAttributes } from '../src/format/record-decode.js';
import { RingBatch } from '../src/writer/ring-batch.js';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { prng, suite, tempDir } from './kit.js';

const test = suite('ring-lead');
const SEED = Number(process.env.SEED ?? Date.now() % 1_000_000);
console.log(`ring-lead: SEED=${SEED} (replay: SEED=${SEED})`);

const PAD = 0xa5;
const RING = 64 * 1024;

/** Fills the buffer's padding (the lead before index 0, the bytes after the ring's end) with PAD. */
function markPadding(buf: SharedArrayBuffer): void {
  const all = new Uint8Array(buf);
  all.fill(PAD, 0, RING_LEAD);
  all.fill(PAD, RING_LEAD + ringSize(buf));
}

/** The padding bytes that are no longer PAD (the lead: no longer `lead`), by index into the buffer. */
function paddingWritten(buf: SharedArrayBuffer, lead?: Uint8Array): number[] {
  const all = new Uint8Array(buf);
  const out: number[] = [];
  for (let i = 0; i < all.length; i++) {
    if (i < RING_LEAD ? all[i] !== (lead?.[i] ?? PAD) : i >= RING_LEAD + ringSize(buf) && all[i] !== PAD) out.push(i);
  }
  return out;
}

/** Record `n`'s bytes: its number first, then a byte pattern of its own. */
function body(n: number, size: number): Buffer {
  const b = Buffer.alloc(size, (n * 7 + 3) & 0xff);
  if (size >= 4) b.writeUInt32LE(n, 0);
  return b;
}

interface Expected { data: Buffer; key: string | null }

test('appender and writer on a 64 KiB ring: every record back exactly from the slices, padding never written', () => {
  const rand = prng(SEED);
  const c = controlViews(new SharedArrayBuffer(CONTROL_BYTES));
  const buf = newRing(RING);
  assert.is(buf.byteLength, RING + 8);
  markPadding(buf);
  // The writer's part runs in the appender's wait for room (its check in each slice), as on another thread.
  const a = new RingAppender(c, buf, RING - 16, 1000, () => { throw new Error('stopped'); }, false, { check: (waiting) => { if (waiting) drain(); } });
  const expected: Expected[] = [];
  const got: Expected[] = [];
  let tail = 0;
  let endsAtEnd = 0;
  const wrapRooms = new Set<number>();
  /** What the writer does: batches from TAIL to HEAD, each decoded from its slices, then TAIL moved. */
  const drain = (): void => {
    const head = Atomics.load(c.i32, I32.HEAD) >>> 0;
    while (tail !== head) {
      const batch = new RingBatch(buf, 1 + Math.floor(rand() * 3 * RING)).take(tail, head);
      for (const s of batch.slices) {
        assert.ok(s.buffer === buf, 'a slice of the ring');
        assert.ok(s.byteOffset >= RING_LEAD && s.byteOffset + s.byteLength <= RING_LEAD + RING, `slice [${s.byteOffset}, ${s.byteOffset + s.byteLength}) within the ring`);
      }
      const bytes = Buffer.concat(batch.slices);
      let n = 0;
      for (let at = 0; at < bytes.length; n++) {
        const word = bytes.readUInt32LE(at);
        const len = (word & RECORD_LENGTH_MASK) >>> 0;
        if ((word & RECORD_ATTRIBUTES_FLAG) === 0) {
          got.push({ data: Buffer.from(bytes.subarray(at + 4, at + 4 + len)), key: null });
        } else {
          const attrs = decodeAttributes(bytes, at + 4, at + 4 + len);
          if (typeof attrs === 'string') throw new Error(`record ${got.length}: ${attrs}`);
          got.push({ data: Buffer.from(bytes.subarray(attrs.dataStart, at + 4 + len)), key: attrs.key === null ? null : Buffer.from(attrs.key).toString() });
        }
        at += 4 + len;
      }
      assert.is(n, batch.recordCount);
      tail = batch.tailAfter;
      Atomics.store(c.i32, I32.TAIL, tail | 0);
    }
  };
  /** A size from 0 to RING - 16: mostly small, some large, some that leave 0 to 3 bytes before the ring's end. */
  const size = (): number => {
    const left = RING - (Atomics.load(c.i32, I32.HEAD) & (RING - 1));
    const r = rand();
    if (r < 0.25 && left >= 8 && left - 4 <= RING - 16) {
      const k = Math.floor(rand() * 4); // 0: ends exactly at the ring's end
      if (k === 0) endsAtEnd++;
      return left - 4 - k;
    }
    if (r < 0.3) return RING - 16 - Math.floor(rand() * 64);
    if (r < 0.45) return Math.floor(rand() * (RING - 16));
    return Math.floor(rand() * 300);
  };
  for (let op = 0; op < 4000; op++) {
    const kind = rand();
    if (rand() < 0.3) drain();
    const before = RING - (Atomics.load(c.i32, I32.HEAD) & (RING - 1));
    if (before < 4) wrapRooms.add(before);
    if (kind < 0.4) {
      const d = body(expected.length, size());
      a.appendPlain(d);
      expected.push({ data: d, key: null });
    } else if (kind < 0.55) {
      const key = `k${expected.length}`;
      const d = body(expected.length, Math.max(0, size() - key.length - 9)); // the block: flags, key (2 + length), one header (1 + 1 + 1 + 2 + 1)
      a.append(d, { key, headers: { h: 'v' } });
      expected.push({ data: d, key });
    } else if (kind < 0.65) {
      const s = 'x'.repeat(Math.floor(rand() * 200));
      a.append(s);
      expected.push({ data: Buffer.from(s), key: null });
    } else if (kind < 0.85) {
      const n = 1 + Math.floor(rand() * 8);
      const per = Math.floor((RING - 16 - 12) / n / 2);
      const records: BatchRecord[] = [];
      for (let i = 0; i < n; i++) {
        const d = body(expected.length, Math.floor(rand() * per));
        const key = rand() < 0.5 ? `b${expected.length}` : null;
        records.push(key === null ? d : { data: d, key });
        expected.push({ data: d, key });
      }
      assert.is(a.appendBatch(records), n);
    } else {
      // appendRun: records already in the ring's format (a funnel client's batch), past an offset into the body.
      const n = 1 + Math.floor(rand() * 40);
      const parts: Buffer[] = [Buffer.alloc(3)];
      for (let i = 0; i < n; i++) {
        const d = body(expected.length, Math.floor(rand() * (rand() < 0.1 ? 20_000 : 400)));
        const word = Buffer.alloc(4);
        word.writeUInt32LE(d.length);
        parts.push(word, d);
        expected.push({ data: d, key: null });
      }
      const run = Buffer.concat(parts);
      let published = 0;
      a.appendRun(run, 3, run.length, (k) => { published += k; });
      assert.is(published, n);
    }
  }
  drain();
  assert.ok(endsAtEnd > 50, `records ending at the ring's end: ${endsAtEnd}`);
  for (const k of [1, 2, 3]) assert.ok(wrapRooms.has(k), `appends with ${k} bytes left before the ring's end (skipped without a marker)`);
  assert.is(got.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.is(got[i]!.key, expected[i]!.key, `key of record ${i}`);
    assert.ok(got[i]!.data.equals(expected[i]!.data), `bytes of record ${i} (${expected[i]!.data.length} B)`);
  }
  assert.equal(paddingWritten(buf), [], 'the padding bytes are never written');
});

const FIXTURE = new URL('./fixtures/attached-producer.mjs', import.meta.url);

/** The first message of `w` that has `key`; rejects if the worker fails or exits first. */
function messageWith<T>(w: Worker, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>): void => { if (key in m) { w.off('message', onMessage); resolve(m as T); } };
    w.on('message', onMessage);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`worker exited (${code}) before a message with "${key}"`)));
  });
}

test('a producer and attached threads on a 64 KiB ring: every record back exactly from the files, padding never written', async () => {
  const rand = prng(SEED + 1);
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), ringBytes: RING, maxRecordBytes: RING - 16, fileRollSize: 512 * 1024, maxTotalBytes: null });
  const token = p.share();
  assert.is(ringSize(token.ring), RING);
  // The lead holds the ring's id, stored at open (Producer.attach matches it with the control block's): kept as it is.
  const lead = new Uint8Array(token.ring, 0, RING_LEAD).slice();
  markPadding(token.ring);
  new Uint8Array(token.ring).set(lead, 0);
  const workers = [0, 1].map((id) => new Worker(FIXTURE, { workerData: { mode: 'append', token, id: `t${id}`, n: 1500, seed: Math.floor(rand() * 1e9), batch: id === 0 ? 1 : 7 }, execArgv: [] }));
  try {
    const done = workers.map((w) => messageWith<{ offsets: number[] }>(w, 'offsets'));
    const own = new Map<number, Expected>();
    let fillOk = true;
    for (let i = 0; i < 1500; i++) {
      const r = rand();
      const sz = r < 0.05 ? RING - 16 - Math.floor(rand() * 64) : r < 0.2 ? Math.floor(rand() * (RING - 16)) : Math.floor(rand() * 300);
      if (r < 0.3) {
        const key = `o${i}`;
        const d = body(i, Math.max(0, sz - 16));
        own.set(p.append(d, { key }), { data: d, key });
      } else if (r < 0.4) {
        const d = [body(i, Math.floor(sz / 4)), body(i + 1, Math.floor(sz / 3))];
        const first = p.appendBatch(d);
        own.set(first, { data: d[0]!, key: null });
        own.set(first + 1, { data: d[1]!, key: null });
      } else {
        const d = body(i, sz);
        own.set(p.append(d), { data: d, key: null });
      }
      const s = p.stats();
      if (!(s.ringFill >= 0 && s.ringFill <= 1 && s.ringBytes <= RING)) fillOk = false;
    }
    const results = await Promise.all(done);
    await p.flush();
    assert.ok(fillOk, 'stats: ringFill within 0..1 and ringBytes within the ring');
    assert.equal(paddingWritten(token.ring, lead), [], 'the padding bytes are never written');
    await p.close();
    const texts = new Map<number, string>();
    for (const [id, r] of results.entries()) {
      r.offsets.forEach((off, i) => texts.set(off, `t${id}:${i}:`));
    }
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    let n = 0;
    try {
      for (const m of c.iter()) {
        assert.is(m.offset, n);
        const mine = own.get(n);
        if (mine !== undefined) {
          assert.ok(Buffer.from(m.data).equals(mine.data), `bytes of the owner's record at ${n}`);
          assert.is(m.key === null ? null : Buffer.from(m.key).toString(), mine.key, `key of record ${n}`);
        } else {
          const prefix = texts.get(n);
          assert.ok(prefix !== undefined, `record ${n} was appended by someone`);
          const text = Buffer.from(m.data).toString();
          assert.ok(text.startsWith(prefix!) && /^x*$/.test(text.slice(prefix!.length)), `record ${n}: ${text.slice(0, 40)} is ${prefix}`);
        }
        n++;
      }
    } finally {
      await c.close();
    }
    assert.is(n, own.size + results.reduce((t, r) => t + r.offsets.length, 0));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});

test.run();
