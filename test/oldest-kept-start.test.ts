/**
 * A transactional consumer opened with onPositionExpired 'oldest' whose committed cursor points into
 * a segment below the start recorded in start.offset, a segment the log keeps: a writer stopped
 * between retention's two writes of start.offset (the new start, then the old one written back
 * because a cursor points into the segment) leaves that start, and recovery keeps the segments below
 * it while a cursor points there (recovery.ts). The cursor's position has not expired: the consumer
 * goes on at its cursor, and never moves it past records the log still holds.
 */
import * as assert from 'uvu/assert';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { logOf, suite } from './kit.js';

const test = suite('oldest-kept-start');

/** start.offset's 12 bytes: u64 offset, CRC-32 of those 8 bytes (src/storage/durable-hint.ts). */
function startOffsetFile(offset: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeBigUInt64LE(BigInt(offset), 0);
  b.writeUInt32LE(crc32(b.subarray(0, 8)), 8);
  return b;
}

async function firstOffset(logDir: string): Promise<number> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('slow'), onPositionExpired: 'oldest' });
  try {
    for (const m of c.iter()) return m.offset;
    return -1;
  } finally {
    await c.close();
  }
}

test('a committed cursor below a recorded start that the log keeps is not moved past its records', async () => {
  const texts = Array.from({ length: 100 }, (_, i) => `record ${i} ${'x'.repeat(30)}`);
  const logDir = await logOf(texts, { fileRollSize: 1024, flushAfter: (i: number) => i % 5 === 4 });
  const bases = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort().map((f) => Number(f.slice(0, 20)));
  assert.ok(bases.length >= 3, `${bases.length} segments`);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('slow') });
  await c.nonblockingProcess(3, () => 'commit');
  await c.close();
  // Retention recorded the new start, then its writer stopped before it wrote the old start back.
  writeFileSync(join(logDir, 'start.offset'), startOffsetFile(bases[2]!));
  assert.is(await firstOffset(logDir), 3, 'the consumer skipped records the log keeps');
  // The next owner keeps those segments (the cursor points into them), and the consumer reads them.
  const p = await Producer.open({ logDir });
  try {
    assert.equal(p.recovery.removed.filter((n) => n.endsWith('.seg')), []);
  } finally {
    await p.close();
  }
  assert.is(await firstOffset(logDir), 3);
});

test.run();
