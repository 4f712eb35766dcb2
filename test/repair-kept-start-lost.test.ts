/**
 * repairLog on a log whose retention a crash interrupted while a transactional cursor points below
 * the start it recorded (start.offset), and whose segments from that start on are then lost:
 * recovery refuses it (the recorded start lies past every segment). The segments below the start are
 * the log while the cursor points into them (the next producer keeps them): repair keeps their
 * records and sets start.offset, durable.offset and the cursors past their end back to them, instead
 * of removing them as an interrupted retention's leftovers (the cursor's records gone).
 */
import * as assert from 'uvu/assert';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, inspectLog, repairLog, resetCursor, verifyLog } from '../dist/index.js';
import { encodeDurableHint } from '../src/storage/durable-hint.js';
import { readTexts, suite, tempDir } from './kit.js';
import { logWithCursor, texts } from './repair-kit.js';

const test = suite('repair-kept-start-lost');

/** The repair-kit log, cursor `audit` below the start recorded next, start.offset at its 4th segment, and that segment and every later one gone. */
async function lostFromKeptStart(hint: boolean): Promise<{ logDir: string; base: (i: number) => number }> {
  const { logDir, segs } = await logWithCursor();
  const base = (i: number): number => Number(segs[i]!.slice(0, 20));
  const audit = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('audit') });
  await audit.close();
  await resetCursor(logDir, 'audit', { to: base(1) + 1 });
  writeFileSync(join(logDir, 'start.offset'), encodeDurableHint(base(3))); // recorded, then the crash
  for (const s of segs.slice(3)) {
    unlinkSync(join(logDir, s));
    try { unlinkSync(join(logDir, s.replace(/\.seg$/, '.idx'))); } catch { /* none */ }
  }
  if (!hint) unlinkSync(join(logDir, 'durable.offset'));
  return { logDir, base };
}

for (const hint of [true, false]) {
  test(`the segments from a start a cursor keeps are lost${hint ? '' : ', durable.offset too'}: the records below it stay, and the log opens`, async () => {
    const { logDir, base } = await lostFromKeptStart(hint);
    const r = await repairLog(logDir, { backupDir: join(tempDir(), 'backup') });
    assert.ok(r.cut !== null, 'a log recovery refuses is repaired');
    const v = await verifyLog(logDir);
    assert.ok(v.ok, JSON.stringify(v.findings));
    assert.equal(r.actions.filter((a) => a.action === 'remove' || a.action === 'create-segment'), [], JSON.stringify(r.actions));
    assert.equal(r.actions.filter((a) => a.action === 'rewrite-start-offset').map((a) => a.detail.split(':')[0]), [`${base(3)} → ${base(0)}`]);
    const p = await Producer.open({ logDir });
    try {
      assert.is(p.logStartOffset, base(0));
      assert.is(p.nextOffset, base(3));
    } finally {
      await p.close();
    }
    assert.equal(await readTexts(logDir), texts.slice(0, base(3)));
    const info = await inspectLog(logDir);
    assert.equal(info.cursors.map((c) => [c.id, c.committedOffset]), [['audit', base(1) + 1], ['billing', base(3)]]);
  });
}

test.run();
