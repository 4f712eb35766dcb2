/**
 * One round of the readers-and-verify soak (test/readers-verify.test.ts runs one, test/soak/
 * readers-verify.soak.ts many): a producer child appends `total` records to tiny segments under
 * aggressive retention; reader children tail the files from the oldest record (test/fixtures/
 * expiring-reader.mjs), some pausing until the producer is far past them; this process runs verifyLog
 * over the directory again and again meanwhile.
 *
 * Verdicts: any ERR_LOG_CORRUPT (or any other error) in a reader fails the round, as does any verify
 * finding of severity damage. ERR_POSITION_EXPIRED is legitimate, for a paused reader or one that fell
 * behind: retention deleted what it needed. It must be exact: it names the offset the reader was at
 * and a log start above it, and the reader goes on from that start, so delivered offsets are contiguous
 * except at such an error. Every record must hold the bytes appended at its offset, and every reader
 * must end at the last record.
 */
import * as assert from 'uvu/assert';
import { verifyLog, formatVerifyReport } from '../dist/index.js';
import { Child, type ChildMessage } from './child.js';
import { prng, tempDir, waitFor } from './kit.js';
import type { ReadEvent } from './fixtures/expiring-read.mjs';
import { rmSync } from 'node:fs';

export interface RoundParams {
  readonly seed: number;
  readonly total: number;
  readonly roll: number;
  readonly maxTotalBytes: number;
  readonly policy: string;
  readonly burstMax: number;
  readonly flushChance: number;
  /** For each reader child: the count of records after which it pauses, or -1 for never. */
  readonly pauses: readonly number[];
  /** A paused reader resumes once the producer has written this many records past its pause. */
  readonly resumeAfter: number;
}

export interface RoundStats {
  verifies: number;
  verifyWarnings: number;
  expirations: number;
  recordsRead: number;
}

export interface RoundShape {
  readonly total: number;
  readonly readers: number;
  /** Segment sizes are drawn from 1 KiB to this many KiB. */
  readonly maxRollKiB: number;
  /** maxTotalBytes is drawn from 2 to this many segments. */
  readonly maxSegments: number;
}

/** Random round parameters from `seed`, within the bounds a short test or a soak asks for. */
export function roundParams(seed: number, shape: RoundShape): RoundParams {
  const { total, readers } = shape;
  const r = prng(seed);
  const roll = 1024 * (1 + Math.floor(r() * shape.maxRollKiB));
  // Reader 0 reads along, reader 1 pauses, the others pause or not.
  const pauses = Array.from({ length: readers }, (_, k) => (k === 0 || (k > 1 && r() < 0.3) ? -1 : 20 + Math.floor(r() * total * 0.5)));
  return {
    seed, total, roll,
    maxTotalBytes: roll * (2 + Math.floor(r() * (shape.maxSegments - 1))),
    policy: r() < 0.5 ? 'never' : 'periodic:5',
    burstMax: 1 + Math.floor(r() * 30),
    flushChance: r() * 0.5,
    pauses,
    resumeAfter: 300 + Math.floor(r() * 500),
  };
}

function describe(p: RoundParams): string {
  return `seed ${p.seed}: ${p.total} records, ${p.roll} B segments, maxTotalBytes ${p.maxTotalBytes}, ${p.policy}, pauses [${p.pauses.join(', ')}]`;
}

/** Checks one reader's events; returns the records it was told it missed (ERR_POSITION_EXPIRED). */
function checkReader(where: string, total: number, r: { events: ReadEvent[]; bad: unknown[] }): { missed: number; expirations: number; read: number } {
  assert.equal(r.bad, [], `${where}: records with wrong bytes`);
  let pos: number | null = null;
  let missed = 0;
  let expirations = 0;
  let read = 0;
  for (const e of r.events) {
    if ('range' in e) {
      const [from, to] = e.range;
      if (pos !== null) assert.is(from, pos, `${where}: a silent gap or a repeat: expected offset ${pos}, got ${from}`);
      read += to - from;
      pos = to;
    } else {
      const { offset, logStartOffset } = e.expired;
      if (pos !== null) assert.is(offset, pos, `${where}: ERR_POSITION_EXPIRED names offset ${offset}, the reader was at ${pos} (${e.message})`);
      assert.ok(logStartOffset > offset, `${where}: expired range ${offset}..${logStartOffset - 1} is empty`);
      missed += logStartOffset - offset;
      expirations++;
      pos = logStartOffset;
    }
  }
  assert.is(pos, total, `${where}: ended at ${pos}, not after the last record`);
  return { missed, expirations, read };
}

