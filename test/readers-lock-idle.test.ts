/**
 * A consumer opened while its log had no durable.offset (the file lost in an OS crash) holds the
 * readers lock all the same: a repair run while that consumer sits idle is refused, so its position
 * past the cut can never pass over the records appended there after the repair.
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, Whence, repairLog } from '../dist/index.js';
import { digestDir, rejectsWith, suite, tempDir } from './kit.js';
import { damageThirdSegment } from './repair-kit.js';

const test = suite('readers-lock-idle');
const N = 400;


/** `n` records appended to `logDir` by a producer, in several segments; closed. */
async function append(logDir: string, n: number, tag: string): Promise<void> {
  const p = await Producer.open({ logDir, fileRollSize: 2048, indexIntervalBytes: 512 });
  for (let i = 0; i < n; i++) {
    p.append(`${tag}-${i}-${'y'.repeat(i % 40)}`);
    if (i % 7 === 6) await p.flush(); // several segments
  }
  await p.close();
}

for (const reopened of [false, true]) {
  test(`an idle nonTx consumer opened while durable.offset was lost keeps a repair out${reopened ? ' (a producer wrote the file again since)' : ''}`, async () => {
    const logDir = tempDir();
    await append(logDir, N, 'first');
    rmSync(join(logDir, 'durable.offset')); // lost in an OS crash
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.latest()) });
    let cutAt: number | null = null;
    try {
      if (reopened) await append(logDir, 0, 'none'); // the file is there again; the consumer has not looked since
      damageThirdSegment(logDir);
      const before = digestDir(logDir);
      try {
        const report = await repairLog(logDir, { backupDir: join(tempDir(), 'backup') });
        cutAt = report.cut?.offset ?? null;
      } catch (e) {
        assert.is((e as { code?: string }).code, 'ERR_LOG_LOCKED', String(e));
        assert.is(digestDir(logDir), before, 'the refused repair changed nothing');
      }
      if (cutAt !== null) {
        // The repair went on under the consumer: the records appended at the cut offsets must reach it.
        await append(logDir, N, 'after');
        const seen = [...c.iter()].map((m) => m.offset);
        assert.ok(seen.length === 0 || seen[0] === cutAt, `the consumer started at ${seen[0]} after a cut at ${cutAt}: records ${cutAt} to ${seen[0]! - 1} skipped`);
      }
    } finally {
      await c.close();
    }
    assert.is(cutAt, null, 'the repair ran while the consumer was open');
  });
}

test('an open refused on a log without durable.offset creates nothing', async () => {
  const empty = tempDir();
  await rejectsWith(Consumer.open({ logDir: empty, style: ConsumerStyle.nonTx(Whence.position(5)) }), 'ERR_INVALID_OPTION');
  assert.equal(readdirSync(empty), []);
  const foreign = tempDir();
  writeFileSync(join(foreign, 'notes.txt'), 'mine');
  await rejectsWith(Consumer.open({ logDir: foreign, style: ConsumerStyle.nonTx(Whence.oldest()) }), 'ERR_INVALID_OPTION');
  assert.equal(readdirSync(foreign), ['notes.txt']);
  // A symbolic link to nothing at durable.offset is not followed to create its target.
  const linked = tempDir();
  const target = join(tempDir(), 'elsewhere');
  await append(linked, 3, 'z');
  rmSync(join(linked, 'durable.offset'));
  symlinkSync(target, join(linked, 'durable.offset'));
  const l = await Consumer.open({ logDir: linked, style: ConsumerStyle.nonTx(Whence.oldest()) });
  await l.close();
  assert.ok(!existsSync(target), 'no file created through the link');
  // Opened: the file is there, empty, and a producer writes its offset in place.
  const c = await Consumer.open({ logDir: empty, style: ConsumerStyle.clientTx('idle') });
  try {
    assert.is(readFileSync(join(empty, 'durable.offset')).length, 0);
    await append(empty, 10, 'x');
    assert.is(readFileSync(join(empty, 'durable.offset')).length, 12);
    assert.is([...c.iter()].length, 10);
  } finally {
    await c.close();
  }
});

test.run();
