/**
 * LaneReader (pool workers): a reader that stopped after record k hands a hint to another reader,
 * which jumps there and reads on from any later offset, across frames and segments; a hint that does
 * not name a frame start is refused (the caller then skips or seeks), never taken for damage.
 */
import * as assert from 'uvu/assert';
import { LaneReader } from '../src/reader/lane-reader.js';
import { nodeFileIO } from '../src/storage/file-io.js';
import { suite, prng, tempDir } from './kit.js';
import { checkRecord, makeLog } from './reader-kit.js';

const test = suite('lane-reader');
const N = 6_000; // 200 B records: frames of 32 KiB, segments of 512 KiB (several of each)

test('a hint from one reader lets another jump to any later record, in and across segments', async () => {
  const logDir = await makeLog(tempDir(), N);
  const seed = Number(process.env.SEED ?? Date.now() % 100_000);
  const rnd = prng(seed);
  const a = new LaneReader(nodeFileIO, logDir);
  const b = new LaneReader(nodeFileIO, logDir);
  try {
    let at = 0;
    a.seek(0);
    for (let round = 0; round < 60; round++) {
      const stop = Math.min(N - 2, at + 1 + Math.floor(rnd() * 400));
      for (; at <= stop; at++) assert.is(a.read(Infinity, false)?.offset, at, `reader a reads record ${at} (SEED=${seed})`);
      const h = a.hint();
      assert.ok(h !== null && h.base <= at, `a hint at or below ${at} (SEED=${seed})`);
      const target = Math.min(N - 1, at + Math.floor(rnd() * 300));
      assert.ok(b.jumpTo(h!, target), `b jumps to ${target} from ${JSON.stringify(h)} (SEED=${seed})`);
      const m = b.read(Infinity, false);
      assert.is(m?.offset, target, `b reads record ${target} first (SEED=${seed})`);
      checkRecord(m!);
      if (at >= N - 2) break;
    }
  } finally {
    a.close();
    b.close();
  }
});

test('a hint that does not name a frame start is refused, and the reader still reads where it was', async () => {
  const logDir = await makeLog(tempDir(), N);
  const a = new LaneReader(nodeFileIO, logDir);
  const b = new LaneReader(nodeFileIO, logDir);
  try {
    a.seek(0);
    for (let i = 0; i < 1000; i++) a.read(Infinity, false);
    const h = a.hint()!;
    b.seek(10);
    assert.not.ok(b.jumpTo({ ...h, pos: h.pos + 1 }, 1000), 'a position inside a frame');
    assert.not.ok(b.jumpTo({ ...h, base: h.base + 1 }, 1000), 'an offset the frame does not start with');
    assert.not.ok(b.jumpTo(h, h.base - 1), 'a target below the hint');
    assert.is(b.read(Infinity, false)?.offset, 10, 'b reads on where it was');
  } finally {
    a.close();
    b.close();
  }
});

test.run();
