/**
 * The active segment's index is never fsynced until its segment is sealed, so after a power loss its
 * last entries may be zero-filled or hold any bytes; recovery passes over such entries and rewrites
 * the index, losing nothing. verifyLog run on that log before it is opened reports them as warnings,
 * not damage: the log is healthy. (Before, they were damage, and verify called such a log DAMAGED.)
 */
import * as assert from 'uvu/assert';
import { appendFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, verifyLog, formatVerifyReport } from '../dist/index.js';
import { suite, logOf, readRecords } from './kit.js';

const test = suite('verify-active-index-unsynced');
const records = Array.from({ length: 300 }, (_, i) => `record-${i}-${'x'.repeat(i % 40)}`);

function activeIndex(logDir: string): string {
  const idx = readdirSync(logDir).filter((n) => /^\d{20}\.idx$/.test(n)).sort();
  return join(logDir, idx[idx.length - 1]!);
}

async function healthyAfterOpen(logDir: string): Promise<void> {
  const p = await Producer.open({ logDir });
  await p.close();
  assert.equal((await readRecords(logDir)).map((r) => r.text), records, 'recovery lost nothing');
  const after = await verifyLog(logDir);
  assert.is(after.damageCount, 0, formatVerifyReport(after));
}

test('zero-filled entries at the end of the active index (an unsynced append after a power loss) are warnings', async () => {
  const logDir = await logOf(records, { indexIntervalBytes: 512, flushAfter: (i) => i % 5 === 0 });
  appendFileSync(activeIndex(logDir), Buffer.alloc(32));
  const r = await verifyLog(logDir);
  assert.is(r.damageCount, 0, formatVerifyReport(r));
  assert.ok(r.findings.some((f) => f.kind === 'index' && f.severity === 'warning'), formatVerifyReport(r));
  await healthyAfterOpen(logDir);
});

test('a garbled last entry of the active index (wrong offset, mid-frame position) is a warning', async () => {
  const logDir = await logOf(records, { indexIntervalBytes: 512, flushAfter: (i) => i % 5 === 0 });
  const file = activeIndex(logDir);
  const b = readFileSync(file);
  assert.ok(b.length >= 32, 'at least two entries in the active index');
  const last = b.length - 16;
  b.writeUInt32LE(b.readUInt32LE(last) + 1, last); // names the wrong offset
  b.writeUInt32LE(b.readUInt32LE(last - 8) + 3, last - 8); // the one before points inside a frame
  writeFileSync(file, b);
  const r = await verifyLog(logDir);
  assert.is(r.damageCount, 0, formatVerifyReport(r));
  await healthyAfterOpen(logDir);
});

test.run();
