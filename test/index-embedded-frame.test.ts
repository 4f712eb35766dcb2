/**
 * An index entry that names a frame held whole in a record's payload (a log that stores another log's
 * bytes), with the offset that frame's header names: seeks by position and by time pass over the
 * entry (the frame before it does not end there) and start from the log's own frames, so every record
 * handed out is the log's. A seek by an entry that proves itself still starts there.
 */
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, type Whence as WhenceT } from '../dist/index.js';
import { suite, tempDir } from './kit.js';
import { countingIO, framesOf } from './reader-kit.js';
import { LogReader } from '../src/reader/log-reader.js';

const test = suite('index-embedded-frame');

/** A whole, valid frame of one record `data` at `baseOffset`, stamped `timestampMs` (format 2, frame.ts). */
function frameOf(baseOffset: number, data: Buffer, timestampMs: number): Buffer {
  const frameBytes = 40 + 4 + data.byteLength + 4;
  const b = Buffer.alloc(frameBytes);
  const v = new DataView(b.buffer, b.byteOffset, frameBytes);
  v.setUint32(0, 0x48435242, true);
  v.setUint32(8, frameBytes, true);
  v.setUint32(12, 1, true);
  v.setBigUint64(16, BigInt(baseOffset), true);
  v.setFloat64(24, timestampMs, true);
  v.setBigUint64(32, 0n, true);
  v.setUint32(40, data.byteLength, true);
  data.copy(b, 44);
  v.setUint32(frameBytes - 4, frameBytes, true);
  v.setUint32(4, crc32(b.subarray(40, frameBytes - 4), crc32(b.subarray(8, 40))), true);
  return b;
}

const SEG = '00000000000000000000.seg';
/** Record i of the log: 200 bytes, so that a scan of the segment reads far more than a seek from an entry. */
const rec = (i: number): string => `rec-${i}`.padEnd(200, '.');
const IDX = '00000000000000000000.idx';

/**
 * 100 records `rec(i)`, one frame each, record 10 holding a frame of offset 50 (stamped at time 1) as
 * its payload; the index replaced by `entries` ([offset, position], 'embedded' for that frame's position).
 */
async function logWithEmbeddedFrame(entries: Array<[number, number | 'embedded']>): Promise<string> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  const embedded = frameOf(50, Buffer.from('NOT-A-RECORD-OF-THIS-LOG'), 1);
  for (let i = 0; i < 100; i++) {
    p.append(i === 10 ? embedded : Buffer.from(rec(i)));
    await p.flush(); // one frame per record
  }
  await p.close();
  const at = readFileSync(join(logDir, SEG)).indexOf(embedded);
  assert.ok(at > 0, 'the payload is in the segment');
  const idx = Buffer.alloc(16 * entries.length);
  entries.forEach(([offset, position], i) => {
    idx.writeBigUInt64LE(BigInt(offset), 16 * i);
    idx.writeBigUInt64LE(BigInt(position === 'embedded' ? at : position), 16 * i + 8);
  });
  writeFileSync(join(logDir, IDX), idx);
  return logDir;
}

async function firstThree(logDir: string, whence: WhenceT): Promise<string[]> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(whence) });
  const got: string[] = [];
  try {
    for (const m of c.iter()) {
      got.push(`${m.offset}:${Buffer.from(m.data).toString()}`);
      if (got.length >= 3) break;
    }
  } finally {
    await c.close();
  }
  return got;
}

test('a seek by position passes over an entry naming a frame in a payload', async () => {
  const logDir = await logWithEmbeddedFrame([[50, 'embedded']]);
  assert.equal(await firstThree(logDir, Whence.position(50)), [`50:${rec(50)}`, `51:${rec(51)}`, `52:${rec(52)}`]);
});

test('behind such an entry, a seek starts at an earlier entry that proves itself', async () => {
  const frames = framesOf(await logWithEmbeddedFrame([])); // the same layout: records of the same sizes
  const logDir = await logWithEmbeddedFrame([[5, frames[5]!.pos], [50, 'embedded']]);
  assert.equal(await firstThree(logDir, Whence.position(60)), [`60:${rec(60)}`, `61:${rec(61)}`, `62:${rec(62)}`]);
});

test('a seek by time passes over an entry naming a frame in a payload', async () => {
  const logDir = await logWithEmbeddedFrame([[50, 'embedded']]);
  const frames = framesOf(logDir);
  // The first of the log's frames stamped at or after frame 30's time (frames can share a millisecond).
  const ms = frames[30]!.h.timestampMs;
  const first = frames.find((f) => f.h.timestampMs >= ms)!.h.baseOffset;
  const got = await firstThree(logDir, Whence.timestamp(ms));
  assert.is(got[0], `${first}:${rec(first)}`);
});

test('an entry whose frame follows the frame before it is used as before', async () => {
  const frames = framesOf(await logWithEmbeddedFrame([]));
  const logDir = await logWithEmbeddedFrame([[40, frames[40]!.pos], [60, frames[60]!.pos]]);
  assert.equal(await firstThree(logDir, Whence.position(61)), [`61:${rec(61)}`, `62:${rec(62)}`, `63:${rec(63)}`]);
  const counter = countingIO();
  const reader = new LogReader(counter.io, logDir);
  try {
    reader.seek(61);
    assert.is(reader.read(Infinity, false)?.offset, 61);
    assert.ok(counter.bytesRead() < 20 * 250, `read ${counter.bytesRead()} bytes: from entry 60, not from the segment's start`);
  } finally {
    reader.close();
  }
  const own = framesOf(logDir);
  const ms = own[70]!.h.timestampMs;
  const first = own.find((f) => f.h.timestampMs >= ms)!.h.baseOffset;
  assert.is((await firstThree(logDir, Whence.timestamp(ms)))[0], `${first}:${rec(first)}`);
});

test.run();
