/**
 * Timestamps never decrease along the log, across restarts, while the writer's clock steps back
 * (test/fixtures/clock-io.mjs scripts it, seeded); Whence.timestamp(ms) starts at the first record
 * stored at or after ms, checked against a brute-force oracle over the whole log, with times before
 * the start (the oldest record) and after the end (the next record appended); and the seek reads a
 * few frame headers, never the log.
 */
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { suite, prng, rejectsWith, tempDir } from './kit.js';
import { damage } from './reader-kit.js';
import { framePerMillisecond } from './time-kit.js';
import { readTrace, withFaults } from './faults.js';
import { join } from 'node:path';
import { rmSync } from 'node:fs';

const test = suite('timestamps');

const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
console.log(`timestamps seed=${seed} (replay: SEED=${seed})`);
const CLOCK_IO = fileURLToPath(new URL('./fixtures/clock-io.mjs', import.meta.url));
const START_MS = 1_800_000_000_000;

/** Opens a producer whose writer thread runs on a scripted clock that steps back. */
async function producerOnClock(logDir: string, clockSeed: number, startMs: number, sizes = { fileRollSize: 2048, indexIntervalBytes: 512 }): Promise<Producer> {
  const saved = { io: process.env.REACTIVE_LOG_TEST_FILE_IO, clock: process.env.REACTIVE_LOG_CLOCK };
  process.env.REACTIVE_LOG_TEST_FILE_IO = CLOCK_IO;
  process.env.REACTIVE_LOG_CLOCK = JSON.stringify({ seed: clockSeed, startMs, tickMs: 20, backEvery: 25, backMs: 100 });
  try {
    return await Producer.open({ logDir, ...sizes, syncPolicy: SyncPolicy.never() });
  } finally {
    for (const [k, v] of [['REACTIVE_LOG_TEST_FILE_IO', saved.io], ['REACTIVE_LOG_CLOCK', saved.clock]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Appends `n` records in bursts of 1 to 8, each flushed: one frame per burst, one clock reading per frame at least. */
async function appendBursts(p: Producer, n: number, random: () => number): Promise<void> {
  for (let i = 0; i < n;) {
    const burst = 1 + Math.floor(random() * 8);
    for (let k = 0; k < burst && i < n; k++, i++) p.append(`r${p.nextOffset}-${'x'.repeat(Math.floor(random() * 40))}`);
    await p.flush();
  }
}

async function allTimestamps(logDir: string): Promise<number[]> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const ts: number[] = [];
  for (const m of c.iter()) {
    assert.is(m.offset, ts.length);
    ts.push(m.timestamp);
  }
  await c.close();
  return ts;
}

/** Three incarnations, each starting its clock 1 s after the last one's start: behind what the log holds. */
async function steppedLog(random: () => number): Promise<string> {
  const logDir = tempDir();
  for (let run = 0; run < 3; run++) {
    const p = await producerOnClock(logDir, seed * 3 + run + 1, START_MS + run * 1000);
    await appendBursts(p, 150, random);
    await p.close();
  }
  return logDir;
}

test('timestamps never decrease along the log, across restarts, while the clock steps back', async () => {
  const logDir = await steppedLog(prng(seed));
  const ts = await allTimestamps(logDir);
  assert.is(ts.length, 450);
  for (let i = 1; i < ts.length; i++) assert.ok(ts[i]! >= ts[i - 1]!, `offset ${i}: ${ts[i]} after ${ts[i - 1]}`);
  // The scripted clock may step back (100 ms) before the first frame is stored.
  assert.ok(ts[0]! >= START_MS - 1000 && ts[0]! < START_MS + 10_000, `the scripted clock was used (first ${ts[0]})`);
  assert.ok(new Set(ts).size > 30, `the clock moved: ${new Set(ts).size} distinct timestamps`);
});

/** Seeks by time to the log's edges and to random times near its records, each checked against a brute-force oracle. */
async function checkSeeks(logDir: string, random: () => number, what: string): Promise<void> {
  const ts = await allTimestamps(logDir);
  const oracle = (ms: number): number => {
    const i = ts.findIndex((t) => t >= ms);
    return i < 0 ? ts.length : i;
  };
  const probes = [ts[0]! - 1000, ts[0]!, ts[ts.length - 1]!, ts[ts.length - 1]! + 1, ts[ts.length - 1]! + 1e6];
  for (let i = 0; i < 60; i++) {
    const t = ts[Math.floor(random() * ts.length)]!;
    probes.push(t, t - 1, t + 1, t + random());
  }
  for (const ms of probes) {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.timestamp(ms)) });
    const first = c.iter().next();
    await c.close();
    const want = oracle(ms);
    if (want === ts.length) assert.ok(first.done, `${what}, ms ${ms}: past the end, nothing yet`);
    else assert.is(first.value?.offset, want, `${what}, ms ${ms}`);
  }
}

