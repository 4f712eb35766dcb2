/**
 * A segment the directory lists but that cannot be opened (a dangling link: segments moved to a
 * disk that is not mounted) is damage to a search by time, as it is to a read. The search took it
 * for a segment retention had deleted, older than any time: `Whence.timestamp` of a time before it
 * started past it, passing over the readable records before it at or after the time and the whole
 * missing segment without a word, and `resetCursor` to such a time committed that start. Both now
 * fail with ERR_LOG_CORRUPT naming the segment, and the reset leaves the directory as it was.
 */
import * as assert from 'uvu/assert';
import { readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, ErrorCode, Producer, Whence, resetCursor } from '../dist/index.js';
import { useFileClock } from './file-clock.js';
import { listing, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('time seek: a listed segment that cannot be opened');
const T0 = 1_800_000_000_000;
const setClock = useFileClock(T0);

/** 35 records, record i stored at T0 + 10 i, in segments of about 7 records; the third one dangling. */
async function logWithDanglingSegment(): Promise<{ logDir: string; dangling: string }> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, fileRollSize: 1024 });
  for (let i = 0; i < 35; i++) {
    setClock(T0 + i * 10);
    p.append(`record ${i} ${'x'.repeat(100)}`);
    await p.flush();
  }
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('r') });
  await c.nonblockingProcess(3, () => 'commit');
  await c.close();
  await p.close();
  const segs = readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort();
  assert.ok(segs.length >= 5, `${segs.length} segments`);
  const dangling = segs[2]!;
  rmSync(join(logDir, dangling));
  symlinkSync(join('/nonexistent', dangling), join(logDir, dangling));
  return { logDir, dangling };
}

test('Whence.timestamp of a time before the dangling segment: ERR_LOG_CORRUPT naming it', async () => {
  const { logDir, dangling } = await logWithDanglingSegment();
  for (const i of [1, 5, 8, 12]) {
    const e = await rejectsWith(async () => {
      const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.timestamp(T0 + i * 10)) });
      try {
        const first = c.iter().next();
        assert.unreachable(`time of record ${i}: started at ${first.done === true ? 'the end' : first.value.offset}`);
      } finally {
        await c.close();
      }
    }, ErrorCode.LOG_CORRUPT);
    assert.ok(e.message.includes(dangling), e.message);
  }
});

test('resetCursor to a time before it: ERR_LOG_CORRUPT, the cursor and the directory as they were', async () => {
  const { logDir } = await logWithDanglingSegment();
  const cursorsDir = join(logDir, 'cursors');
  const before = [readdirSync(logDir).sort(), listing(cursorsDir)];
  await rejectsWith(resetCursor(logDir, 'r', { to: { timestamp: T0 + 50 } }), ErrorCode.LOG_CORRUPT);
  assert.equal([readdirSync(logDir).sort(), listing(cursorsDir)], before);
});

test.run();
