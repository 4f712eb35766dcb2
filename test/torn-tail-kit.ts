/**
 * A log as a power loss can leave it: records made durable, then frames written and never fsynced, of
 * which the first is torn (zero-filled) while later ones and an index entry past it survived. Readers
 * in other processes must not take that index entry for the log's end, and the next producer's
 * recovery cuts the log at the torn frame (reader-index-past-torn-frame, recovering-stale-lock,
 * stale-lock-no-producer).
 */
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';
import { encodeHint, parseSegment } from './corruption-kit.js';
import { tempDir, waitFor } from './kit.js';

export const SEG = '00000000000000000000.seg';
const IDX = '00000000000000000000.idx';

/** 10 durable records, then 8 frames of about 250 bytes never fsynced, the first zero-filled; an index entry lies past it. */
export async function powerLossLog(): Promise<{ logDir: string; durable: number }> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), indexIntervalBytes: 512 });
  for (let i = 0; i < 10; i++) p.append(`durable-${i}`);
  await p.flush();
  const durable = p.durableOffset;
  for (let i = 0; i < 8; i++) {
    p.append(`unsynced-${i}-${'u'.repeat(200)}`);
    await waitFor(() => p.writtenOffset === p.nextOffset, 'the frame written');
  }
  await p.close();
  const b = readFileSync(join(logDir, SEG));
  const frames = parseSegment(SEG, b).frames;
  const tornIndex = frames.findIndex((f) => f.base === durable);
  const torn = frames[tornIndex]!;
  assert.ok(frames.at(-1)!.dp <= torn.pos, 'no later frame carries a durable position past the torn one');
  // An index entry at a frame whose predecessor is whole, after the torn frame.
  const idx = readFileSync(join(logDir, IDX));
  const entries = Array.from({ length: idx.length / 16 }, (_, i) => Number(idx.readBigUInt64LE(i * 16 + 8)));
  assert.ok(entries.some((pos) => frames.findIndex((f) => f.pos === pos) >= tornIndex + 2), `an index entry past the torn frame's successor: ${entries.join(',')}`);
  b.fill(0, torn.pos, torn.pos + torn.bytes);
  writeFileSync(join(logDir, SEG), b);
  writeFileSync(join(logDir, 'durable.offset'), encodeHint(durable));
  return { logDir, durable };
}

/** The segment bytes of a log that `fill` makes (SyncPolicy.always, one segment): frames to lay out a torn or rewritten tail with. */
export async function segmentBytes(fill: (p: Producer) => Promise<void>): Promise<Buffer> {
  const dir = tempDir();
  const p = await Producer.open({ logDir: dir, syncPolicy: SyncPolicy.always() });
  await fill(p);
  await p.close();
  return readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.seg'))!));
}

/** Five records in one frame: the first frame of the logs that segmentBytes lays out (reader-refill-rewritten, reader-proof-rewritten). */
export const FIRST_FIVE = Array.from({ length: 5 }, (_, i) => `r${i}`);

/** A log as the next producer's recovery leaves it: the first frame (FIRST_FIVE), then G (6000 bytes, fsynced) and G2, whose durable position lies past G's start. */
export function rewrittenTail(): Promise<Buffer> {
  return segmentBytes(async (p) => {
    p.appendBatch(FIRST_FIVE);
    await p.flush();
    p.append(Buffer.alloc(6000, 0x67));
    await p.flush();
    p.append('g2');
    await p.flush();
  });
}
