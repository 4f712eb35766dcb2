/**
 * Whence.timestamp(t) against a brute-force scan: logs written under a clock the test steps (forward,
 * still, back, back an hour), across producer restarts, segment rolls, small offset-index intervals
 * and retention; every seek starts at the first record stored at or after t (or the log's end), with
 * the producer open in this process, after it closed, and on a kept listing of the directory.
 */
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { statSync } from 'node:fs';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { useFileClock } from './file-clock.js';
import { firstAtTime, suite, tempDir, waitFor } from './kit.js';
import { announceSeed, checkProperty } from './fc-run.js';

const test = suite('time-seek-property');
const FILE = 'test/time-seek-property.test.ts';
const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;

// Every thread's io.now() reads a clock file the test sets (set before the first producer opens).
const setClock = useFileClock(T0);

type Op =
  | { kind: 'clock'; delta: number }
  | { kind: 'append'; sizes: number[]; batch: boolean }
  | { kind: 'restart' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('clock' as const), delta: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constant(-HOUR), fc.integer({ min: 1, max: 100 })) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('append' as const), sizes: fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 6 }), batch: fc.boolean() }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('restart' as const) }), weight: 1 },
);

const caseArb = fc.record({
  ops: fc.array(opArb, { minLength: 1, maxLength: 30 }),
  fileRollSize: fc.constantFrom(1024, 2048, 8192),
  indexIntervalBytes: fc.constantFrom(512, 1024),
  retention: fc.boolean(),
});

async function scan(logDir: string): Promise<Array<{ offset: number; timestamp: number }>> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...c.iter()].map((m) => ({ offset: m.offset, timestamp: m.timestamp }));
  } finally {
    await c.close();
  }
}

/**
 * Every seek against a scan of the log. `logStart` reads the log's start now: with the producer open,
 * retention may delete the oldest segments after the scan (an idle pass of the writer), and a seek
 * then starts at the new start, the first record at or after t that is still stored.
 */
async function checkSeeks(logDir: string, where: string, logStart: () => number = () => 0): Promise<void> {
  const all = await scan(logDir);
  for (let i = 1; i < all.length; i++) {
    assert.ok(all[i]!.timestamp >= all[i - 1]!.timestamp, `${where}: record ${all[i]!.offset} stamped ${all[i]!.timestamp}, below record ${all[i - 1]!.offset} (${all[i - 1]!.timestamp})`);
  }
  const times = new Set<number>([T0 - 2 * HOUR, T0 + 10 * HOUR]);
  for (const r of all) for (const d of [-1, 0, 1, 0.5]) times.add(r.timestamp + d);
  for (const t of times) {
    let start = logStart();
    let got = await firstAtTime(logDir, t);
    // The start moved during the seek: seek again (retention deletes a few segments at most).
    for (let tries = 0; logStart() !== start && tries < 5; tries++) {
      start = logStart();
      got = await firstAtTime(logDir, t);
    }
    const expected = all.find((r) => r.timestamp >= t && r.offset >= start)?.offset ?? null;
    assert.is(got, expected, `${where}: Whence.timestamp(${t}) started at ${got}, the first record at or after it from the log start ${start} is ${expected} (records ${JSON.stringify(all.map((r) => [r.offset, r.timestamp - T0]))})`);
  }
}

test('Whence.timestamp(t) starts at the first record stored at or after t', async () => {
  announceSeed(FILE);
  await checkProperty('seek-vs-scan', caseArb, async ({ ops, fileRollSize, indexIntervalBytes, retention }) => {
    const logDir = tempDir();
    let clock = T0;
    setClock(clock);
    const opts = { logDir, syncPolicy: SyncPolicy.always(), fileRollSize, indexIntervalBytes, ...(retention ? { maxTotalBytes: 3 * fileRollSize } : {}) };
    let p = await Producer.open(opts);
    try {
      let n = 0;
      for (const op of ops) {
        if (op.kind === 'clock') {
          clock += op.delta;
          setClock(clock);
        } else if (op.kind === 'restart') {
          await p.close();
          p = await Producer.open(opts);
        } else {
          const recs = op.sizes.map((s) => `${n++}:`.padEnd(s, 'x'));
          if (op.batch) p.appendBatch(recs);
          else for (const r of recs) p.append(r);
          await p.flush();
        }
      }
      await checkSeeks(logDir, 'producer open', () => p.logStartOffset);
    } finally {
      await p.close();
    }
    await checkSeeks(logDir, 'producer closed');
    // Once the directory has settled its listing is kept, and seeks take the fast path on it.
    const dirMs = statSync(logDir).mtimeMs;
    await waitFor(() => Date.now() > dirMs + 150, 'the directory to settle');
    await checkSeeks(logDir, 'listing kept');
  }, { runs: 25, caseTimeoutMs: 60_000, file: FILE });
});

test.run();
