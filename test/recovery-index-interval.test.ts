/**
 * The index the writer keeps after a recovery follows the same interval rule as one written in one
 * go: an entry for the first frame at least `indexIntervalBytes` past the last indexed position, or
 * past the header when the segment has no entry yet. A reopen must not leave a longer stretch
 * without an entry (a longer scan for every seek into it).
 */
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';
import { SEGMENT_HEADER_BYTES } from '../src/format/frame.js';
import { parseSegment } from './corruption-kit.js';
import { suite, tempDir } from './kit.js';

const test = suite('recovery-index-interval');

const SEG = '00000000000000000000.seg';
const IDX = '00000000000000000000.idx';
const INTERVAL = 1024;

/** The positions of the index entries, and the positions of the frames. */
function layout(dir: string): { entries: number[]; frames: number[] } {
  const idx = readFileSync(join(dir, IDX));
  const entries = Array.from({ length: idx.length / 16 }, (_, i) => Number(idx.readBigUInt64LE(i * 16 + 8)));
  const frames = parseSegment(SEG, readFileSync(join(dir, SEG))).frames.map((f) => f.pos);
  return { entries, frames };
}

/** The entries the interval rule gives for frames at `frames`. */
function expectedEntries(frames: readonly number[]): number[] {
  const out: number[] = [];
  let last = SEGMENT_HEADER_BYTES;
  for (const pos of frames) {
    if (pos - last >= INTERVAL) {
      out.push(pos);
      last = pos;
    }
  }
  return out;
}

async function append(dir: string, from: number, n: number): Promise<void> {
  const p = await Producer.open({ logDir: dir, syncPolicy: SyncPolicy.always(), indexIntervalBytes: INTERVAL });
  for (let i = from; i < from + n; i++) {
    p.append(`record ${i} ${'x'.repeat(100)}`);
    await p.flush();
  }
  await p.close();
}

test('a reopen of a segment with no index entry yet indexes from the header, as a single run does', async () => {
  const dir = tempDir();
  await append(dir, 0, 5); // about 750 bytes: below the interval, no entry
  assert.equal(layout(dir).entries, []);
  await append(dir, 5, 30);
  const { entries, frames } = layout(dir);
  assert.equal(entries, expectedEntries(frames));
});

test('a reopen of a segment with index entries goes on from the last one', async () => {
  const dir = tempDir();
  await append(dir, 0, 12);
  assert.ok(layout(dir).entries.length > 0);
  await append(dir, 12, 30);
  const { entries, frames } = layout(dir);
  assert.equal(entries, expectedEntries(frames));
});

test('after a torn tail is cut, the rebuilt and appended entries follow the interval rule', async () => {
  const dir = tempDir();
  await append(dir, 0, 5);
  const seg = join(dir, SEG);
  const b = readFileSync(seg);
  writeFileSync(seg, Buffer.concat([b, Buffer.alloc(3000)])); // a zero-filled tail
  await append(dir, 5, 30);
  const { entries, frames } = layout(dir);
  assert.equal(entries, expectedEntries(frames));
});

test.run();
