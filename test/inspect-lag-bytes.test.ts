/**
 * A cursor's lag.bytes in inspectLog and consumer.lag() counts the bytes of whole frames only: from
 * the frame holding the cursor's record to the one holding the newest durable record, with no
 * segment header of the segments in between (each segment's frames start after its 32-byte header).
 */
import * as assert from 'uvu/assert';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, inspectLog, resetCursor } from '../dist/index.js';
import { logOf, suite } from './kit.js';

const test = suite('inspect-lag-bytes');

/** Each segment's base offset and the bytes of its frames (its size less the 32-byte header), oldest first. */
function segmentFrames(logDir: string): Array<{ base: number; frameBytes: number }> {
  return readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort()
    .map((n) => ({ base: Number(n.slice(0, 20)), frameBytes: statSync(join(logDir, n)).size - 32 }));
}

test('a cursor behind several segments: lag.bytes is the frame bytes of those segments, no segment header counted', async () => {
  const logDir = await logOf(200, { fileRollSize: 1024, flushAfter: () => true });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.close();
  const segs = segmentFrames(logDir);
  assert.ok(segs.length >= 4, `${segs.length} segments`);
  const all = segs.reduce((n, s) => n + s.frameBytes, 0);
  const i = await inspectLog(logDir);
  console.log(`  ${segs.length} segments, ${i.totalBytes} bytes, ${all} of them frame bytes; cursor at 0: lag.bytes ${i.cursors[0]!.lag.bytes}`);
  assert.is(i.cursors[0]!.lag.bytes, all, 'from offset 0: every frame byte');
  // A cursor at the first record of the third segment: the frames of the third segment on.
  await resetCursor(logDir, 'billing', { to: segs[2]!.base });
  const j = await inspectLog(logDir);
  assert.is(j.cursors[0]!.lag.bytes, segs.slice(2).reduce((n, s) => n + s.frameBytes, 0), 'from the third segment on');
  // consumer.lag() measures the same way.
  const d = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  try {
    assert.is(d.lag().bytes, j.cursors[0]!.lag.bytes);
  } finally {
    await d.close();
  }
});

test.run();
