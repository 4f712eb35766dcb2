/**
 * A log whose only segment holds no whole header (its records lost: a bad restore) and no
 * durable.offset, while a transactional cursor was committed at 40: Producer.open refuses
 * (ERR_LOG_CORRUPT naming the cursor file), and the refusal leaves the directory as it was. Before,
 * recovery first wrote a new empty segment over the torn one (and removed a leftover `.seg.new`),
 * then refused: a refused open changed the log.
 */
import * as assert from 'uvu/assert';
import { readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { digestDir, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('recovery-cursor-torn-only-segment');

test('cursor at 40, the only segment torn in its header, no durable.offset: refused, directory untouched', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  for (let i = 0; i < 40; i++) p.append(`record ${i}`);
  await p.close();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.nonblockingProcess(40, () => 'commit');
  await c.close();
  const segs = readdirSync(logDir).filter((n) => n.endsWith('.seg'));
  assert.equal(segs.length, 1);
  truncateSync(join(logDir, segs[0]!), 10); // less than a header
  rmSync(join(logDir, 'durable.offset'));
  writeFileSync(join(logDir, `${segs[0]}.new`), 'half a creation');

  const before = digestDir(logDir);
  const err = await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_CORRUPT');
  console.log('Producer.open:', err.message);
  assert.match(err.message, 'client.billing.cursor');
  assert.is(digestDir(logDir), before, 'the directory is byte-identical');
  rmSync(logDir, { recursive: true, force: true });
});

test.run();
