/**
 * Recovery starts its scan of the active segment only from an index entry that proves itself as the
 * readers' entries do (the frame before it ends there and chains to its offset), and takes a frame's
 * durable position as proof only when it does not lie past the frame's own start. An index entry
 * naming a whole frame stored inside a record's payload (the index is never fsynced: any bytes may
 * be in it) costs a longer scan, never a record.
 */
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';
import { SEGMENT_HEADER_BYTES, decodeFrameHeader } from '../src/format/frame.js';
import { encodeIndexEntries } from '../src/segment/offset-index.js';
import { readRecords, suite, tempDir } from './kit.js';

const test = suite('recovery-index-entry-proof');

const onlySegment = (dir: string): string => join(dir, readdirSync(dir).find((n) => n.endsWith('.seg'))!);

/** The last frame of a log written one flushed record at a time: offset 19, its durable position its own position. */
async function someFrame(): Promise<{ frame: Buffer; offset: number; durablePosition: number }> {
  const dir = tempDir();
  const p = await Producer.open({ logDir: dir, syncPolicy: SyncPolicy.always() });
  for (let i = 0; i < 20; i++) { p.append(`archived record ${i} ${'y'.repeat(50)}`); await p.flush(); }
  await p.close();
  const seg = readFileSync(onlySegment(dir));
  let last = SEGMENT_HEADER_BYTES;
  for (let pos = SEGMENT_HEADER_BYTES; pos < seg.length;) {
    const h = decodeFrameHeader(seg, pos);
    if (typeof h === 'string') throw new Error(h);
    last = pos;
    pos += h.frameBytes;
  }
  const h = decodeFrameHeader(seg, last) as Exclude<ReturnType<typeof decodeFrameHeader>, string>;
  return { frame: Buffer.from(seg.subarray(last, last + h.frameBytes)), offset: h.baseOffset, durablePosition: h.durablePosition };
}

test('an index entry naming a frame inside a record: recovery keeps every record', async () => {
  const e = await someFrame();
  const dir = tempDir();
  const p = await Producer.open({ logDir: dir });
  p.append('first');
  p.append(e.frame); // a record that stores another log's bytes
  p.append('third');
  await p.close(); // all three durable
  const seg = readFileSync(onlySegment(dir));
  const at = seg.indexOf(e.frame);
  assert.ok(at > SEGMENT_HEADER_BYTES && at <= e.durablePosition, `embedded frame at ${at}, its durable position ${e.durablePosition}`);
  writeFileSync(onlySegment(dir).replace(/\.seg$/, '.idx'), encodeIndexEntries([e.offset], [at]));
  const q = await Producer.open({ logDir: dir });
  try {
    assert.is(q.nextOffset, 3);
    assert.is(q.recovery.truncated, null);
  } finally {
    await q.close();
  }
  assert.equal((await readRecords(dir)).map((r) => r.offset), [0, 1, 2]);
  assert.equal(readFileSync(onlySegment(dir)), seg, 'the segment is unchanged');
});

test.run();
