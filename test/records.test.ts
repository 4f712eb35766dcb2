/**
 * Records with a key and headers (format 2): random records round-trip through the ring, the writer,
 * small segments and the index, read from the start and from seeks into the middle of frames
 * (fast-check; the seed is printed); a record without them is stored in format 1's bytes; keys and
 * headers count against maxRecordBytes; bad keys and headers are refused with a code and change
 * nothing, neither the offsets nor the directory.
 */
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, verifyLog, type Message } from '../dist/index.js';
import { suite, digestDir, tempDir, throwsWith } from './kit.js';

const test = suite('records');

const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
console.log(`records seed=${seed} (replay: SEED=${seed})`);

interface Rec {
  data: string | Uint8Array;
  key?: string | Uint8Array;
  headers?: Record<string, string>;
  flush: boolean;
}

const rec: fc.Arbitrary<Rec> = fc.record({
  data: fc.oneof(fc.string({ maxLength: 60, unit: 'grapheme' }), fc.uint8Array({ maxLength: 200 })),
  key: fc.option(fc.oneof(fc.string({ maxLength: 16 }), fc.uint8Array({ maxLength: 16 })), { nil: undefined }),
  headers: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 20, unit: 'grapheme' }), { maxKeys: 4 }), { nil: undefined }),
  flush: fc.boolean(),
}, { requiredKeys: ['data', 'flush'] });

const bytes = (v: string | Uint8Array): Buffer => (typeof v === 'string' ? Buffer.from(v) : Buffer.from(v));

function expectMessage(m: Message, r: Rec, offset: number): void {
  assert.is(m.offset, offset);
  assert.equal(Buffer.from(m.data), bytes(r.data), `data at ${offset}`);
  assert.equal(m.key === null ? null : Buffer.from(m.key), r.key === undefined ? null : bytes(r.key), `key at ${offset}`);
  const headers = r.headers !== undefined && Object.keys(r.headers).length > 0 ? r.headers : null;
  assert.equal(m.headers === null ? null : { ...m.headers }, headers === null ? null : { ...headers }, `headers at ${offset}`);
}

async function writeLog(records: readonly Rec[]): Promise<string> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, fileRollSize: 1024, indexIntervalBytes: 512, syncPolicy: SyncPolicy.never() });
  for (const r of records) {
    const opts: { key?: string | Uint8Array; headers?: Record<string, string> } = {};
    if (r.key !== undefined) opts.key = r.key;
    if (r.headers !== undefined) opts.headers = r.headers;
    p.append(r.data, Object.keys(opts).length > 0 ? opts : undefined);
    if (r.flush) await p.flush();
  }
  await p.close();
  return logDir;
}

test('random keys and headers round-trip: from the start, from seeks into the middle, and through verify', async () => {
  await fc.assert(fc.asyncProperty(fc.array(rec, { minLength: 1, maxLength: 60 }), fc.nat(), async (records, at) => {
    const logDir = await writeLog(records);
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    let n = 0;
    for (const m of c.iter()) expectMessage(m, records[n]!, n++);
    await c.close();
    assert.is(n, records.length);
    const from = at % records.length;
    const s = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(from)) });
    let k = from;
    for (const m of s.iter()) expectMessage(m, records[k]!, k++);
    await s.close();
    assert.is(k, records.length);
    const report = await verifyLog(logDir);
    assert.ok(report.ok, JSON.stringify(report.findings));
    assert.is(report.records, records.length);
  }), { seed, numRuns: 40 });
});

test('pool workers receive keys and headers', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  for (let i = 0; i < 300; i++) {
    const key = i % 3 === 0 ? null : `key-${i}`;
    const headers = i % 2 === 0 ? null : { n: String(i), kind: i % 4 === 1 ? 'a' : 'b' };
    const opts: { key?: string; headers?: Record<string, string> } = {};
    if (key !== null) opts.key = key;
    if (headers !== null) opts.headers = headers;
    p.append(JSON.stringify({ key, headers }), opts);
  }
  await p.close();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('attrs') });
  const handler = new URL('./fixtures/attributes-handler.mjs', import.meta.url);
  const s = await c.nonblockingProcess(null, handler, { workers: 2 });
  await c.close();
  assert.is(s.committed, 300);
});