test('Whence.timestamp starts at the first record stored at or after ms (brute-force oracle)', async () => {
  const random = prng(seed + 1);
  await checkSeeks(await steppedLog(random), random, 'stepped log');
});

test('frames of several KiB, several between index entries: the walk steps from header to header (brute-force oracle)', async () => {
  const logDir = tempDir();
  const random = prng(seed + 5);
  const p = await producerOnClock(logDir, seed * 7 + 1, START_MS, { fileRollSize: 256 * 1024, indexIntervalBytes: 32 * 1024 });
  for (let i = 0; i < 120;) {
    const burst = 2 + Math.floor(random() * 5);
    for (let k = 0; k < burst && i < 120; k++, i++) p.append(Buffer.alloc(1024 + Math.floor(random() * 2048), 0x61 + (i % 26)));
    await p.flush();
  }
  await p.close();
  await checkSeeks(logDir, random, 'large frames');
});

test('a log written again at the same path: what earlier seeks read of the old files never misleads a seek', async () => {
  // The same bursts (same frames, same segment names) under clocks that start 3 s earlier and 3 s
  // later: every frame timestamp differs from the old log's at the same file and position.
  const logDir = tempDir();
  const random = prng(seed + 3);
  for (const [run, startMs] of [START_MS, START_MS - 3000, START_MS + 3000].entries()) {
    rmSync(logDir, { recursive: true, force: true });
    const p = await producerOnClock(logDir, seed * 5 + run, startMs);
    await appendBursts(p, 300, prng(seed + 4));
    await p.close();
    await checkSeeks(logDir, random, `log ${run}`);
  }
});

test('after the end, Whence.timestamp gives the next record appended; the seek reads frame headers, not the log', async () => {
  const logDir = await steppedLog(prng(seed + 2));
  const trace = join(tempDir(), 'trace');
  const c = await withFaults({ rules: [], trace }, () => Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.timestamp(START_MS + 1e9)) }));
  const reads = readTrace(trace).filter((l) => l.thread === 'main' && l.op === 'read').length;
  // 450 records in about 40 segments: two binary searches and a short walk, a few dozen reads at most.
  assert.ok(reads <= 60, `${reads} reads to seek`);
  const p = await Producer.open({ logDir });
  const next = p.append('after the end');
  await p.flush();
  const got = await c[Symbol.asyncIterator]().next();
  assert.is(got.value?.offset, next);
  await p.close();
  await c.close();
});

test('a damaged frame header between the walk\'s start and the time: the reader meets it (ERR_LOG_CORRUPT), never starts past it', async () => {
  const logDir = tempDir();
  const { frames, v } = await framePerMillisecond(logDir); // frame v: the walk from an index entry steps onto it
  damage(frames[v]!.path, frames[v]!.pos);
  const err = await rejectsWith(async () => {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.timestamp(frames[v + 1]!.h.timestampMs)) });
    try {
      for (const m of c.iter()) assert.ok(m.offset < v, `record ${m.offset} handed out from past the damage`);
    } finally {
      await c.close();
    }
  }, 'ERR_LOG_CORRUPT');
  assert.match(err.message, /magic/);
});

test('Whence.timestamp refuses what is not a finite number', async () => {
  for (const bad of [NaN, Infinity, '5', null]) {
    try {
      Whence.timestamp(bad as number);
      assert.unreachable(String(bad));
    } catch (e) {
      assert.is((e as { code?: string }).code, 'ERR_INVALID_OPTION', String(bad));
    }
  }
});

test.run();
