/**
 * decodeDeadLetter on bytes that are not a dead letter: anything but a Uint8Array, and a header that
 * is JSON but not a dead letter's header (not an object, fields missing or of the wrong type), is
 * ERR_INVALID_OPTION; a real dead letter round-trips every field (binary data, a big key, many headers).
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Producer, Consumer, ConsumerStyle, Whence, decodeDeadLetter } from '../dist/index.js';
import { suite, tempDir, throwsWith } from './kit.js';

const test = suite('dead-letter-decode');

/** `[u32 length][header]` followed by `data`. */
function framed(header: string, data: Uint8Array = new Uint8Array(0)): Buffer {
  const h = Buffer.from(header);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(h.byteLength, 0);
  return Buffer.concat([len, h, data]);
}

test('a value that is not a Uint8Array is ERR_INVALID_OPTION', () => {
  for (const bad of ['abc', null, undefined, 5, [1, 2, 3], new ArrayBuffer(8), {}]) {
    throwsWith(() => decodeDeadLetter(bad as unknown as Uint8Array), 'ERR_INVALID_OPTION');
  }
});

test('a header that is JSON but not a dead letter header is ERR_INVALID_OPTION', () => {
  const good = { logId: '/x', offset: 3, timestamp: 1, attempts: 2, lastError: null };
  const bad: unknown[] = [
    null, 5, 'text', [], {},
    { ...good, logId: 7 }, { ...good, offset: '3' }, { ...good, offset: -1 }, { ...good, timestamp: null },
    { ...good, attempts: 0 }, { ...good, lastError: { a: 1 } }, { logId: '/x', offset: 3, timestamp: 1, attempts: 2 },
    { ...good, extraHeaders: null }, { ...good, extraHeaders: [] }, { ...good, extraHeaders: { a: 1 } },
  ];
  for (const h of bad) throwsWith(() => decodeDeadLetter(framed(JSON.stringify(h))), 'ERR_INVALID_OPTION');
  assert.equal(decodeDeadLetter(framed(JSON.stringify(good), Buffer.from('d'))), { ...good, extraHeaders: null, data: Buffer.from('d') });
  const extra = { ...good, extraHeaders: { a: 'b' } };
  assert.equal(decodeDeadLetter(framed(JSON.stringify(extra), Buffer.from('d'))), { ...extra, data: Buffer.from('d') });
});

test('a dead letter round-trips: binary data, a 65,535-byte key, 255 headers', async () => {
  const logDir = join(tempDir(), 'log');
  const data = new Uint8Array(70_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 255;
  const key = new Uint8Array(65_535).fill(0xfe);
  const headers: Record<string, string> = {};
  for (let i = 0; i < 255; i++) headers[`h${i}`] = `v${i}`.repeat(i % 7);
  const p = await Producer.open({ logDir });
  p.append(data, { key, headers });
  await p.close();
  const deadLetterDir = join(tempDir(), 'dl');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('rt'), retry: { maxAttempts: 2, retryOnThrow: true, deadLetterDir } });
  assert.equal(await c.nonblockingProcess(null, () => { throw new Error('boom'); }), { committed: 0, skipped: 1, retried: 2, stoppedBy: 'end' });
  await c.close();
  const dl = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const [m, ...rest] = [...dl.iter()];
  await dl.close();
  assert.is(rest.length, 0);
  const d = decodeDeadLetter(m!.data);
  assert.is(d.offset, 0);
  assert.is(d.attempts, 2);
  assert.is(d.lastError, 'boom');
  assert.type(d.timestamp, 'number');
  assert.ok(Buffer.from(d.data).equals(Buffer.from(data)), 'data kept byte for byte');
  assert.ok(Buffer.from(m!.key!).equals(Buffer.from(key)), 'key kept');
  assert.equal(m!.headers, headers);
});

test.run();
