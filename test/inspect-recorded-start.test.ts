/**
 * inspectLog on a log whose retention a crash interrupted: start.offset names the new log start and
 * the segments below it are still there (recovery deletes them at the next open; docs/format.md,
 * "start.offset"). With no transactional cursor below it, the log starts at the recorded start, as a
 * new cursor and `cursor reset --to oldest` take it: logStartOffset, the record count and a cursor's
 * lag count from there. (A cursor below it keeps those segments: inspect-start-kept.test.ts.)
 */
import * as assert from 'uvu/assert';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Consumer, ConsumerStyle, inspectLog } from '../dist/index.js';
import { digestDir, logOf, suite } from './kit.js';

const test = suite('inspect-recorded-start');

/** start.offset's 12 bytes: u64 offset, CRC-32 of those 8 bytes (src/storage/durable-hint.ts). */
function startOffsetFile(offset: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeBigUInt64LE(BigInt(offset), 0);
  b.writeUInt32LE(crc32(b.subarray(0, 8)), 8);
  return b;
}

test('segments a crash left below the recorded start: the log starts at the recorded start', async () => {
  const texts = Array.from({ length: 100 }, (_, i) => `record ${i} ${'x'.repeat(30)}`);
  const logDir = await logOf(texts, { fileRollSize: 1024, flushAfter: (i: number) => i % 5 === 4 });
  const bases = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort().map((f) => Number(f.slice(0, 20)));
  assert.ok(bases.length >= 4, `${bases.length} segments`);
  const start = bases[2]!;
  writeFileSync(join(logDir, 'start.offset'), startOffsetFile(start)); // retention recorded it, then the crash
  const before = digestDir(logDir);
  const info = await inspectLog(logDir);
  assert.is(digestDir(logDir), before, 'inspectLog writes nothing');
  assert.is(info.logStartOffset, start);
  assert.is(info.nextOffset, 100);
  const opened = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('fresh') });
  try {
    let first = -1;
    for (const m of opened.iter()) {
      first = m.offset;
      break;
    }
    assert.is(first, start, 'a cursor that never committed starts at the recorded start');
  } finally {
    await opened.close();
  }
  const lag = (await inspectLog(logDir)).cursors.find((x) => x.id === 'fresh')!.lag;
  assert.is(lag.records, 100 - start, 'the lag of that cursor counts from the recorded start');
});

test.run();
