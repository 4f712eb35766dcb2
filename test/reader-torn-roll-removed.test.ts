/**
 * A reader at the end of a segment meets a newer segment whose header is not whole (a roll a crash
 * left unfinished) and waits for it. The next producer's recovery removes that file and appends to the
 * segment before it, which is active again. The reader must go on reading that segment: every record
 * appended after the recovery, in order, none skipped, never a wait that lasts forever.
 */
import * as assert from 'uvu/assert';
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { logOf, suite } from './kit.js';

const test = suite('reader-torn-roll-removed');

const texts = (c: Consumer): string[] => [...c.iter()].map((m) => `${m.offset}:${Buffer.from(m.data).toString()}`);

for (const where of ['in the producer\'s process', 'after the producer closed (reading the files)']) {
  test(`records appended to the segment before a removed torn roll are read, ${where}`, async () => {
    const logDir = await logOf(5);
    const torn = join(logDir, `${String(5).padStart(20, '0')}.seg`);
    writeFileSync(torn, Buffer.alloc(10)); // a roll torn by a crash: no whole header
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    try {
      assert.is(texts(c).length, 5);
      assert.equal(texts(c), [], 'nothing more yet');
      const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
      assert.not.ok(existsSync(torn), 'recovery removed the torn roll');
      for (let i = 0; i < 3; i++) p.append(`after-${i}`);
      await p.flush();
      if (where.startsWith('after')) await p.close();
      try {
        assert.equal(texts(c), ['5:after-0', '6:after-1', '7:after-2']);
      } finally {
        if (!where.startsWith('after')) await p.close();
      }
    } finally {
      await c.close();
    }
  });
}

test('a consumer opened at the end while the torn roll is there reads what is appended after recovery removed it', async () => {
  const logDir = await logOf(5);
  const torn = join(logDir, `${String(5).padStart(20, '0')}.seg`);
  writeFileSync(torn, Buffer.alloc(10));
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.latest()) });
  try {
    assert.equal(texts(c), []);
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
    try {
      p.append('after-0');
      await p.flush();
      assert.equal(texts(c), ['5:after-0']);
    } finally {
      await p.close();
    }
  } finally {
    await c.close();
  }
});

test.run();
