/**
 * A wall clock that steps back (NTP, by hand) under retention. The writer stamps frames on a clock
 * that never goes back; a segment made at a roll is stamped on it too, so after a restart that finds
 * only the empty active segment (retention deleted every sealed one) timestamps still do not
 * decrease. Segment ages are measured on that clock as well: with blockingMinimumRetention 0 and no
 * cursor, a clock stepped back does not make every segment look young and hold the producer back
 * (ERR_LOG_FULL) until the clock catches up.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, isLogError } from '../dist/index.js';
import { useFileClock } from './file-clock.js';
import { suite, tempDir, waitFor } from './kit.js';

const test = suite('clock-step-back');
const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;

// Every thread's io.now() reads a clock file the test sets (set before the first producer opens).
const setClock = useFileClock(T0);

test('timestamps never decrease across a restart after retention emptied the log of sealed segments', async () => {
  setClock(T0);
  const logDir = tempDir();
  // By age: maxTotalBytes alone keeps the newest sealed segment. A segment written in this run ages on the monotonic clock.
  const opts = { logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024, maxFileAge: 300 };
  const p1 = await Producer.open(opts);
  for (let i = 0; i < 4; i++) p1.append(`early-${i}-${'e'.repeat(40)}`);
  await p1.flush();
  // The wall clock steps back an hour (NTP, by hand): the writer keeps stamping T0.
  setClock(T0 - HOUR);
  // A consumer with segment 0 open keeps reading it after retention deletes it.
  const early = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  // One frame past fileRollSize (a batch is one frame): the writer rolls right after it, at the log's
  // end, and retention deletes the sealed segment 300 ms later. Appended one by one, they could land in two
  // frames, the roll after the first, and the segment the second went to is never deleted.
  p1.appendBatch(Array.from({ length: 20 }, (_, i) => `late-${i}-${'l'.repeat(40)}`));
  await p1.flush();
  const lastBefore = p1.nextOffset - 1;
  await waitFor(() => p1.logStartOffset === p1.nextOffset, 'retention to delete the sealed segment');
  const seen = [...early.iter()];
  await early.close();
  assert.is(seen.at(-1)!.offset, lastBefore);
  const lastTs = seen.at(-1)!.timestamp;
  await p1.close();

  // Restart within the hour.
  setClock(T0 - HOUR + 1000);
  const p2 = await Producer.open(opts);
  const first = p2.append('after restart');
  await p2.flush();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(first)) });
  const m = c.iter().next().value!;
  await c.close();
  await p2.close();
  assert.is(m.offset, lastBefore + 1);
  assert.ok(m.timestamp >= lastTs, `record ${m.offset} is stamped ${m.timestamp}, ${lastTs - m.timestamp} ms below record ${lastBefore} (stamped ${lastTs})`);
});

test('blockingMinimumRetention 0 without cursors: a clock stepped back does not hold the producer back', async () => {
  setClock(T0);
  const logDir = tempDir();
  const p = await Producer.open({
    logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024, maxTotalBytes: 4096,
    blockingMinimumRetention: 0, appendTimeoutMs: 1000,
  });
  try {
    const rec = (i: number) => `record-${i}-${'r'.repeat(100)}`;
    // Clock running: retention keeps the log under maxTotalBytes, nothing blocks.
    let i = 0;
    for (let t = 1; t <= 40; t++, i++) {
      setClock(T0 + t);
      p.append(rec(i));
      await p.flush();
    }
    assert.ok(p.logStartOffset > 0, 'retention ran while the clock ran');
    // The clock steps back an hour (NTP step, by hand).
    setClock(T0 - HOUR);
    let failure = 'none';
    try {
      for (let k = 0; k < 40; k++, i++) {
        p.append(rec(i));
        await p.flush();
      }
    } catch (e) {
      failure = isLogError(e) ? `${e.code} at record ${i}: ${e.message}` : String(e);
    }
    assert.is(failure, 'none');
  } finally {
    await p.close();
  }
});

test('blockingMinimumRetention above 0: a clock stepped back does not stop segments from ageing out', async () => {
  // The clock runs (offset 0), then steps back an hour and runs on from there. Segment ages are
  // measured on the frames' clock, which holds still until the wall clock passes it again: without a
  // clock that keeps running, no segment written near or after the step ever gets 200 ms old, and
  // the producer is held back (ERR_LOG_FULL) for the hour.
  setClock('offset 0');
  const logDir = tempDir();
  const p = await Producer.open({
    logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024, maxTotalBytes: 4096,
    blockingMinimumRetention: 200, appendTimeoutMs: 3000,
  });
  try {
    const rec = (i: number) => `record-${i}-${'r'.repeat(100)}`;
    let i = 0;
    for (; i < 60; i++) {
      p.append(rec(i));
      await p.flush();
    }
    assert.ok(p.logStartOffset > 0, 'protected segments aged out while the clock ran');
    setClock(`offset ${-HOUR}`);
    const startBefore = p.logStartOffset;
    let failure = 'none';
    try {
      for (let k = 0; k < 60; k++, i++) {
        p.append(rec(i));
        await p.flush();
      }
    } catch (e) {
      failure = isLogError(e) ? `${e.code} at record ${i}: ${e.message}` : String(e);
    }
    assert.is(failure, 'none');
    assert.ok(p.logStartOffset > startBefore, 'segments written after the step aged out too');
  } finally {
    await p.close();
  }
});

test.run();