test('a record without key or headers is stored in format 1 bytes: [u32 length][data]', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  p.append('plain');
  p.append('keyed', { key: 'k' });
  p.append('empty headers', { headers: {} });
  await p.close();
  const seg = readFileSync(join(logDir, readdirSync(logDir).find((f) => f.endsWith('.seg'))!));
  // Every record's length word and payload, frame by frame (docs/format.md).
  const records: { word: number; payload: Buffer }[] = [];
  for (let at = 32; at < seg.byteLength; at += seg.readUInt32LE(at + 8)) {
    let p = at + 40;
    for (let i = 0; i < seg.readUInt32LE(at + 12); i++) {
      const word = seg.readUInt32LE(p);
      records.push({ word, payload: seg.subarray(p + 4, p + 4 + (word & 0x7fffffff)) });
      p += 4 + (word & 0x7fffffff);
    }
  }
  assert.is(records.length, 3);
  assert.is(records[0]!.word, 5, 'the plain record: its length, no flag');
  assert.is(records[0]!.payload.toString(), 'plain');
  assert.is(records[1]!.word >>> 31, 1, 'the keyed record: the attribute flag');
  assert.is(records[2]!.word, 'empty headers'.length, 'an empty headers object adds nothing');
  assert.is(records[2]!.payload.toString(), 'empty headers');
});

test('keys and headers count against maxRecordBytes', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, maxRecordBytes: 64 });
  assert.is(p.append('x'.repeat(64)), 0);
  throwsWith(() => p.append('x'.repeat(60), { key: 'kkkkkk' }), 'ERR_RECORD_TOO_LARGE');
  throwsWith(() => p.append(Buffer.alloc(60), { headers: { a: 'bbbb' } }), 'ERR_RECORD_TOO_LARGE');
  assert.is(p.append('x'.repeat(40), { key: 'k' }), 1);
  assert.is(p.nextOffset, 2);
  await p.close();
});

test('bad keys and headers: ERR_INVALID_RECORD or ERR_RECORD_TOO_LARGE, no offset used, the directory unchanged', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  p.append('first', { key: 'k', headers: { h: 'v' } });
  await p.flush();
  const before = digestDir(logDir);
  const bad: Array<[unknown, string]> = [
    [{ key: 42 }, 'ERR_INVALID_RECORD'],
    [{ key: { a: 1 } }, 'ERR_INVALID_RECORD'],
    [{ headers: { a: 1 } }, 'ERR_INVALID_RECORD'],
    [{ headers: { a: null } }, 'ERR_INVALID_RECORD'],
    [{ headers: ['a'] }, 'ERR_INVALID_RECORD'],
    [{ headers: 'a: b' }, 'ERR_INVALID_RECORD'],
    [{ headers: { '': 'v' } }, 'ERR_INVALID_RECORD'],
    [{ kye: 'typo' }, 'ERR_INVALID_RECORD'],
    [{ key: 'k\uD800' }, 'ERR_INVALID_RECORD'], // lone surrogates have no UTF-8 form
    [{ headers: { h: '\uDC00v' } }, 'ERR_INVALID_RECORD'],
    [{ headers: { ['\uD83D']: 'v' } }, 'ERR_INVALID_RECORD'],
    [{ dedupKey: 'order-1' }, 'ERR_INVALID_RECORD'], // no dedupWindow
    [null, 'ERR_INVALID_RECORD'],
    ['key', 'ERR_INVALID_RECORD'],
    [{ key: 'k'.repeat(70_000) }, 'ERR_RECORD_TOO_LARGE'],
    [{ headers: { h: 'v'.repeat(70_000) } }, 'ERR_RECORD_TOO_LARGE'],
    [{ headers: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`h${i}`, ''])) }, 'ERR_RECORD_TOO_LARGE'],
  ];
  for (const [opts, code] of bad) {
    const err = throwsWith(() => p.append('data', opts as never), code);
    assert.ok(err.message.length > 0);
    assert.is(p.nextOffset, 1, `${JSON.stringify(opts)?.slice(0, 60)}: no offset used`);
  }
  await p.flush();
  assert.is(digestDir(logDir), before, 'nothing was written');
  assert.is(p.append('second'), 1);
  await p.close();
});

test('an attribute block that does not decode, in a frame whose checksum holds: verify reports the damage, as readers do', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  p.append('a', { key: 'k1', headers: { h: 'v' } });
  await p.flush();
  await p.roll(); // the frame in a sealed segment: damage there, not a torn tail
  p.append('after');
  await p.close();
  const sealed = join(logDir, readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort()[0]!);
  const bytes = readFileSync(sealed);
  const frame = 32; // after the segment header
  const frameBytes = bytes.readUInt32LE(frame + 8);
  bytes[frame + 40 + 4] = 0x08; // the record's attribute flags: an attribute no version knows
  // The checksum made again over the changed body, as a writer with that bug would have.
  const header = bytes.subarray(frame, frame + 40);
  bytes.writeUInt32LE(crc32(bytes.subarray(frame + 40, frame + frameBytes - 4), crc32(header.subarray(8))), frame + 4);
  writeFileSync(sealed, bytes);
  const report = await verifyLog(logDir);
  assert.is(report.ok, false);
  assert.ok(report.findings.some((f) => f.severity === 'damage' && f.kind === 'frame' && /unknown attributes/.test(f.message)), JSON.stringify(report.findings));
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  throwsWith(() => [...c.iter()], 'ERR_LOG_CORRUPT');
  await c.close();
});

test.run();
