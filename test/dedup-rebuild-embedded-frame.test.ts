/**
 * The dedup window's rebuild from a sealed segment whose index entry names a frame held whole in a
 * record's payload (a log that stores another log's bytes), with the offset that frame's header
 * names: the index is derived data, so the rebuild passes over that entry (the frame before it does
 * not end there), as the readers do, and scans from an entry that proves itself or the segment's
 * first frame. It must neither refuse the open nor read the payload's frame as the log's records.
 */
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Producer, SyncPolicy } from '../dist/index.js';
import { readTexts, suite, tempDir } from './kit.js';

const test = suite('dedup-rebuild-embedded-frame');

/** A whole, valid frame of one record `data` at `baseOffset` (format 2, frame.ts). */
function frameOf(baseOffset: number, data: Buffer): Buffer {
  const frameBytes = 40 + 4 + data.byteLength + 4;
  const b = Buffer.alloc(frameBytes);
  const v = new DataView(b.buffer, b.byteOffset, frameBytes);
  v.setUint32(0, 0x48435242, true);
  v.setUint32(8, frameBytes, true);
  v.setUint32(12, 1, true);
  v.setBigUint64(16, BigInt(baseOffset), true);
  v.setFloat64(24, 1, true);
  v.setBigUint64(32, 0n, true);
  v.setUint32(40, data.byteLength, true);
  data.copy(b, 44);
  v.setUint32(frameBytes - 4, frameBytes, true);
  v.setUint32(4, crc32(b.subarray(40, frameBytes - 4), crc32(b.subarray(8, 40))), true);
  return b;
}

const SEG = '00000000000000000000.seg';
const IDX = '00000000000000000000.idx';

test('an index entry naming a frame in a payload: the window is rebuilt from the log\'s own frames, the open not refused', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), dedupWindow: { records: 1000 } });
  const embedded = frameOf(50, Buffer.from('NOT-A-RECORD-OF-THIS-LOG'));
  for (let i = 0; i < 100; i++) {
    p.append(i === 10 ? embedded : `rec-${i}`, { dedupKey: `k${i}` });
    await p.flush(); // one frame per record
  }
  await p.roll(); // segment 0 sealed: recovery does not rewrite its index
  p.append('rec-100', { dedupKey: 'k100' });
  await p.close();
  const at = readFileSync(join(logDir, SEG)).indexOf(embedded);
  assert.ok(at > 0, 'the payload is in the segment');
  const idx = Buffer.alloc(16);
  idx.writeBigUInt64LE(50n, 0);
  idx.writeBigUInt64LE(BigInt(at), 8);
  writeFileSync(join(logDir, IDX), idx);

  // The window's first offset, 101 - 40 = 61, lies past the entry's offset (50).
  const q = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), dedupWindow: { records: 40 } });
  try {
    assert.is(q.append('again', { dedupKey: 'k70' }), 70, 'a key in the window gives its record\'s offset');
    assert.is(q.append('again', { dedupKey: 'k100' }), 100);
    assert.is(q.nextOffset, 101, 'nothing appended');
  } finally {
    await q.close();
  }
  assert.is((await readTexts(logDir)).length, 101);
});

test.run();
