/**
 * Whence.timestamp in a process that listed the log before a repair (in any process) cut it and a
 * producer wrote it on: the segments after the cut come back at other base offsets, so the listing this
 * process keeps names bases that no longer begin segments. A seek by time must not start at such a
 * stale base past the first record stored at or after the time. Likewise a sealed segment cut short
 * (its last frames gone): the seek does not start past the cut at the next segment's base.
 */
import * as assert from 'uvu/assert';
import { statSync, truncateSync } from 'node:fs';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, repairLog } from '../dist/index.js';
import { useFileClock } from './file-clock.js';
import { firstAtTime, rejectsWith, suite, tempDir, waitFor } from './kit.js';
import { damage, framesOf } from './reader-kit.js';

const test = suite('time-seek-stale-listing');
const T0 = 1_800_000_000_000;

// Every thread's io.now() reads a clock file the test sets (set before the first producer opens).
const setClock = useFileClock(T0);

test('a listing kept from before a repair does not make a seek by time pass records over', async () => {
  const logDir = tempDir();
  const opts = { logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024 };
  // Small records, one frame each, many to a segment.
  let p = await Producer.open(opts);
  for (let i = 0; i < 80; i++) {
    setClock(T0 + i);
    p.append(`old-${i}`.padEnd(30, 'o'));
    await p.flush();
  }
  await p.close();
  const basesBefore = [...new Set(framesOf(logDir).map((f) => f.path))].map((path) => Number(/(\d+)\.seg$/.exec(path)![1]));
  assert.ok(basesBefore.length >= 3, `segments ${basesBefore.join(',')}`);
  // This process lists the directory once it has settled (its listing is kept).
  const dirMs = statSync(logDir).mtimeMs;
  await waitFor(() => Date.now() > dirMs + 200, 'the directory to settle');
  assert.is(await firstAtTime(logDir, T0 + 5), 5);
  assert.is(await firstAtTime(logDir, T0 + 6), 6);

  // A frame of the second segment is damaged; repair cuts the log there.
  const second = basesBefore[1]!;
  const victim = framesOf(logDir).find((f) => f.h.baseOffset === second + 1)!;
  damage(victim.path, victim.pos + 45);
  await repairLog(logDir, { backupDir: tempDir() });
  // Large records now: the segments after the cut begin at other offsets than before.
  p = await Producer.open(opts);
  for (let i = 0; i < 40; i++) {
    setClock(T0 + 1000 + i);
    p.append(`new-${i}`.padEnd(300, 'n'));
    await p.flush();
  }
  await p.close();
  const frames = framesOf(logDir);
  const basesAfter = [...new Set(frames.map((f) => f.path))].map((path) => Number(/(\d+)\.seg$/.exec(path)![1]));
  // The first record of the third segment now; the time of a record two after it.
  const third = basesAfter[2]!;
  const target = frames.find((f) => f.h.baseOffset === third + 2)!;
  const expected = frames.find((f) => f.h.timestampMs >= target.h.timestampMs)!.h.baseOffset;
  const got = await firstAtTime(logDir, target.h.timestampMs);
  assert.is(got, expected, `segments before ${basesBefore.join(',')}, after ${basesAfter.join(',')}: Whence.timestamp(${target.h.timestampMs}) started at ${got}, the first record stored at or after it is ${expected}`);
});

test('a sealed segment cut short: the seek starts where its frames end, and the reader reports the damage', async () => {
  setClock(T0);
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024 });
  for (let i = 0; i < 60; i++) {
    setClock(T0 + i);
    p.append(`r${i}`.padEnd(100, 'x'));
    await p.flush();
  }
  await p.close();
  const frames = framesOf(logDir);
  const second = frames.filter((f) => f.path !== frames[0]!.path && f.path === frames.find((g) => g.path !== frames[0]!.path)!.path);
  truncateSync(second[3]!.path, second[3]!.pos); // its last frames are gone
  // The time of the segment's last record, one of those cut: the answer lies in the cut bytes.
  const t = second.at(-1)!.h.timestampMs;
  await rejectsWith(async () => {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.timestamp(t)) });
    try {
      const r = c.iter().next();
      throw new Error(`the consumer started at ${r.done === true ? 'the end' : r.value.offset}, past the cut records from ${second[3]!.h.baseOffset} on, without an error`);
    } finally {
      await c.close();
    }
  }, 'ERR_LOG_CORRUPT');
});

test.run();
