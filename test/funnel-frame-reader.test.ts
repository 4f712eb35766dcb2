/**
 * The funnel's frame reader (src/funnel/wire.ts) fed a few bytes at a time, as a client that trickles
 * a frame makes the owner read it: what it holds stays near the bytes buffered (one Buffer per read
 * piece made 1 MiB held cost over 200 MB), and frames cut at random points come out whole and in
 * order. SEED=<n> replays the random cut.
 */
import * as assert from 'uvu/assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FrameReader, MessageType, encodeFrame, type Frame } from '../src/funnel/wire.js';
import { prng, suite } from './kit.js';

const test = suite('funnel-frame-reader');
const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap and array buffers in use after a full collection. */
function inUse(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

test('1 MiB of a frame pushed a byte at a time holds a few MB, not one Buffer per byte', () => {
  const bytes = 1024 * 1024;
  const reader = new FrameReader(4 * bytes);
  const frame = encodeFrame(MessageType.APPEND, Buffer.alloc(2 * bytes, 7));
  const before = inUse();
  for (let i = 0; i < 8 + bytes; i++) {
    const piece = Buffer.allocUnsafeSlow(1); // a read of its own, as a socket gives it
    piece[0] = frame[i]!;
    reader.push(piece);
    assert.is(reader.next(), null);
  }
  const grown = inUse() - before;
  assert.is(reader.bufferedBytes, 8 + bytes);
  assert.ok(grown < 16 * bytes, `holding ${bytes} bytes grew memory by ${(grown / 1e6).toFixed(1)} MB`);
});

test('frames cut at random points come out whole, in order', () => {
  console.log(`funnel-frame-reader: SEED=${seed}`);
  const random = prng(seed);
  const frames = Array.from({ length: 300 }, (_, i) => encodeFrame(MessageType.APPEND, Buffer.alloc(Math.floor(random() * 70_000), i)));
  const stream = Buffer.concat(frames);
  const reader = new FrameReader(1024 * 1024);
  const out: Frame[] = [];
  for (let at = 0; at < stream.byteLength;) {
    const cut = random() < 0.5 ? 1 + Math.floor(random() * 8) : 1 + Math.floor(random() * 40_000);
    reader.push(Buffer.from(stream.subarray(at, at + cut)));
    at += cut;
    for (let f = reader.next(); f !== null; f = reader.next()) {
      if (typeof f === 'string') throw new Error(f);
      out.push(f);
    }
  }
  assert.is(out.length, frames.length);
  for (const [i, f] of out.entries()) assert.ok(f.body.equals(frames[i]!.subarray(9)), `frame ${i} whole`);
  assert.is(reader.bufferedBytes, 0);
});

test.run();
