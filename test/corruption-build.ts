/**
 * The pristine logs of the corruption properties, written by the real Producer from dist/ (its writer
 * thread starts only from there). corruption-kit.ts holds everything that does not need the library.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { prng, waitFor } from './kit.js';
import { attributesOf, describeLayout, discard, encodeHint, parseSegment, scratchDir, snapshot, type Pristine } from './corruption-kit.js';

function makeRecord(rand: () => number, offset: number): Buffer {
  if (offset % 11 === 5) return Buffer.alloc(0); // empty records are allowed and must survive too
  const len = 1 + Math.floor(rand() * 40);
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = Math.floor(rand() * 256);
  if (len >= 4) b.writeUInt32LE(offset, 0); // records at different offsets differ
  return b;
}

export interface BuildPlan {
  readonly label: string;
  readonly fileRollSize: number;
  /** Frames written with a flush (fsync) after each one, before the unsynced part. */
  readonly syncedFrames: number;
  /** Frames written after the last flush, each waited for as written but never fsynced before close. */
  readonly unsyncedFrames: number;
  /** Commit this many records with a clientTx cursor named `c` (with state), after closing. */
  readonly cursorCommits: number;
}

/**
 * Writes a log with the real producer (never() policy: only flushes and rolls fsync, so the frames after
 * the last flush carry the durable position of that flush, as after a crash), closes it, and sets
 * durable.offset to the durable offset before the unsynced frames: what a process crash right after
 * writing them would have left.
 */
export async function buildPristine(plan: BuildPlan): Promise<Pristine> {
  const dir = scratchDir('rlog-pristine-');
  const rand = prng(0x5eed + plan.syncedFrames);
  const records: Buffer[] = [];
  const groups: number[] = [];
  const p = await Producer.open({ logDir: dir, syncPolicy: SyncPolicy.never(), fileRollSize: plan.fileRollSize, indexIntervalBytes: 512 });
  // Each group is one appendBatch, which the writer frames whole and alone here (every group is
  // flushed or written before the next one is appended): a replayed seed meets the same layout.
  const frame = (): void => {
    const n = 1 + Math.floor(rand() * 4);
    groups.push(n);
    const batch = [];
    for (let i = 0; i < n; i++) {
      const offset = p.nextOffset + i;
      const r = makeRecord(rand, offset);
      records.push(r);
      batch.push({ data: r, ...attributesOf(offset) });
    }
    p.appendBatch(batch);
  };
  // Synced frames, at least syncedFrames, until the newest segment has room left for the unsynced
  // frames (each at most 300 bytes) without a roll, which would fsync them.
  const newestBytes = (): number => statSync(join(dir, readdirSync(dir).filter((n) => n.endsWith('.seg')).sort().at(-1)!)).size;
  for (let f = 0; ; f++) {
    if (f >= plan.syncedFrames) {
      const size = newestBytes();
      if (plan.unsyncedFrames === 0 || (size >= 300 && size + plan.unsyncedFrames * 300 < plan.fileRollSize)) break;
    }
    if (f > plan.syncedFrames + 200) throw new Error(`build ${plan.label}: no room for the unsynced frames`);
    frame();
    await p.flush();
  }
  const durable = p.durableOffset;
  for (let f = 0; f < plan.unsyncedFrames; f++) {
    frame();
    await waitFor(() => p.writtenOffset >= p.nextOffset, 'the writer to write the frame');
  }
  if (p.durableOffset !== durable) throw new Error(`build ${plan.label}: a roll or sync happened in the unsynced part`);
  await p.close();
  writeFileSync(join(dir, 'durable.offset'), encodeHint(durable));
  if (plan.cursorCommits > 0) {
    const c = await Consumer.open({ logDir: dir, style: ConsumerStyle.clientTx('c') });
    await c.nonblockingProcess(plan.cursorCommits, (m, ctx) => {
      ctx.setState(`state after ${m.offset}`);
      return 'commit';
    });
    await c.close();
  }
  const files = snapshot(dir);
  discard(dir);
  const segments = [...files.keys()].filter((n) => /^\d{20}\.seg$/.test(n)).sort().map((n) => parseSegment(n, files.get(n)!));
  const framed = segments.flatMap((s) => s.frames.map((f) => f.count));
  if (framed.join() !== groups.join()) throw new Error(`build ${plan.label}: frames of ${framed.join()} records, batches of ${groups.join()}`);
  return { label: plan.label, files, records, segments, hint: durable };
}

/**
 * The two logs the read and recover properties damage, built and described: every frame fsynced over
 * several sealed segments; and sealed segments then an active one whose last frames were written
 * after the last fsync.
 */
export async function standardPristines(): Promise<Pristine[]> {
  const logs = [
    await buildPristine({ label: 'all-durable', fileRollSize: 1024, syncedFrames: 26, unsyncedFrames: 0, cursorCommits: 0 }),
    await buildPristine({ label: 'unsynced-tail', fileRollSize: 3072, syncedFrames: 60, unsyncedFrames: 6, cursorCommits: 0 }),
  ];
  for (const p of logs) console.log(`  ${describeLayout(p)}`);
  return logs;
}
