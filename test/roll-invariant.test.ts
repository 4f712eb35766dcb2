/**
 * A roll's new segment starts where the sealed one ends. The writer checks it before it creates the
 * new segment's file: a writer whose segment list and written offset disagree (a broken invariant,
 * forced here by hand) fails with ERR_INTERNAL naming the sealed segment, and the log directory gets
 * no segment that would overlap records or leave a gap.
 */
import * as assert from 'uvu/assert';
import { SimFS } from './sim/sim-fs.js';
import { Clock, LOG_DIR, SimLog, payload, simOptions } from './sim/sim-log.js';
import { SyncPolicy } from '../src/producer/options.js';
import { isLogError } from '../src/errors.js';
import type { SegmentInfo } from '../src/segment/segment-files.js';
import { suite } from './kit.js';

const test = suite('roll-invariant');

function segmentFiles(fs: SimFS): string[] {
  return fs.readdir(LOG_DIR).filter((n) => n.endsWith('.seg')).sort();
}

test('a roll whose sealed segment does not end at the written offset fails with ERR_INTERNAL and creates no segment', () => {
  const fs = new SimFS();
  const log = new SimLog(fs, simOptions(SyncPolicy.always()), new Clock());
  for (let i = 0; i < 5; i++) log.append(payload(i, 1, 20));
  log.pump();
  const list = (log.writer as unknown as { retention: { segments: SegmentInfo[] } }).retention.segments;
  const before = segmentFiles(fs);
  assert.equal(before.length, 1);
  list.at(-1)!.endOffset += 3; // the sealed segment claims three records more than were written
  let caught: unknown = null;
  try {
    log.writer.rollNow();
  } catch (e) {
    caught = e;
  }
  assert.ok(isLogError(caught), `a LogError, not ${String(caught)}`);
  assert.is((caught as { code: string }).code, 'ERR_INTERNAL');
  assert.match((caught as Error).message, /roll at written offset 5 .* end at offset 8/);
  assert.equal(segmentFiles(fs), before, 'no new segment file');
});

test('rolls on a consistent writer pass the check: each new segment starts at the end of the one before', () => {
  const fs = new SimFS();
  const log = new SimLog(fs, simOptions(SyncPolicy.always()), new Clock());
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 3; i++) log.append(payload(round * 3 + i, 1, 20));
    log.pump();
    assert.ok(log.writer.rollNow() !== null);
  }
  const list = log.writer.segmentList();
  assert.equal(list.map((s) => [s.baseOffset, s.endOffset]), [[0, 3], [3, 6], [6, 9], [9, 12], [12, 12]]);
});

test.run();
