/**
 * Readers under roll and retention: six concurrent non-transactional readers (three in this process,
 * three in child processes; in each group one reads along, two pause until retention has passed them)
 * while a producer writes on 1 KiB segments keeping at most 4 KiB. Each reader's delivered offsets must
 * be strictly increasing and contiguous except where it got ERR_POSITION_EXPIRED, whose details give the
 * exact missing range (it resumes at the named log start); every record byte-exact; no crash, no hang.
 * SEED=<n> replays the burst sizes and pause points.
 */
import * as assert from 'uvu/assert';
import { Producer, SyncPolicy } from '../dist/index.js';
import { suite, tempDir, prng, waitFor } from './kit.js';
import { Child } from './child.js';
import { payload, readThrough, type ReadEvent } from './fixtures/expiring-read.mjs';

const test = suite('readers-retention');

interface Result { events: ReadEvent[]; bad: unknown[] }

const SEED = Number(process.env.SEED ?? Date.now() % 1_000_000);
const TOTAL = 4000;

/** Checks one reader's events; returns how many records it was told it missed. */
function checkReader(name: string, r: Result, finalStart: number, starts: Set<number>): number {
  const where = `${name} (SEED=${SEED})`;
  assert.equal(r.bad, [], `${where}: records with wrong bytes`);
  assert.ok(r.events.length > 0, `${where}: delivered nothing`);
  let pos: number | null = null;
  let missed = 0;
  for (const e of r.events) {
    if ('range' in e) {
      const [from, to] = e.range;
      if (pos !== null) assert.is(from, pos, `${where}: a silent gap or a repeat: expected offset ${pos}, got ${from}`);
      assert.ok(to > from, `${where}: empty run`);
      pos = to;
    } else {
      const { offset, logStartOffset } = e.expired;
      if (pos !== null) assert.is(offset, pos, `${where}: ERR_POSITION_EXPIRED names offset ${offset}, the reader was at ${pos} (${e.message})`);
      assert.ok(logStartOffset > offset, `${where}: expired range ${offset}..${logStartOffset - 1} is empty`);
      assert.ok(logStartOffset <= finalStart, `${where}: the error names log start ${logStartOffset}, beyond the producer's ${finalStart}`);
      assert.ok(starts.has(logStartOffset), `${where}: the error names log start ${logStartOffset}, which is no segment's first offset (${[...starts].slice(0, 20).join(', ')}...)`);
      missed += logStartOffset - offset;
      pos = logStartOffset; // the reader reopens at the start the error named
    }
  }
  assert.is(pos, TOTAL, `${where}: ended at ${pos}, not at the last record`);
  return missed;
}

test('six readers (three in child processes, four paused) against 1 KiB segments and 4 KiB retention', async () => {
  console.log(`  readers seed ${SEED} (SEED=${SEED} replays)`);
  const random = prng(SEED);
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: 4096 });
  // Every segment base the log ever had (the offsets a correct ERR_POSITION_EXPIRED can name).
  const starts = new Set<number>([0]);
  const { readdirSync } = await import('node:fs');
  const noteSegments = (): void => {
    for (const n of readdirSync(logDir)) if (n.endsWith('.seg')) starts.add(Number(n.slice(0, 20)));
  };

  // Pauses are released once the producer is this far past the pause: far beyond 4 KiB of records.
  const PAST = 400;
  const pausedAt = (k: number) => 20 + Math.floor(random() * 200) + k * 50;
  const gate = (count: number) => (_offset: number, n: number) => (n === count
    ? waitFor(() => p.writtenOffset >= Math.min(TOTAL, n + PAST), 'the producer to pass a paused reader', 60_000)
    : null);
  const local: Promise<Result>[] = [
    readThrough(logDir, TOTAL),
    readThrough(logDir, TOTAL, { onRecord: gate(pausedAt(1)) }),
    readThrough(logDir, TOTAL, { onRecord: gate(pausedAt(2)) }),
  ];
  const children = [{ child: Child.fork('expiring-reader.mjs', [logDir, String(TOTAL), '-1']), pause: -1, resumed: true }];
  for (const k of [3, 4]) {
    const pause = pausedAt(k);
    children.push({ child: Child.fork('expiring-reader.mjs', [logDir, String(TOTAL), String(pause)]), pause, resumed: false });
  }
  await Promise.all(children.map((c) => c.child.next('ready')));

  // A paused child resumes once the producer is PAST records beyond where it paused.
  const resumeChildren = (): void => {
    for (const c of children) {
      if (c.resumed || p.writtenOffset < Math.min(TOTAL, c.pause + PAST) || !c.child.pending.some((m) => m.type === 'paused')) continue;
      c.child.send({ type: 'resume' });
      c.resumed = true;
    }
  };
  // Write in bursts of random size (small enough that no segment is born and deleted between two
  // looks at the directory), with a flush now and then.
  while (p.nextOffset < TOTAL) {
    const burst = Math.min(TOTAL - p.nextOffset, 1 + Math.floor(random() * 15));
    for (let i = 0; i < burst; i++) p.append(payload(p.nextOffset));
    if (random() < 0.3) await p.flush();
    else await waitFor(() => p.writtenOffset === p.nextOffset, 'the burst to be written');
    noteSegments();
    resumeChildren();
    await new Promise((r) => setImmediate(r));
  }
  await p.flush();
  noteSegments();
  const results: Array<[string, Result]> = [];
  const localResults = await Promise.all(local);
  localResults.forEach((r, i) => results.push([`in-process reader ${i}${i > 0 ? ' (paused)' : ''}`, r]));
  for (const [i, c] of children.entries()) {
    if (!c.resumed) {
      await waitFor(() => c.child.pending.some((m) => m.type === 'paused'), `child ${i} to reach its pause`, 60_000);
      c.child.send({ type: 'resume' });
    }
    const done = await c.child.next<{ type: 'done'; events: ReadEvent[]; bad: unknown[] }>('done', 120_000);
    results.push([`child reader ${i}${i > 0 ? ' (paused)' : ''}`, done]);
  }
  const finalStart = p.logStartOffset;
  assert.ok(finalStart > TOTAL / 2, `retention kept the log short (start ${finalStart})`);
  let expiredReaders = 0;
  for (const [name, r] of results) {
    const missed = checkReader(name, r, finalStart, starts);
    if (missed > 0) expiredReaders++;
  }
  // The paused readers, at least, fell behind retention and were told so.
  assert.ok(expiredReaders >= 4, `only ${expiredReaders} readers got ERR_POSITION_EXPIRED`);
  await p.close();
});

test.run();
