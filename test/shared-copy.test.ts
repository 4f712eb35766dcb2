/**
 * SharedCopy (src/ring/shared-copy.ts): copies into shared memory give the source's bytes at every
 * size and alignment, through the private buffer or straight, in parts past BOUNCE_CHUNK_BYTES, and
 * write nothing outside the target range. The producer's side is in test/ring.test.ts.
 */
import * as assert from 'uvu/assert';
import { BOUNCE_CHUNK_BYTES, BOUNCE_MIN_BYTES, SharedCopy } from '../src/ring/shared-copy.js';
import { prng, suite } from './kit.js';

const test = suite('shared-copy');

/** `n` bytes from `rand` in a view at `offset` of a larger buffer, so the view starts at any alignment. */
function source(rand: () => number, n: number, offset: number): Uint8Array {
  const b = new Uint8Array(n + offset + 8);
  for (let i = 0; i < b.length; i++) b[i] = (rand() * 256) | 0;
  return b.subarray(offset, offset + n);
}

test('random sizes and alignments: the target holds the source, and nothing around it changes', () => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  console.log(`shared-copy seed=${seed} (replay: SEED=${seed})`);
  const rand = prng(seed);
  const size = 3 * BOUNCE_CHUNK_BYTES + 64;
  const target = new Uint8Array(new SharedArrayBuffer(size + 16), 8, size);
  const copy = new SharedCopy(target);
  const sizes = [0, 1, BOUNCE_MIN_BYTES - 1, BOUNCE_MIN_BYTES, 4096, BOUNCE_CHUNK_BYTES, BOUNCE_CHUNK_BYTES + 1, 2 * BOUNCE_CHUNK_BYTES + 7];
  for (let i = 0; i < 200; i++) {
    const n = i < sizes.length * 8 ? sizes[i % sizes.length]! : Math.floor(rand() ** 3 * (2 * BOUNCE_CHUNK_BYTES));
    const src = source(rand, n, Math.floor(rand() * 8));
    const at = Math.floor(rand() * (size - n - 8)) + 4;
    target.fill(0xee, at - 4, at + n + 4);
    copy.copy(src, at);
    assert.ok(Buffer.from(target.buffer, target.byteOffset + at, n).equals(src), `case ${i}: ${n} bytes at ${at} from byteOffset ${src.byteOffset}`);
    for (const edge of [at - 4, at - 1, at + n, at + n + 3]) assert.is(target[edge], 0xee, `case ${i}: byte ${edge} outside the copy`);
  }
});

test('the private buffer stays at most BOUNCE_CHUNK_BYTES + 8 bytes', () => {
  const target = new Uint8Array(new SharedArrayBuffer(4 * BOUNCE_CHUNK_BYTES));
  const copy = new SharedCopy(target);
  const src = new Uint8Array(3 * BOUNCE_CHUNK_BYTES + 8).subarray(3);
  src.fill(7);
  copy.copy(src.subarray(0, 100), 5);
  assert.is(copy.privateBytes, 0, 'a short record goes straight');
  copy.copy(src, 5);
  const held = copy.privateBytes;
  assert.ok(held >= BOUNCE_CHUNK_BYTES + 5 && held <= BOUNCE_CHUNK_BYTES + 8, `private buffer of ${held} bytes`);
  assert.ok(target.subarray(5, 5 + src.byteLength).every((v) => v === 7));
});

test.run();
