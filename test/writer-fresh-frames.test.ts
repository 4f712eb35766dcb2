/**
 * The writer's fresh frames (I64.FRESH_FROM, src/ring/layout.ts) and a consumer in its process that
 * takes them without a new CRC check (docs/architecture.md, "Frames of this process's writer"): the
 * writer publishes its first frame's offset at open and the base of each segment it seals; a consumer
 * of the process (and a pool worker) checks every frame before that, so damage there is found while
 * the producer runs. A producer whose directory moved away from the path vouches for nothing of the
 * log found there, nor gives it its start (on this thread and on a worker thread started later).
 *
 * This file loads both copies of the library on purpose: the producer from dist/ (its writer thread
 * starts only from the build) and the consumer from src/, whose reader counters the test reads. The
 * consumer finds the producer through the process-wide registry both copies share (registry.ts).
 */
import * as assert from 'uvu/assert';
import { cpSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { Consumer as DistConsumer, ConsumerStyle as DistStyle, Producer, SyncPolicy, Whence as DistWhence } from '../dist/index.js';
import { Consumer, ConsumerStyle, Whence } from '../src/index.js';
import { controlViews } from '../src/ring/layout.js';
import { writerFramesOf } from '../src/ring/writer-frames.js';
import { clearReaderCaches } from '../src/reader/verified-cache.js';
import { parseSegmentName } from '../src/segment/segment-files.js';
import { rejectsWith, suite, tempDir, waitFor } from './kit.js';
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
  const first = await Producer.open({ logDir, ...OPTIONS });
  const fresh = writerFramesOf(controlViews(first.share().control));
  try {
    assert.is(fresh.freshFrom(), 0, 'a new log: every frame is the writer\'s');
    await appendAll(first, 0, 2000); // about 400 KiB: several rolls
    const segs = bases(logDir);
    assert.ok(segs.length >= 4, `${segs.length} segments`);
    assert.is(fresh.freshFrom(), segs[segs.length - 2], 'the base of the segment sealed last');
    assert.is(fresh.writtenEnd(), 2000);
  } finally {
    await first.close();
  }
  assert.is(fresh.freshFrom(), Infinity, 'a writer that stopped vouches for nothing');

  // Reopened with segments too large to roll on their own: the rolls below are asked for (roll()).
  const p = await Producer.open({ logDir, ...OPTIONS, fileRollSize: 64 * 1024 * 1024 });
  try {
    const again = writerFramesOf(controlViews(p.share().control));
    assert.is(again.freshFrom(), 2000, 'reopened: the recovered frames are not the writer\'s');
    await appendAll(p, 2000, 100); // into the recovered active segment
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

    // Sealing the recovered segment leaves the fresh start where it was; sealing one of its own moves it there.
    assert.ok((await p.roll()) !== null);
    assert.is(again.freshFrom(), 2000);
    await appendAll(p, 2100, 100);
    const sealed = await p.roll();
    assert.is(sealed?.sealed.baseOffset, 2100);
    assert.is(again.freshFrom(), 2100, 'the base of the segment sealed last');
  } finally {
    await p.close();
  }
});

/** The offset a `latest` consumer opened on a new worker thread (the library from dist/) starts at. */
async function latestOnThread(logDir: string): Promise<number> {
  const code = `const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.dist).then(async ({ Consumer, ConsumerStyle, Whence }) => {
      const c = await Consumer.open({ logDir: workerData.logDir, style: ConsumerStyle.nonTx(Whence.latest()) });
      parentPort.postMessage({ offset: c.nextOffset });
      await c.close();
    }).catch((e) => parentPort.postMessage({ error: String(e) }));`;
  const w = new Worker(code, { eval: true, workerData: { logDir, dist: new URL('../dist/index.js', import.meta.url).href } });
  try {
    const m = await new Promise<{ offset?: number; error?: string }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    if (m.error !== undefined) throw new Error(m.error);
    return m.offset!;
  } finally {
    await w.terminate();
  }
}

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
    // So by a pool worker, which reads the files itself beside the producer's shared memory.
    const c = await DistConsumer.open({ logDir, style: DistStyle.nonTx(DistWhence.oldest()) });
    try {
      await rejectsWith(c.blockingProcess(2000, new URL('./fixtures/pool-handler.mjs', import.meta.url), { workers: 1 }), 'ERR_LOG_CORRUPT');
    } finally {
      await c.close();
    }
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
    assert.ok(d.framesChecked >= frames.length, `${d.framesChecked} frames checked (the open's look at the end of the files included)`);
    // The moved producer writes on (a flush would fail: its sync finds its files gone from the path);
    // the log at the path ends where the copy ends, not where the moved producer does.
    for (let i = 2000; i < 2005; i++) p.append(payload(i));
    await waitFor(() => p.writtenOffset > 2000, 'the moved producer to write more records');
    const latest = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.latest()) });
    assert.is(latest.nextOffset, 2000, 'a start at the end of the log at the path');
    await latest.close();
    // So on a worker thread started now, which finds the producer in its environment data.
    assert.is(await latestOnThread(logDir), 2000, 'a start at the end of the log at the path, on another thread');
    const f = frames[frames.length - 2]!; // a frame the moved writer counted as fresh (while it ran)
    damage(f.path, f.pos + 100);
    clearReaderCaches();
    await rejectsWith(readLog(logDir, 2000), 'ERR_LOG_CORRUPT');
    // Its files are no longer at its path: its close says so (the records are in the moved directory).
    await rejectsWith(p.close(), 'ERR_LOG_CORRUPT');
  } finally {
    await p.close().catch(() => undefined); // after a failure above
    rmSync(`${logDir}-moved`, { recursive: true, force: true });
  }
});

test.run();
