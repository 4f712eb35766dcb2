/**
 * The newest segments and durable.offset gone (a bad restore, a lost disk block) while a
 * transactional cursor committed past what is left: its records were durable when it committed
 * them, so they are lost, not torn. A producer that went on from the end of the files would append
 * at offsets below the cursor, and once the log grew past it the cursor's consumer would pass over
 * those records without a word. Producer.open refuses (ERR_LOG_CORRUPT naming the cursor file), the
 * directory byte-identical; repairLog sets the cursor back to the end, and the log opens again.
 */
import * as assert from 'uvu/assert';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, repairLog } from '../dist/index.js';
import { digestDir, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('recovery-cursor-past-end');

test('cursor at 40, the newest two segments and durable.offset gone: refused untouched; repair resets the cursor', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, fileRollSize: 1024 });
  for (let i = 0; i < 40; i++) {
    p.append(`record ${i} ${'x'.repeat(60)}`);
    if (i % 5 === 4) await p.flush(); // frames of 5 records: several segments
  }
  await p.close();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.nonblockingProcess(40, () => 'commit');
  await c.close();
  const segs = readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort();
  assert.ok(segs.length >= 3, `${segs}`);
  for (const s of segs.slice(-2)) for (const n of [s, s.replace('.seg', '.idx')]) rmSync(join(logDir, n));
  rmSync(join(logDir, 'durable.offset'));
  const end = Number(segs[segs.length - 2]!.slice(0, 20));

  const before = digestDir(logDir);
  const names = readdirSync(logDir).sort();
  const err = await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_CORRUPT');
  console.log('Producer.open:', err.message);
  assert.match(err.message, 'client.billing.cursor');
  assert.equal(readdirSync(logDir).sort(), names, 'no file was created');
  assert.is(digestDir(logDir), before, 'the directory is byte-identical');

  const r = await repairLog(logDir, { backupDir: join(tempDir(), 'b') });
  assert.is(r.cut?.offset, end);
  const q = await Producer.open({ logDir });
  assert.is(q.append('after'), end);
  await q.close();
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  const got: number[] = [];
  await again.nonblockingProcess(10, (m) => { got.push(m.offset); return 'commit'; });
  await again.close();
  assert.equal(got, [end], 'the consumer reads the record appended after the repair');
});

test.run();
