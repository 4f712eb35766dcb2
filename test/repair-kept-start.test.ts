/**
 * repairLog on a log whose retention a crash interrupted while a transactional cursor points below
 * the start it recorded (start.offset): recovery keeps the segments below that start, so they are the
 * log, and repair cuts damage there. The log it leaves must open: a recorded start past the segments
 * left would make recovery refuse it (the segments from that start on look missing).
 */
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, inspectLog, repairLog, resetCursor } from '../dist/index.js';
import { encodeDurableHint } from '../src/storage/durable-hint.js';
import { readTexts, suite, tempDir } from './kit.js';
import { logWithCursor, texts } from './repair-kit.js';

const test = suite('repair-kept-start');

test('damage below a recorded start a cursor keeps: the repaired log opens, with every record before the cut', async () => {
  const { logDir, segs } = await logWithCursor();
  const base = (i: number): number => Number(segs[i]!.slice(0, 20));
  const audit = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('audit') });
  await audit.close();
  await resetCursor(logDir, 'audit', { to: base(0) + 1 }); // committed below the start recorded next
  writeFileSync(join(logDir, 'start.offset'), encodeDurableHint(base(3))); // recorded, then the crash
  const b = readFileSync(join(logDir, segs[1]!));
  b[Math.floor(b.length / 2)] ^= 0xff;
  writeFileSync(join(logDir, segs[1]!), b);
  const r = await repairLog(logDir, { backupDir: join(tempDir(), 'backup') });
  const k = r.cut!.offset;
  assert.equal(r.actions.filter((a) => a.action === 'rewrite-start-offset').map((a) => a.detail.split(':')[0]), [`${base(3)} → ${base(0)}`]);
  assert.ok(k > base(1) && k < base(2), `cut at ${k}, in ${segs[1]}`);
  const p = await Producer.open({ logDir });
  try {
    assert.is(p.logStartOffset, base(0));
    assert.is(p.nextOffset, k);
  } finally {
    await p.close();
  }
  assert.equal(await readTexts(logDir), texts.slice(0, k));
  const info = await inspectLog(logDir);
  assert.is(info.logStartOffset, base(0));
  assert.equal(info.cursors.map((c) => [c.id, c.committedOffset]), [['audit', base(0) + 1], ['billing', k]]);
});

test.run();