/** How long any one wait of a round may last before the round fails as hung. */
const HANG_MS = 300_000;

/** Runs one round in a fresh directory (removed afterwards when it passes). */
export async function soakRound(p: RoundParams, stats: RoundStats): Promise<void> {
  const logDir = tempDir('rlog-soak-');
  const what = describe(p);
  const producer = Child.fork('soak-producer.mjs', [logDir, JSON.stringify({ ...p, pauses: undefined })], { execArgv: [] });
  const readers: Array<{ child: Child; pause: number; resumed: boolean }> = [];
  let written = 0;
  let producerDone = false;
  producer.proc.on('message', (m: ChildMessage) => {
    if (m.type === 'progress' || m.type === 'done') written = Math.max(written, Number(m.written ?? m.end));
    if (m.type === 'done') producerDone = true;
  });
  // Set when the round fails: every wait of the round then ends at once (nothing lingers).
  let stopped = false;
  const verifier = (async () => {
    // verifyLog again and again while the round runs: every report must be free of damage.
    while (!stopped) {
      const r = await verifyLog(logDir);
      stats.verifies++;
      stats.verifyWarnings += r.warningCount;
      if (!r.ok) throw new Error(`verify found damage beside the live producer (${what}):\n${formatVerifyReport(r)}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  const until = async (cond: () => boolean, what: string): Promise<void> => {
    await waitFor(() => stopped || cond(), what, HANG_MS);
    if (stopped) throw new Error('the round stopped');
  };
  try {
    await producer.next('open');
    for (const pause of p.pauses) {
      readers.push({ child: Child.fork('expiring-reader.mjs', [logDir, String(p.total), String(pause)], { execArgv: [] }), pause, resumed: pause < 0 });
    }
    await Promise.all(readers.map((r) => r.child.next('ready')));
    producer.send({ type: 'go' });
    // Paused readers resume once the producer is far past them (or done).
    const finished = Promise.all(readers.map(async (r, i) => {
      if (!r.resumed) {
        // (A reader that retention set back by more than its pause point never pauses: it ends.)
        await until(() => r.child.pending.some((m) => m.type === 'paused' || m.type === 'done' || m.type === 'error') || r.child.exitInfo !== null,
          `reader ${i} to pause`);
        if (r.child.pending.some((m) => m.type === 'paused')) {
          await until(() => producerDone || written >= r.pause + p.resumeAfter, `the producer to pass reader ${i}'s pause`);
          r.child.send({ type: 'resume' });
        }
        r.resumed = true;
      }
      return r.child.next<{ type: string; events: ReadEvent[]; bad: unknown[] }>('done', HANG_MS);
    }));
    finished.catch(() => undefined); // judged through the race below
    // A verify failure ends the round at once; so does a reader's error (next() rejects).
    const results = await Promise.race([finished, verifier.then(() => { throw new Error('the verify loop ended early'); })]);
    await producer.next('done', HANG_MS);
    stopped = true;
    await verifier;
    results.forEach((r, i) => {
      const c = checkReader(`reader ${i} (${p.pauses[i]! < 0 ? 'reading along' : `paused after ${p.pauses[i]}`}; ${what})`, p.total, r);
      stats.expirations += c.expirations;
      stats.recordsRead += c.read;
    });
    producer.send({ type: 'close' });
    await producer.next('closed');
    const last = await verifyLog(logDir);
    assert.ok(last.ok, `after close (${what}):\n${formatVerifyReport(last)}`);
    assert.is(last.logEndOffset, p.total, `after close (${what}): the log ends at ${last.logEndOffset}`);
  } catch (e) {
    stopped = true;
    await verifier.catch(() => undefined);
    throw new Error(`readers-and-verify round failed (${what}; replay the shape with SEED=${p.seed}): ${(e as Error).message}`, { cause: e });
  } finally {
    stopped = true;
    await Promise.all([producer, ...readers.map((r) => r.child)].map((c) => c.kill()));
  }
  rmSync(logDir, { recursive: true, force: true });
}
