/**
 * The funnel's frame reader (src/funnel/wire.ts) holds about the bytes it still buffers: a frame
 * that spans read chunks is joined into a buffer of its own size, and the start of the next frame
 * stays a view of the read chunk it came in. Joined with the next frame's start, the buffer of a
 * frame already handed out would stay in memory until that next frame is whole: two messages held
 * per connection where docs/funnel.md says one plus a read chunk. Two frames of 32 MiB arrive in
 * 64 KiB reads, the second all but its last 100 bytes; memory is measured after a collection.
 * Loads src/ only.
 */
import * as assert from 'uvu/assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FrameReader, MessageType, encodeFrame } from '../src/funnel/wire.js';
import { suite } from './kit.js';

const test = suite('funnel frame reader: memory held');
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const inUse = (): number => { gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
const MiB = 1024 * 1024;

test('after a whole frame is taken, the reader holds about the bytes still buffered', () => {
  const reader = new FrameReader(64 * MiB);
  const f1 = encodeFrame(MessageType.APPEND, Buffer.alloc(32 * MiB, 1));
  const f2 = encodeFrame(MessageType.APPEND, Buffer.alloc(32 * MiB, 2));
  const stream = Buffer.concat([f1, f2]);
  const CHUNK = 64 * 1024;
  const stop = f1.byteLength + f2.byteLength - 100;
  const before = inUse();
  let frames = 0;
  for (let at = 0; at < stop; at += CHUNK) {
    reader.push(Buffer.from(stream.subarray(at, Math.min(at + CHUNK, stop)))); // each read a buffer of its own
    for (let f = reader.next(); f !== null; f = reader.next()) {
      if (typeof f === 'string') throw new Error(f);
      assert.is(f.body.byteLength, 32 * MiB);
      assert.is(f.body[0], 1);
      frames++;
    }
  }
  const grown = inUse() - before;
  process.stdout.write(`#   frames out ${frames}, buffered ${(reader.bufferedBytes / MiB).toFixed(1)} MiB, memory held ${(grown / MiB).toFixed(1)} MiB\n`);
  assert.is(frames, 1);
  assert.ok(grown < reader.bufferedBytes + 8 * MiB, `holds ${(grown / MiB).toFixed(1)} MiB for ${(reader.bufferedBytes / MiB).toFixed(1)} MiB buffered`);
  // The rest arrives: the second frame is whole and intact.
  reader.push(Buffer.from(stream.subarray(stop)));
  const f = reader.next();
  assert.ok(f !== null && typeof f !== 'string' && f.body.byteLength === 32 * MiB && f.body[0] === 2 && f.body[32 * MiB - 1] === 2);
  assert.is(reader.next(), null);
});

test('frames cut at every byte boundary come out whole', () => {
  const bodies = [Buffer.from('a'), Buffer.alloc(1000, 7), Buffer.from('hello'), Buffer.alloc(70_000, 9)];
  const stream = Buffer.concat(bodies.map((b) => encodeFrame(MessageType.APPEND, b)));
  for (const size of [1, 2, 3, 7, 13, 4096, 65_536]) {
    const reader = new FrameReader(MiB);
    const out: Buffer[] = [];
    for (let at = 0; at < stream.byteLength; at += size) {
      reader.push(Buffer.from(stream.subarray(at, at + size)));
      for (let f = reader.next(); f !== null; f = reader.next()) {
        if (typeof f === 'string') throw new Error(`${size}: ${f}`);
        out.push(Buffer.from(f.body));
      }
    }
    assert.equal(out.map((b) => b.toString('hex')), bodies.map((b) => b.toString('hex')), `reads of ${size} bytes`);
    assert.is(reader.bufferedBytes, 0);
  }
});

test.run();
