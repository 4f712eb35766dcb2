/**
 * Recovery never starts its scan of the active segment inside a record's payload. A record may store
 * whole frames of another log, two in a row: the second then passes every check an index entry's
 * frame gets (the frame before it ends there and chains to its offset; whole, CRC included; a durable
 * position not past its own start), and the index is never fsynced, so any bytes may be in it. A scan
 * started there meets the host frame's trailer where the stored frames end: it must not take that for
 * a torn tail (cutting the records after it) nor for damage (refusing a healthy log).
 */
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES } from '../src/format/frame.js';
import { encodeIndexEntries } from '../src/segment/offset-index.js';
import { FrameBuilder } from '../src/writer/frame-builder.js';
import { readRecords, suite, tempDir } from './kit.js';

const test = suite('recovery-embedded-start');

const onlySegment = (dir: string): string => join(dir, readdirSync(dir).find((n) => n.endsWith('.seg'))!);

/** One valid frame of one record `text` at offset `offset`, stamped with durable position `durable`. */
function frame(offset: number, text: string, durable: number): Buffer {
  const payload = Buffer.from(text);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(payload.length, 0);
  const frameBytes = FRAME_HEADER_BYTES + 4 + payload.length + 4;
  const b = new FrameBuilder();
  b.build([len, payload], frameBytes, 1, offset, 1_700_000_000_000, durable);
  return Buffer.concat([b.header, len, payload, b.trailer]);
}

/**
 * A record storing two frames of another log (offsets `offset - 1` and `offset`): the second's
 * durable position is filled in once its place in the segment is known (`durableAt(position)`).
 */
function storedPair(offset: number, durableAt: (position: number) => number, at: number): Buffer {
  const first = frame(offset - 1, 'stored frame one', SEGMENT_HEADER_BYTES);
  return Buffer.concat([first, frame(offset, 'stored frame two', durableAt(at + first.length))]);
}

/** Where the second stored frame of `pair` (written as a record) lies in segment bytes `seg`. */
function secondFrameAt(seg: Buffer, pair: Buffer): number {
  const at = seg.indexOf(pair);
  assert.ok(at > SEGMENT_HEADER_BYTES, 'the stored frames are in the segment');
  return at + (pair.length - frame(0, 'stored frame two', 0).length);
}

/** Positions of the frames of segment bytes `seg`, in order. */
function framePositions(seg: Buffer): number[] {
  const out: number[] = [];
  for (let pos = SEGMENT_HEADER_BYTES; pos < seg.length; pos += seg.readUInt32LE(pos + 8)) out.push(pos);
  return out;
}

/** The open recovers the 10 records whole: nothing cut, every offset read back. */
async function opensWhole(dir: string): Promise<void> {
  const q = await Producer.open({ logDir: dir });
  try {
    assert.is(q.nextOffset, 10);
    assert.is(q.recovery.truncated, null);
  } finally {
    await q.close();
  }
  assert.equal((await readRecords(dir)).map((r) => r.offset), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
}

test('an entry naming a stored frame whose durable position is its own start: no record is cut', async () => {
  const dir = tempDir();
  const p = await Producer.open({ logDir: dir });
  for (let i = 0; i < 9; i++) { p.append(`record ${i}`); await p.flush(); }
  await p.close();
  // Record 9 (the last frame) stores frames 999 and 1000 of another log; its payload starts after a header and a length word.
  const pair = storedPair(1000, (position) => position, readFileSync(onlySegment(dir)).length + FRAME_HEADER_BYTES + 4);
  const p2 = await Producer.open({ logDir: dir });
  p2.append(pair);
  await p2.close();
  const seg = readFileSync(onlySegment(dir));
  const at = secondFrameAt(seg, pair);
  assert.is(seg.readUInt32LE(at + 32), at, 'the stored frame claims durable bytes up to its own start');
  writeFileSync(onlySegment(dir).replace(/\.seg$/, '.idx'), encodeIndexEntries([1000], [at]));
  await opensWhole(dir);
  assert.equal(readFileSync(onlySegment(dir)), seg, 'the segment is unchanged');
});

test('a later entry naming a stored frame with a small durable position: a healthy log opens', async () => {
  const dir = tempDir();
  const p = await Producer.open({ logDir: dir, syncPolicy: SyncPolicy.always() });
  // Record 1 stores frames 0 and 1 of another log; record 8 stores frames 6 and 7, the second stamped
  // durable up to the first stored pair's second frame (filled in once that place is known).
  const early = storedPair(1, () => SEGMENT_HEADER_BYTES, 0);
  for (const r of ['first', early, 'two', 'three', 'four', 'five', 'six', 'seven']) { p.append(r); await p.flush(); }
  await p.close();
  let seg = readFileSync(onlySegment(dir));
  const earlyAt = secondFrameAt(seg, early);
  const later = storedPair(7, () => earlyAt, 0);
  const p2 = await Producer.open({ logDir: dir, syncPolicy: SyncPolicy.always() });
  for (const r of [later, 'nine']) { p2.append(r); await p2.flush(); }
  await p2.close();
  seg = readFileSync(onlySegment(dir));
  const laterAt = secondFrameAt(seg, later);
  const frame5 = framePositions(seg)[5]!; // its durable position is its own start (fsynced before it)
  writeFileSync(onlySegment(dir).replace(/\.seg$/, '.idx'), encodeIndexEntries([1, 5, 7], [earlyAt, frame5, laterAt]));
  await opensWhole(dir);
});

test.run();
