/**
 * inspectLog on a log whose retention a crash interrupted (start.offset names a later segment than
 * the oldest) while a committed cursor points below that recorded start (so the segments stay) and
 * another cursor was never committed: that cursor's consumer starts at the recorded start, as a new
 * cursor does (docs/admin.md), and inspectLog counts its lag from there, as its consumer.lag() does.
 */
import * as assert from 'uvu/assert';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Consumer, ConsumerStyle, inspectLog, resetCursor } from '../dist/index.js';
import { logOf, suite } from './kit.js';

const test = suite('inspect-new-cursor-recorded-start');

function startOffsetFile(offset: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeBigUInt64LE(BigInt(offset), 0);
  b.writeUInt32LE(crc32(b.subarray(0, 8)), 8);
  return b;
}

const segmentBases = (logDir: string): number[] => readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort().map((f) => Number(f.slice(0, 20)));

test('a never-committed cursor beside a committed one below the recorded start: inspectLog counts its lag from where its consumer starts', async () => {
  const texts = Array.from({ length: 100 }, (_, i) => `record ${i} ${'x'.repeat(30)}`);
  const logDir = await logOf(texts, { fileRollSize: 1024, flushAfter: (i: number) => i % 5 === 4 });
  const bases = segmentBases(logDir);
  assert.ok(bases.length >= 4, `${bases.length} segments`);
  for (const id of ['billing', 'report']) await (await Consumer.open({ logDir, style: ConsumerStyle.clientTx(id) })).close();
  await resetCursor(logDir, 'billing', { to: bases[1]! + 1 });
  writeFileSync(join(logDir, 'start.offset'), startOffsetFile(bases[2]!)); // retention recorded it, then the crash
  const info = await inspectLog(logDir);
  const report = info.cursors.find((x) => x.id === 'report')!;
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('report') });
  let lag;
  let first = -1;
  try {
    lag = c.lag();
    await c.nonblockingProcess(1, (m) => { first = m.offset; return 'commit'; });
  } finally {
    await c.close();
  }
  console.log(`  inspectLog: report at ${report.committedOffset}, lag ${report.lag.records}; its consumer starts at ${first}, lag() ${lag.records}`);
  assert.is(report.lag.records, lag.records, 'inspectLog and consumer.lag() agree');
  assert.is(report.lag.records, 100 - first, 'the lag counts from where the consumer starts');
});

test.run();
