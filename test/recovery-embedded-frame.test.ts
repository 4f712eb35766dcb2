/**
 * A torn tail whose unfinished record holds the bytes of a whole frame (a record that stores log
 * bytes: an archive, a mirror of another log) is cut like any torn tail: the embedded frame's durable
 * position lies past its own start, so recovery does not take it for proof that the torn bytes had
 * been fsynced. The control case's random payload is seeded: the seed is printed, SEED=<n> replays it.
 */
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';
import { SEGMENT_HEADER_BYTES, decodeFrameHeader } from '../src/format/frame.js';
import { encodeDurableHint } from '../src/storage/durable-hint.js';
import { prng, suite, tempDir } from './kit.js';

const test = suite('recovery-embedded-frame');
const SEED = Number(process.env.SEED ?? Date.now() % 1_000_000);
console.log(`recovery-embedded-frame: SEED=${SEED} (replays the random payload)`);

/** `n` bytes from the seeded PRNG. */
function randomPayload(n: number): Buffer {
  const random = prng(SEED);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
}

function onlySegment(dir: string): string {
  return join(dir, readdirSync(dir).find((n) => n.endsWith('.seg'))!);
}

/** The bytes of the last frame of a log written one flushed record at a time (its durablePosition is its own position). */
async function someFrame(): Promise<Buffer> {
  const dir = tempDir();
  const p = await Producer.open({ logDir: dir, syncPolicy: SyncPolicy.always() });
  for (let i = 0; i < 20; i++) { p.append(`archived record ${i} ${'y'.repeat(50)}`); await p.flush(); }
  await p.close();
  const seg = readFileSync(onlySegment(dir));
  let pos = SEGMENT_HEADER_BYTES;
  let last = pos;
  while (pos < seg.length) {
    const h = decodeFrameHeader(seg, pos);
    if (typeof h === 'string') throw new Error(h);
    last = pos;
    pos += h.frameBytes;
  }
  const h = decodeFrameHeader(seg, last) as Exclude<ReturnType<typeof decodeFrameHeader>, string>;
  console.log(`  embedded frame: ${h.frameBytes} bytes, durablePosition ${h.durablePosition}`);
  return seg.subarray(last, last + h.frameBytes);
}

/** A log of one flushed record, then a second record `payload` whose frame is torn (its last 2 bytes never landed; durable.offset says 1). */
async function tornTailCarrying(payload: Buffer): Promise<string> {
  const dir = tempDir();
  const p = await Producer.open({ logDir: dir, syncPolicy: SyncPolicy.always() });
  p.append('first');
  await p.flush();
  p.append(payload);
  await p.flush();
  await p.close();
  const seg = onlySegment(dir);
  truncateSync(seg, statSync(seg).size - 2); // the crash tore the last frame's trailer
  writeFileSync(join(dir, 'durable.offset'), encodeDurableHint(1)); // ... before its fsync: only record 0 was durable
  return dir;
}

async function open(dir: string): Promise<string> {
  try {
    const p = await Producer.open({ logDir: dir });
    const r = `ok nextOffset=${p.nextOffset} truncated=${JSON.stringify(p.recovery.truncated)}`;
    await p.close();
    return r;
  } catch (e) {
    return `${(e as { code?: string }).code}: ${(e as Error).message}`;
  }
}

test('a torn tail is cut whatever bytes its unfinished record holds', async () => {
  const frame = await someFrame();
  const control = await open(await tornTailCarrying(randomPayload(frame.length)));
  const embedded = await open(await tornTailCarrying(frame));
  console.log(`  random payload (SEED=${SEED}): ${control}`);
  console.log(`  payload holding a frame: ${embedded}`);
  assert.ok(control.startsWith('ok nextOffset=1'), control);
  assert.ok(embedded.startsWith('ok nextOffset=1'), embedded);
});

test.run();
