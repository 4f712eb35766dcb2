/**
 * A seek by time does not pass silently over a frame whose timestamp field is damaged (reads 0, so
 * the search takes it for older than the time): seeking to that frame's real time starts the reader
 * where it meets the damage (ERR_LOG_CORRUPT), for a frame in the middle of a segment, the first
 * frame of a segment and the last frame of a sealed segment. On the undamaged log the same seeks
 * start at that frame's first record.
 */
import * as assert from 'uvu/assert';
import { closeSync, openSync, readSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';

const test = suite('time-seek-damaged-frame');

interface Frame { readonly at: number; readonly base: number; readonly ts: number }

/** A closed log of 50 one-record frames with distinct timestamps, on segments of about 1 KiB. */
async function logOfDistinctTimes(): Promise<string> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024 });
  for (let i = 0; i < 50; i++) {
    const before = Date.now();
    await waitFor(() => Date.now() > before, 'the clock to move');
    p.append(`rec-${i}`);
    await p.flush();
  }
  await p.close();
  return logDir;
}

function segmentPath(logDir: string, i: number): string {
  return join(logDir, readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort()[i]!);
}

/** The frames of a segment, from their headers. */
function framesOf(seg: string): Frame[] {
  const fd = openSync(seg, 'r');
  const head = Buffer.alloc(40);
  const frames: Frame[] = [];
  for (let at = 32; readSync(fd, head, 0, 40, at) === 40; at += head.readUInt32LE(8)) {
    frames.push({ at, base: Number(head.readBigUInt64LE(16)), ts: head.readDoubleLE(24) });
  }
  closeSync(fd);
  return frames;
}

/** The offset of the first record a consumer opened at Whence.timestamp(ms) reads, or the error code. */
async function firstAt(logDir: string, ms: number): Promise<string> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.timestamp(ms)) });
  try {
    const first = c.iter().next().value;
    return first === undefined ? 'nothing' : `record ${first.offset}`;
  } catch (e) {
    return `${(e as { code?: string }).code}`;
  } finally {
    await c.close();
  }
}

for (const [where, segment, pick] of [
  ['in the middle of a segment', 0, (f: Frame[]) => f[3]!],
  ['first of a segment', 1, (f: Frame[]) => f[0]!],
  ['last of a sealed segment', 0, (f: Frame[]) => f.at(-1)!],
] as const) {
  test(`the frame ${where}, its timestamp field zeroed`, async () => {
    const logDir = await logOfDistinctTimes();
    const seg = segmentPath(logDir, segment);
    const frames = framesOf(seg);
    const f = pick(frames);
    const i = frames.indexOf(f);
    assert.ok((i === 0 || frames[i - 1]!.ts < f.ts) && (i === frames.length - 1 || f.ts < frames[i + 1]!.ts), 'distinct timestamps');
    assert.is(await firstAt(logDir, f.ts), `record ${f.base}`);
    const fd = openSync(seg, 'r+');
    writeSync(fd, Buffer.alloc(8), 0, 8, f.at + 24);
    closeSync(fd);
    assert.is(await firstAt(logDir, f.ts), 'ERR_LOG_CORRUPT');
  });
}

test.run();
