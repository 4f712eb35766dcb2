/**
 * The writer's fresh frames (I64.FRESH_FROM, src/ring/layout.ts) and a consumer in its process that
 * takes them without a new CRC check (docs/architecture.md, "Frames of this process's writer"): the
 * writer publishes its first frame's offset at open and the base of each segment it seals; a consumer
 * of the process checks every frame before that, so damage there is found while the producer runs.
 *
 * This file loads both copies of the library on purpose: the producer from dist/ (its writer thread
 * starts only from the build) and the consumer from src/, whose reader counters the test reads. The
 * consumer finds the producer through the process-wide registry both copies share (registry.ts).
 */
import * as assert from 'uvu/assert';
import { cpSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { Producer, SyncPolicy } from '../dist/index.js';
import { Consumer, ConsumerStyle, Whence } from '../src/index.js';
import { controlViews } from '../src/ring/layout.js';
import { writerFramesOf } from '../src/ring/writer-frames.js';
import { clearReaderCaches } from '../src/reader/verified-cache.js';
import { parseSegmentName } from '../src/segment/segment-files.js';
import { rejectsWith, suite, tempDir } from './kit.js';
import { damage, framesOf, payload, track } from './reader-kit.js';

const test = suite('writer-fresh-frames');
const OPTIONS = { syncPolicy: SyncPolicy.never(), fileRollSize: 64 * 1024, maxBatchBytes: 16 * 1024, maxTotalBytes: null };

const bases = (logDir: string): number[] => readdirSync(logDir).map(parseSegmentName).filter((b): b is number => b !== null).sort((a, b) => a - b);

async function appendAll(p: Producer, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) p.append(payload(i));
  await p.flush();
}

/** Reads the log from the oldest record with a consumer from src/, checking each record's bytes. */
async function readLog(logDir: string, n: number): Promise<void> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    let i = 0;
    for (const m of c.iter()) {
      assert.is(m.offset, i);
      assert.is(Buffer.from(m.data).toString(), payload(i++));
    }
    assert.is(i, n);
  } finally {
    await c.close();
  }
}

test('the writer publishes its first frame, then the segment it sealed last; a consumer of the process checks every frame before', async () => {
  const logDir = tempDir();
  let p = await Producer.open({ logDir, ...OPTIONS });
  const fresh = writerFramesOf(controlViews(p.share().control));
  assert.is(fresh.freshFrom(), 0, 'a new log: every frame is the writer\'s');
  await appendAll(p, 0, 2000); // about 400 KiB: several rolls
  let segs = bases(logDir);
  assert.ok(segs.length >= 4, `${segs.length} segments`);
  assert.is(fresh.freshFrom(), segs[segs.length - 2], 'the base of the segment sealed last');
  assert.is(fresh.writtenEnd(), 2000);
  await p.close();
  assert.is(fresh.freshFrom(), Infinity, 'a writer that stopped vouches for nothing');

  p = await Producer.open({ logDir, ...OPTIONS });
  try {
    const again = writerFramesOf(controlViews(p.share().control));
    assert.is(again.freshFrom(), 2000, 'reopened: the recovered frames are not the writer\'s');
    await appendAll(p, 2000, 100); // no roll: fresh from the first frame of this writer
    assert.is(bases(logDir).length, segs.length);
    assert.is(again.freshFrom(), 2000);

    clearReaderCaches();
    const frames = framesOf(logDir);
    const delta = track();
    await readLog(logDir, 2100);
    const d = delta();
    const own = frames.filter((f) => f.h.baseOffset >= 2000).length;
    assert.ok(own >= 1);
    assert.is(d.framesFresh, own, 'the frames this writer wrote: taken on its word');
    assert.is(d.framesChecked, frames.length - own, 'the recovered ones: checked');

    await appendAll(p, 2100, 1500); // rolls on: fresh from the segment sealed last
    segs = bases(logDir);
    assert.is(again.freshFrom(), segs[segs.length - 2]);
  } finally {
    await p.close();
  }
});

test('damage in a frame before the writer\'s fresh ones is found while the producer runs', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, ...OPTIONS });
  try {
    await appendAll(p, 0, 2000);
    const fresh = writerFramesOf(controlViews(p.share().control)).freshFrom();
    const old = framesOf(logDir).filter((f) => f.h.baseOffset + f.h.recordCount <= fresh);
    assert.ok(old.length >= 3, `${old.length} frames before the fresh ones`);
    const f = old[Math.floor(old.length / 2)]!;
    damage(f.path, f.pos + 100);
    clearReaderCaches();
    await rejectsWith(readLog(logDir, 2000), 'ERR_LOG_CORRUPT');
  } finally {
    await p.close();
  }
});

test('a producer whose directory was moved away from the path vouches for nothing of the log found there', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, ...OPTIONS });
  try {
    await appendAll(p, 0, 2000);
    // Its directory moves away and a copy of its log (another directory, whose files the writer never
    // wrote) takes the path; a consumer opened now reads that copy.
    const moved = `${logDir}-moved`;
    renameSync(logDir, moved);
    cpSync(moved, logDir, { recursive: true });
    clearReaderCaches();
    const frames = framesOf(logDir);
    const delta = track();
    await readLog(logDir, 2000);
    const d = delta();
    assert.is(d.framesFresh, 0, 'nothing on the word of the writer of another directory');
    assert.is(d.framesChecked, frames.length);
    const f = frames[frames.length - 2]!; // a frame the moved writer counts as fresh
    damage(f.path, f.pos + 100);
    clearReaderCaches();
    await rejectsWith(readLog(logDir, 2000), 'ERR_LOG_CORRUPT');
  } finally {
    // Its files are no longer at its path: the close says so (the records are in the moved directory).
    await p.close().catch((e: Error & { code?: string }) => assert.is(e.code, 'ERR_LOG_CORRUPT'));
    rmSync(`${logDir}-moved`, { recursive: true, force: true });
  }
});

test.run();
