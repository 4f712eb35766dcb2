/**
 * LaneReader (pool workers): a reader that stopped after record k hands a hint to another reader,
 * which jumps there and reads on from any later offset, across frames and segments; a hint that does
 * not name a frame start is refused (the caller then skips or seeks), never taken for damage.
 */
import * as assert from 'uvu/assert';
import { LaneReader } from '../src/reader/lane-reader.js';
import { nodeFileIO } from '../src/storage/file-io.js';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { suite, prng, tempDir } from './kit.js';
import { checkRecord, makeLog } from './reader-kit.js';

const test = suite('lane-reader');
const N = 6_000; // 200 B records: frames of 32 KiB, segments of 512 KiB (several of each)

test('a hint from one reader lets another jump to any later record, in and across segments', async () => {
  const logDir = await makeLog(tempDir(), N);
  const seed = Number(process.env.SEED ?? Date.now() % 100_000);
  console.log(`  lane-reader: SEED=${seed} (replays the stops and targets)`);
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
      if (!b.jumpTo(h!, target)) {
        // Stopped after the last record of a segment, a reader's hint names that segment's end, where
        // no frame starts: refused, and the caller seeks. Any other hint is taken.
        const end = statSync(join(logDir, `${String(h!.seg).padStart(20, '0')}.seg`)).size;
        assert.is(h!.pos, end, `b jumps to ${target} from ${JSON.stringify(h)} (SEED=${seed})`);
        b.seek(target);
      }
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

/** A log of N records and its segments' base offsets, with a way to delete segments as retention does. */
async function segmentedLog(): Promise<{ logDir: string; bases: number[]; dropThrough(base: number): void }> {
  const logDir = await makeLog(tempDir(), N);
  const bases = readdirSync(logDir).filter((f) => f.endsWith('.seg')).map((f) => Number(f.slice(0, -4))).sort((x, y) => x - y);
  assert.ok(bases.length >= 3, `${bases.length} segments`);
  const dropThrough = (base: number): void => {
    for (const b of bases.filter((x) => x <= base)) for (const ext of ['.seg', '.idx']) rmSync(join(logDir, `${String(b).padStart(20, '0')}${ext}`));
  };
  return { logDir, bases, dropThrough };
}

test('a skip forward past segments retention deletes meanwhile: the record skipped to comes next, or ERR_POSITION_EXPIRED names it', async () => {
  // Into the third segment: its record comes next although the second one is gone.
  const one = await segmentedLog();
  const a = new LaneReader(nodeFileIO, one.logDir);
  try {
    a.seek(0);
    checkRecord(a.read(Infinity, false), 0);
    const target = one.bases[2]! + 7;
    assert.ok(a.skipTo(target));
    one.dropThrough(one.bases[1]!); // the first stays readable through the open descriptor
    checkRecord(a.read(Infinity, false), target);
  } finally {
    a.close();
  }
  // Into a deleted segment: the error names the offset skipped to and the new log start.
  const two = await segmentedLog();
  const b = new LaneReader(nodeFileIO, two.logDir);
  try {
    b.seek(0);
    checkRecord(b.read(Infinity, false), 0);
    const target = two.bases[1]! + 7;
    assert.ok(b.skipTo(target));
    two.dropThrough(two.bases[1]!);
    const e = (() => { try { return { read: b.read(Infinity, false)?.offset }; } catch (err) { return err as { code?: string; details?: unknown }; } })();
    assert.is((e as { code?: string }).code, 'ERR_POSITION_EXPIRED', `got ${JSON.stringify(e)}`);
    assert.equal((e as { details?: unknown }).details, { offset: target, logStartOffset: two.bases[2] });
  } finally {
    b.close();
  }
});

test.run();
