/**
 * A record of a raw funnel client (another language's client, say, whose headers may repeat a name)
 * that names a header twice: the owner refuses it with ERR_INVALID_RECORD and stores nothing of it,
 * as the owner's append cannot take such a record either. Taken, one of the two values was lost
 * without a word: stored as it came (a batch taken as a run) it read back with the last value only,
 * and appended record by record (a batch with a dedup key) the first value was dropped before the
 * append. The other records of the batch, the connection and the log go on.
 */
import * as assert from 'uvu/assert';
import { ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { decodeReply, type Outcome } from '../src/funnel/batch-codec.js';
import { APPEND, countFrames, helloFrame, rawClient, rawFrame } from './funnel-kit.js';
import { messagesOf, suite, tempDir, waitFor } from './kit.js';

const test = suite('funnel-repeated-header');

const u16 = (n: number): Buffer => Buffer.from([n & 0xff, n >>> 8]);

/** A record with headers `[name, value]` (and a dedup key when given). */
function record(headers: ReadonlyArray<readonly [string, string]>, data: string, dedupKey?: string): Buffer {
  const parts: Buffer[] = [Buffer.from([dedupKey === undefined ? 2 : 6, headers.length])];
  for (const [name, value] of headers) parts.push(Buffer.from([name.length]), Buffer.from(name), u16(value.length), Buffer.from(value));
  if (dedupKey !== undefined) parts.push(u16(dedupKey.length), Buffer.from(dedupKey));
  const attrs = Buffer.concat(parts);
  const word = Buffer.alloc(4);
  word.writeUInt32LE(((attrs.length + Buffer.byteLength(data)) | 0x8000_0000) >>> 0, 0);
  return Buffer.concat([word, attrs, Buffer.from(data)]);
}

function batch(records: readonly Buffer[]): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32LE(records.length, 0);
  return rawFrame(APPEND, Buffer.concat([count, ...records]));
}

/** The outcomes of the first APPEND_REPLY in `bytes`: each record's offset or error code. */
function outcomes(bytes: Buffer, count: number): Array<number | string> {
  for (let p = 0; p + 9 <= bytes.byteLength; p += 8 + bytes.readUInt32LE(p)) {
    if (bytes[p + 8] !== 4) continue;
    const decoded = decodeReply(bytes.subarray(p + 9, p + 8 + bytes.readUInt32LE(p)), count);
    if (typeof decoded === 'string') throw new Error(decoded);
    return Array.from({ length: count }, (_, i) => { const o: Outcome = decoded(i); return typeof o === 'number' ? o : o.code; });
  }
  throw new Error('no APPEND_REPLY');
}

for (const dedup of [false, true]) {
  test(`a record naming a header twice is refused with ERR_INVALID_RECORD, the rest of its batch taken (${dedup ? 'record by record' : 'as a run'})`, async () => {
    const logDir = tempDir();
    const p = await Producer.open({ logDir, acceptConnections: true, ...(dedup ? { dedupWindow: { records: 100 } } : {}) });
    const raw = await rawClient(logDir);
    const key = dedup ? (n: number) => `k${n}` : () => undefined;
    raw.socket.write(Buffer.concat([
      helloFrame(),
      batch([record([['trace', 'a'], ['trace', 'b']], 'twice', key(1)), record([['trace', 'a'], ['span', 'b']], 'good', key(2))]),
    ]));
    try {
      await waitFor(() => countFrames(raw.received(), 4) === 1, 'the APPEND_REPLY');
      assert.equal(outcomes(raw.received(), 2), ['ERR_INVALID_RECORD', 0]);
      assert.not.ok(raw.isClosed(), 'the connection goes on');
    } finally {
      raw.socket.destroy();
      await p.close();
    }
    const msgs = await messagesOf({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    assert.equal(msgs.map((m) => [Buffer.from(m.data).toString(), m.headers]), [['good', { trace: 'a', span: 'b' }]]);
  });
}

test.run();
