/**
 * `<base>.seg.new` files (segments whose creation was interrupted) are removed by recovery only once
 * it has checked everything and will succeed: an open refused for damage elsewhere (a gap in the
 * chain, records durable.offset promised that are gone, another unfinished segment that is a
 * directory) leaves the directory as it was, the leftover included. An open that succeeds removes
 * them, also when it creates the log's first segment or starts its only one again.
 */
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer } from '../dist/index.js';
import { digestDir, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('recovery-unfinished-segment');

const LEFTOVER = '00000000000000099999.seg.new';

/** A closed log of 45 records over three 1 KiB segments, the newest holding records, and its segment names, oldest first. */
async function threeSegmentLog(): Promise<{ logDir: string; segs: string[] }> {
  // The writer rolls after the frame that reaches fileRollSize, so the frames decide whether the newest
  // segment holds records. Each batch of 10 is one frame of about 800 bytes (written before the next
  // batch is appended): rolls after 20 and 40 records, the last 5 in the newest segment, however the
  // writer is scheduled.
  const logDir = tempDir();
  const p = await Producer.open({ logDir, fileRollSize: 1024 });
  for (let i = 0; i < 45; i += 10) {
    p.appendBatch(Array.from({ length: Math.min(10, 45 - i) }, (_, k) => `record ${i + k} ${'x'.repeat(60)}`));
    await p.flush();
  }
  await p.close();
  const segs = readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort();
  assert.equal(segs.map((n) => Number.parseInt(n, 10)), [0, 20, 40]);
  assert.ok(statSync(join(logDir, segs.at(-1)!)).size > 32, 'the newest segment holds records');
  return { logDir, segs };
}

/** A roll interrupted after its header was written: a whole header's worth of bytes under the temporary name. */
function leaveUnfinished(logDir: string, name = LEFTOVER): void {
  writeFileSync(join(logDir, name), Buffer.alloc(32, 7));
}

const refusals: Array<[string, (logDir: string, segs: string[]) => void]> = [
  ['a gap in the chain (a middle segment deleted)', (logDir, segs) => {
    leaveUnfinished(logDir);
    rmSync(join(logDir, segs[1]!));
  }],
  ['a tail cut below durable.offset', (logDir, segs) => {
    leaveUnfinished(logDir);
    truncateSync(join(logDir, segs.at(-1)!), 40);
  }],
  ['another unfinished segment, named after it, is a directory', (logDir) => {
    leaveUnfinished(logDir, '00000000000000099998.seg.new');
    mkdirSync(join(logDir, LEFTOVER));
  }],
];

for (const [what, damage] of refusals) {
  test(`a refused open (${what}) leaves the unfinished segment and everything else as it was`, async () => {
    const { logDir, segs } = await threeSegmentLog();
    assert.ok(existsSync(join(logDir, 'durable.offset')));
    damage(logDir, segs);
    const before = digestDir(logDir);
    const e = await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_CORRUPT');
    assert.is(digestDir(logDir), before, `the directory is as it was after: ${e.message}`);
  });
}

test('an open that succeeds removes the unfinished segment and reports it', async () => {
  const { logDir } = await threeSegmentLog();
  leaveUnfinished(logDir);
  const p = await Producer.open({ logDir });
  assert.equal(p.recovery.removed, [LEFTOVER]);
  assert.is(p.nextOffset, 45);
  await p.close();
  assert.not.ok(existsSync(join(logDir, LEFTOVER)));
});

test('a directory holding only an unfinished segment 0: it is removed and segment 0 created', async () => {
  const logDir = tempDir();
  leaveUnfinished(logDir, '00000000000000000000.seg.new');
  const p = await Producer.open({ logDir });
  assert.equal(p.recovery.removed, ['00000000000000000000.seg.new']);
  assert.is(p.append('r0'), 0);
  await p.close();
  assert.equal(readdirSync(logDir).filter((n) => n.includes('.seg')), ['00000000000000000000.seg']);
});

test('the only segment a torn roll, beside its own unfinished file: both go, and the segment starts again', async () => {
  const logDir = tempDir();
  const seg = '00000000000000000000.seg';
  writeFileSync(join(logDir, seg), Buffer.alloc(10));
  leaveUnfinished(logDir, `${seg}.new`);
  const p = await Producer.open({ logDir });
  assert.equal([...p.recovery.removed].sort(), [seg, `${seg}.new`].sort());
  assert.is(p.append('r0'), 0);
  await p.close();
  assert.equal(readdirSync(logDir).filter((n) => n.includes('.seg')), [seg]);
});

test.run();
