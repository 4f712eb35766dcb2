/**
 * A transactional cursor's dead letter carries a dedup key, and the dead-letter log's ring is sized
 * for the dead letter with that key counted. It was not: a record whose dead letter (header, data, key
 * and headers) came within the dedup key's bytes (about 40) of the ring's record limit (32 MiB - 16)
 * could not be dead-lettered (ERR_RECORD_TOO_LARGE from the dead-letter producer), and the consumer's
 * call failed with it.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, decodeDeadLetter } from '../dist/index.js';
import { suite, tempDir } from './kit.js';

const test = suite('dead-letter-dedup-size');

const RING_LIMIT = 32 * 1024 * 1024 - 16; // the dead-letter log's first ring, less 16 bytes

/** Dead-letters one record of `size` bytes (with a key) through a clientTx cursor; returns the dead letters' data lengths and header lengths. */
async function deadLetterOf(size: number, key: string): Promise<Array<{ header: number; key: string | null }>> {
  const root = tempDir();
  const logDir = join(root, 'log');
  const deadLetterDir = join(root, 'dl');
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), ringBytes: 64 << 20, maxRecordBytes: (64 << 20) - 16 });
  p.append(Buffer.alloc(size, 7), { key });
  await p.close();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c'), retry: { maxAttempts: 1, deadLetterDir } });
  try {
    await c.nonblockingProcess(1, () => 'retry');
  } finally {
    await c.close();
  }
  const d = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const out = [...d.iter()].map((m) => {
    assert.is(decodeDeadLetter(m.data).data.byteLength, size);
    return { header: m.data.byteLength - size, key: m.key === null ? null : Buffer.from(m.key).toString() };
  });
  await d.close();
  return out;
}

test('a dead letter just under the ring\'s limit without its dedup key is written, the key counted', async () => {
  const small = await deadLetterOf(10, 'k');
  assert.is(small.length, 1);
  const header = small[0]!.header; // [u32][JSON header]: the same length for a log path of the same length
  // Data, header and the key's attribute block (flags, u16, 'k') fill the limit but for 10 bytes:
  // the dedup key's block (u16 and some 40 bytes) does not fit beside them.
  const size = RING_LIMIT - header - (1 + 2 + 1) - 10;
  assert.equal(await deadLetterOf(size, 'k'), [{ header, key: 'k' }]);
});

test.run();
