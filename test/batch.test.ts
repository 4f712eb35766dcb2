/**
 * appendBatch: one offset range, read back in order with keys and headers; a batch larger than
 * maxBatchBytes is one frame; batches across many ring wraps round-trip (seeded); a reader in the
 * same process never sees a part of a batch; bad batches are refused whole with a code, using no
 * offset and leaving the directory as it was; an empty batch appends nothing. Crashes are in
 * batch-crash.test.ts.
 */
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { digestDir, prng, suite, tempDir, throwsWith, waitFor } from './kit.js';

const test = suite('batch');
const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
console.log(`batch seed=${seed} (replay: SEED=${seed})`);

/** Every frame of every segment: its base offset and record count. */
function frames(logDir: string): Array<{ base: number; count: number }> {
  const out: Array<{ base: number; count: number }> = [];
  for (const name of readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort()) {
    const seg = readFileSync(join(logDir, name));
    for (let at = 32; at + 40 <= seg.byteLength; at += seg.readUInt32LE(at + 8)) {
      out.push({ base: Number(seg.readBigUInt64LE(at + 16)), count: seg.readUInt32LE(at + 12) });
    }
  }
  return out;
}

test('one offset range, in order, with keys and headers; larger than maxBatchBytes yet one frame', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, maxBatchBytes: 1024, syncPolicy: SyncPolicy.never() });
  assert.is(p.append('before'), 0);
  const batch = Array.from({ length: 50 }, (_, i) => (i % 3 === 0 ? { data: `b${i}-${'x'.repeat(60)}`, key: `k${i}`, headers: { i: String(i) } } : `b${i}-${'x'.repeat(60)}`));
  assert.is(p.appendBatch(batch), 1);
  assert.is(p.nextOffset, 51);
  assert.is(p.append('after'), 51);
  await p.close();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const got = [...c.iter()];
  await c.close();
  assert.is(got.length, 52);
  got.slice(1, 51).forEach((m, i) => {
    assert.is(Buffer.from(m.data).toString(), `b${i}-${'x'.repeat(60)}`);
    assert.equal(m.key === null ? null : Buffer.from(m.key).toString(), i % 3 === 0 ? `k${i}` : null);
    assert.equal(m.headers === null ? null : { ...m.headers }, i % 3 === 0 ? { i: String(i) } : null);
  });
  const holding = frames(logDir).filter((f) => f.base < 51 && f.base + f.count > 1);
  assert.is(holding.length, 1, `the batch spans ${holding.length} frames`);
  assert.ok(holding[0]!.base <= 1 && holding[0]!.base + holding[0]!.count >= 51);
});

test('random batches and single records across many ring wraps round-trip (seeded)', async () => {
  const random = prng(seed);
  const logDir = tempDir();
  const p = await Producer.open({ logDir, ringBytes: 64 * 1024, maxBatchBytes: 4096, fileRollSize: 16 * 1024, syncPolicy: SyncPolicy.never() });
  const want: string[] = [];
  const batchOf: number[] = []; // offset -> batch id (-1 for a single record)
  for (let b = 0; b < 400; b++) {
    if (random() < 0.3) {
      const t = `s${b}-${'y'.repeat(Math.floor(random() * 300))}`;
      p.append(t);
      want.push(t);
      batchOf.push(-1);
      continue;
    }
    const n = 1 + Math.floor(random() * 30);
    const texts = Array.from({ length: n }, (_, i) => `b${b}.${i}-${'z'.repeat(Math.floor(random() * 800))}`);
    const first = p.appendBatch(texts);
    assert.is(first, want.length);
    want.push(...texts);
    for (let i = 0; i < n; i++) batchOf.push(b);
    if (random() < 0.1) await p.flush();
  }
  await p.close();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const got = [...c.iter()].map((m) => Buffer.from(m.data).toString());
  await c.close();
  assert.equal(got, want);
  // No frame starts or ends inside a batch.
  for (const f of frames(logDir)) {
    const first = batchOf[f.base]!;
    if (f.base > 0 && first >= 0) assert.ok(batchOf[f.base - 1] !== first, `a frame starts inside batch ${first} at ${f.base}`);
    const end = f.base + f.count;
    if (end < batchOf.length && batchOf[end]! >= 0) assert.ok(batchOf[end - 1] !== batchOf[end], `a frame ends inside batch ${batchOf[end]} at ${end}`);
  }
});

