/**
 * The default dead-letter directory is named `<logDir>.dead-letter.<cursor name>`: with a long log
 * name and a long consumer id (each valid) that name can pass the 255 bytes a directory entry takes.
 * With retry.maxAttempts, Consumer.open refuses it with ERR_INVALID_OPTION naming retry.deadLetterDir
 * (and writes nothing), instead of every call that reaches a dead letter failing with ERR_IO and the
 * record never completing. Without maxAttempts no dead letter is written, and the open goes ahead;
 * with an explicit retry.deadLetterDir the dead letters go there.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Producer, Consumer, ConsumerStyle, decodeDeadLetter } from '../dist/index.js';
import { suite, tempDir, rejectsWith, digestDir } from './kit.js';

const test = suite('dead-letter-default-name');

test('a default dead-letter directory name past 255 bytes is refused at open when maxAttempts is set', async () => {
  const base = tempDir();
  const logDir = join(base, 'l'.repeat(200));
  const p = await Producer.open({ logDir });
  p.append('r0');
  p.append('r1');
  await p.close();
  const id = 'c'.repeat(100);
  const before = digestDir(base);
  const err = await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx(id), retry: { maxAttempts: 1 } }), 'ERR_INVALID_OPTION');
  assert.match(err.message, 'retry.deadLetterDir');
  assert.is(digestDir(base), before, 'nothing written');

  const plain = await Consumer.open({ logDir, style: ConsumerStyle.clientTx(id) });
  assert.equal(await plain.nonblockingProcess(1, () => 'commit'), { committed: 1, skipped: 0, retried: 0, stoppedBy: 'limit' });
  await plain.close();

  const deadLetterDir = join(base, 'dl');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx(id), retry: { maxAttempts: 1, deadLetterDir } });
  assert.equal(await c.nonblockingProcess(null, () => 'retry'), { committed: 0, skipped: 1, retried: 1, stoppedBy: 'end' });
  await c.close();
  const d = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx({ kind: 'oldest' }) });
  assert.equal([...d.iter()].map((m) => decodeDeadLetter(m.data).offset), [1]);
  await d.close();
});

test.run();
