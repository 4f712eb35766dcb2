/**
 * Dedup keys and header names or values that are not UTF-8, sent by a raw funnel client (one that
 * writes the frames itself): the owner refuses each such record with ERR_INVALID_RECORD, stores
 * nothing of it, and the connection and the log go on. Read leniently, two distinct keys would both
 * read as U+FFFD: the second record would be answered with the first one's offset and never stored.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { decodeReply, type Outcome } from '../src/funnel/batch-codec.js';
import { APPEND, appendFrame, countFrames, helloFrame, rawClient, rawFrame } from './funnel-kit.js';
import { readRecords, suite, tempDir, waitFor } from './kit.js';

const test = suite('funnel-dedup-utf8');

const u16 = (n: number): Buffer => Buffer.from([n & 0xff, n >>> 8]);

/** A record `[u32 length word | flag][attribute block][data]`. */
function attributed(attrs: Buffer, data: string): Buffer {
  const word = Buffer.alloc(4);
  word.writeUInt32LE(((attrs.length + Buffer.byteLength(data)) | 0x8000_0000) >>> 0, 0);
  return Buffer.concat([word, attrs, Buffer.from(data)]);
}

const dedupKeyed = (key: Buffer, data: string): Buffer => attributed(Buffer.concat([Buffer.from([4]), u16(key.length), key]), data);

/** A record whose headers are `[name, value]` byte strings. */
function headered(headers: ReadonlyArray<readonly [Buffer, Buffer]>, data: string): Buffer {
  const parts: Buffer[] = [Buffer.from([2, headers.length])];
  for (const [name, value] of headers) parts.push(Buffer.from([name.length]), name, u16(value.length), value);
  return attributed(Buffer.concat(parts), data);
}

function batch(records: readonly Buffer[]): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32LE(records.length, 0);
  return rawFrame(APPEND, Buffer.concat([count, ...records]));
}

/** The outcomes of the `n`-th APPEND_REPLY (0-based) in `bytes`, each record's offset or error code. */
function replyOutcomes(bytes: Buffer, n: number, count: number): Array<number | string> {
  let seen = 0;
  for (let p = 0; p + 9 <= bytes.byteLength; p += 8 + bytes.readUInt32LE(p)) {
    if (bytes[p + 8] !== 4 || seen++ !== n) continue;
    const decoded = decodeReply(bytes.subarray(p + 9, p + 8 + bytes.readUInt32LE(p)), count);
    if (typeof decoded === 'string') throw new Error(decoded);
    return Array.from({ length: count }, (_, i) => { const o: Outcome = decoded(i); return typeof o === 'number' ? o : o.code; });
  }
  throw new Error(`no APPEND_REPLY #${n}`);
}

test('two dedup keys that are not UTF-8 are each refused with ERR_INVALID_RECORD, not taken for one key', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true, dedupWindow: { records: 100 } });
  const raw = await rawClient(logDir);
  raw.socket.write(Buffer.concat([
    helloFrame(),
    batch([dedupKeyed(Buffer.from([0xff]), 'first'), dedupKeyed(Buffer.from([0xfe]), 'second'), dedupKeyed(Buffer.from('ok'), 'third')]),
    appendFrame(['after']),
  ]));
  await waitFor(() => countFrames(raw.received(), 4) === 2, 'both APPEND_REPLYs');
  assert.equal(replyOutcomes(raw.received(), 0, 3), ['ERR_INVALID_RECORD', 'ERR_INVALID_RECORD', 0]);
  assert.equal(replyOutcomes(raw.received(), 1, 1), [1], 'the connection goes on');
  assert.not.ok(raw.isClosed());
  assert.is(p.append('own', { dedupKey: '\ufffd' }), 2, 'U+FFFD was never remembered as a key');
  raw.socket.destroy();
  await p.close();
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['third', 'after', 'own']);
});

test('header names or values that are not UTF-8 are refused with ERR_INVALID_RECORD, not stored as U+FFFD', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const raw = await rawClient(logDir);
  const v = Buffer.from('v');
  raw.socket.write(Buffer.concat([
    helloFrame(),
    // Two distinct names that would both read as "\ufffd": one header would be lost without a word.
    batch([headered([[Buffer.from([0xff]), v], [Buffer.from([0xfe]), v]], 'names'), headered([[Buffer.from('h'), Buffer.from([0x61, 0xc0, 0x80])]], 'value'), headered([[Buffer.from('h'), v]], 'good')]),
  ]));
  await waitFor(() => countFrames(raw.received(), 4) === 1, 'the APPEND_REPLY');
  assert.equal(replyOutcomes(raw.received(), 0, 3), ['ERR_INVALID_RECORD', 'ERR_INVALID_RECORD', 0]);
  raw.socket.destroy();
  await p.close();
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['good']);
});

test.run();