test('a reader in the same process never sees a part of a batch', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, maxBatchBytes: 1024, syncPolicy: SyncPolicy.never() });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  let next = 0;
  let passes = 0;
  const random = prng(seed + 1);
  for (let b = 0; b < 300; b++) {
    const n = 2 + Math.floor(random() * 20);
    p.appendBatch(Array.from({ length: n }, (_, i) => `${b}:${i}:${n}:${'w'.repeat(Math.floor(random() * 100))}`));
    await new Promise((resolve) => setImmediate(resolve)); // the writer thread runs meanwhile
    // Every tenth batch the reader waits until the writer wrote everything (a pass that surely sees
    // records); the others read whatever the writer got to, which may be in the middle of its work.
    if (b % 10 === 0) await waitFor(() => p.writtenOffset === p.nextOffset, 'the writer to catch up');
    {
      // What the log holds now must end at a batch's last record.
      let last: string | null = null;
      for (const m of c.iter()) {
        assert.is(m.offset, next++);
        last = Buffer.from(m.data).toString();
      }
      if (last !== null) {
        passes++;
        const [, i, n2] = last.split(':');
        assert.is(Number(i), Number(n2) - 1, `a pass ended inside a batch: ${last.slice(0, 20)}`);
      }
    }
  }
  await c.close();
  await p.close();
  assert.ok(passes >= 30, `${passes} passes saw records`);
});

test('bad batches are refused whole: a code, no offset used, the directory unchanged; an empty batch appends nothing', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, ringBytes: 64 * 1024, maxRecordBytes: 1000, syncPolicy: SyncPolicy.always() });
  p.append('first');
  await p.flush();
  const before = digestDir(logDir);
  const bad: Array<[unknown, string]> = [
    ['not an array', 'ERR_INVALID_OPTION'],
    [{ length: 1, 0: 'x' }, 'ERR_INVALID_OPTION'],
    [null, 'ERR_INVALID_OPTION'],
    [['ok', 42], 'ERR_INVALID_RECORD'],
    [['ok', null], 'ERR_INVALID_RECORD'],
    [['ok', { key: 'k' }], 'ERR_INVALID_RECORD'],
    [['ok', { data: 5 }], 'ERR_INVALID_RECORD'],
    [['ok', { data: 'x', key: 5 }], 'ERR_INVALID_RECORD'],
    [['ok', { data: 'x', headers: { a: 1 } }], 'ERR_INVALID_RECORD'],
    [['ok', { data: 'x', dedupKey: 'd' }], 'ERR_INVALID_RECORD'],
    [['ok', 'y'.repeat(1001)], 'ERR_RECORD_TOO_LARGE'],
    [Array.from({ length: 100 }, () => 'z'.repeat(900)), 'ERR_RECORD_TOO_LARGE'], // 90 KB: more than the ring
  ];
  for (const [records, code] of bad) {
    throwsWith(() => p.appendBatch(records as never), code);
    assert.is(p.nextOffset, 1, `${JSON.stringify(records)?.slice(0, 50)}: no offset used`);
  }
  assert.is(p.appendBatch([]), 1, 'an empty batch returns nextOffset');
  assert.is(p.nextOffset, 1);
  await p.flush();
  assert.is(digestDir(logDir), before, 'nothing was written');
  assert.is(p.appendBatch(['second', 'third']), 1);
  await p.close();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  assert.equal([...c.iter()].map((m) => Buffer.from(m.data).toString()), ['first', 'second', 'third']);
  await c.close();
});

test.run();
