/**
 * inspectLog on a log whose retention a crash interrupted while a transactional cursor points below
 * the start it recorded (start.offset): recovery keeps the segments below that start (retentionStart
 * in recovery.ts), so the log starts at the oldest segment, and the cursor's consumer reads from its
 * committed offset. inspectLog reports that start and counts the cursor's lag from its committed
 * offset, before and after the next producer opens the log. `reactive-log dump` prints from that start
 * too: it started at the recorded start, leaving out stored records with exit 0.
 */
import * as assert from 'uvu/assert';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Consumer, ConsumerStyle, Producer, inspectLog, resetCursor } from '../dist/index.js';
import { digestDir, logOf, suite } from './kit.js';
import { cli } from './cli-kit.js';

const test = suite('inspect-start-kept');

/** start.offset's 12 bytes: u64 offset, CRC-32 of those 8 bytes (src/storage/durable-hint.ts). */
function startOffsetFile(offset: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeBigUInt64LE(BigInt(offset), 0);
  b.writeUInt32LE(crc32(b.subarray(0, 8)), 8);
  return b;
}

const segmentBases = (logDir: string): number[] => readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort().map((f) => Number(f.slice(0, 20)));

test('a committed cursor below the recorded start: inspectLog reports the start recovery keeps', async () => {
  const texts = Array.from({ length: 100 }, (_, i) => `record ${i} ${'x'.repeat(30)}`);
  const logDir = await logOf(texts, { fileRollSize: 1024, flushAfter: (i: number) => i % 5 === 4 });
  const bases = segmentBases(logDir);
  assert.ok(bases.length >= 4, `${bases.length} segments`);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.close();
  const committed = bases[1]! + 1;
  await resetCursor(logDir, 'billing', { to: committed });
  writeFileSync(join(logDir, 'start.offset'), startOffsetFile(bases[2]!)); // retention recorded it, then the crash
  const before = digestDir(logDir);
  const info = await inspectLog(logDir);
  assert.is(digestDir(logDir), before, 'inspectLog writes nothing');
  assert.is(info.logStartOffset, bases[0], 'the segments below the recorded start stay: the cursor points into them');
  assert.is(info.cursors.find((x) => x.id === 'billing')!.lag.records, 100 - committed, 'the lag counts from the committed offset');
  for (const args of [[], ['--since', '0']]) {
    const dump = cli('dump', logDir, ...args);
    assert.is(dump.status, 0, dump.stderr);
    const lines = dump.stdout.trim().split('\n');
    assert.is(lines.length, 100, `dump ${args.join(' ')} printed ${lines.length} records`);
    assert.match(lines[0]!, /^0 /, lines[0]);
  }
  assert.is(digestDir(logDir), before, 'dump writes nothing');

  const p = await Producer.open({ logDir });
  await p.close();
  assert.equal(segmentBases(logDir), bases, 'the next producer kept every segment');
  const after = await inspectLog(logDir);
  assert.is(after.logStartOffset, info.logStartOffset, 'the same start once the producer opened the log');
  assert.is(after.cursors.find((x) => x.id === 'billing')!.lag.records, 100 - committed);
  const opened = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  try {
    let first = -1;
    for (const m of opened.iter()) {
      first = m.offset;
      break;
    }
    assert.is(first, committed, 'the consumer reads from its committed offset');
  } finally {
    await opened.close();
  }
});

test.run();
