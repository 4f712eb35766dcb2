/**
 * Fixtures for the corruption properties: pristine logs written once by the real Producer (their bytes
 * kept in memory, with every record and every frame boundary known), per-case directories on a RAM
 * disk where available, and reading a directory back through the public Consumer.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, LogError as DistLogError } from '../dist/index.js';
import { LogError as SrcLogError } from '../src/errors.js';
import { prng, waitFor } from './kit.js';

/** One frame of a pristine segment, as the test's own parser reads it. */
export interface FrameInfo {
  readonly pos: number;
  readonly bytes: number;
  readonly base: number;
  readonly count: number;
  /** The frame's durable-position field: bytes of the file below it were fsynced before it was written. */
  readonly dp: number;
}

export interface SegmentLayout {
  readonly name: string;
  readonly base: number;
  readonly end: number;
  readonly size: number;
  readonly frames: readonly FrameInfo[];
}

export interface Pristine {
  readonly label: string;
  /** Every file of the log directory by relative path (`cursors/...` included), bytes as written. */
  readonly files: ReadonlyMap<string, Buffer>;
  /** records[offset]: the bytes appended at that offset. */
  readonly records: readonly Buffer[];
  readonly segments: readonly SegmentLayout[];
  /** The offset in durable.offset. */
  readonly hint: number;
}

const owned: string[] = [];
const scratchRoot = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

/** A fresh directory owned by this test file (removed by cleanupScratch). On a RAM disk where there is one. */
export function scratchDir(prefix = 'rlog-corrupt-'): string {
  const d = mkdtempSync(join(scratchRoot, prefix));
  owned.push(d);
  return d;
}

export function cleanupScratch(): void {
  for (const d of owned.splice(0)) rmSync(d, { recursive: true, force: true });
}

export const segName = (base: number): string => `${String(base).padStart(20, '0')}.seg`;
export const idxName = (base: number): string => `${String(base).padStart(20, '0')}.idx`;

export function encodeHint(offset: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(offset % 2 ** 32, 0);
  b.writeUInt32LE(Math.floor(offset / 2 ** 32), 4);
  b.writeUInt32LE(crc32(b.subarray(0, 8)), 8);
  return b;
}

/** Walks the frames of a segment that is known to be valid (a pristine one): the oracle's own parser. */
export function parseSegment(name: string, b: Buffer): SegmentLayout {
  const base = Number(b.readBigUInt64LE(8));
  const frames: FrameInfo[] = [];
  let pos = 32;
  while (pos < b.length) {
    if (b.readUInt32LE(pos) !== 0x48435242) throw new Error(`pristine ${name}: no frame at ${pos}`);
    const bytes = b.readUInt32LE(pos + 8);
    frames.push({ pos, bytes, count: b.readUInt32LE(pos + 12), base: Number(b.readBigUInt64LE(pos + 16)), dp: Number(b.readBigUInt64LE(pos + 32)) });
    pos += bytes;
  }
  const last = frames.at(-1);
  return { name, base, end: last ? last.base + last.count : base, size: b.length, frames };
}

function snapshot(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (rel: string): void => {
    for (const n of readdirSync(join(dir, rel))) {
      const r = rel === '' ? n : `${rel}/${n}`;
      if (statSync(join(dir, r)).isDirectory()) walk(r);
      else files.set(r, readFileSync(join(dir, r)));
    }
  };
  walk('');
  return files;
}

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
  // The writer may split a group of appends into two frames if it wakes between them. A replayed seed
  // must meet the same layout, so a build whose frames differ from the planned groups is done again.
  for (let attempt = 1; ; attempt++) {
    const built = await buildOnce(plan);
    if (built !== null) return built;
    if (attempt >= 50) throw new Error(`build ${plan.label}: the writer never framed the planned groups`);
  }
}

async function buildOnce(plan: BuildPlan): Promise<Pristine | null> {
  const dir = scratchDir('rlog-pristine-');
  const rand = prng(0x5eed + plan.syncedFrames);
  const records: Buffer[] = [];
  const groups: number[] = [];
  const p = await Producer.open({ logDir: dir, syncPolicy: SyncPolicy.never(), fileRollSize: plan.fileRollSize, indexIntervalBytes: 512 });
  const frame = (): void => {
    const n = 1 + Math.floor(rand() * 4);
    groups.push(n);
    for (let i = 0; i < n; i++) {
      const r = makeRecord(rand, p.nextOffset);
      records.push(r);
      p.append(r);
    }
  };
  // Synced frames, at least syncedFrames, until the newest segment has room left for the unsynced
  // frames (each at most 220 bytes) without a roll, which would fsync them.
  const newestBytes = (): number => statSync(join(dir, readdirSync(dir).filter((n) => n.endsWith('.seg')).sort().at(-1)!)).size;
  for (let f = 0; ; f++) {
    if (f >= plan.syncedFrames) {
      const size = newestBytes();
      if (plan.unsyncedFrames === 0 || (size >= 300 && size + plan.unsyncedFrames * 220 < plan.fileRollSize)) break;
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
  if (framed.join() !== groups.join()) return null;
  return { label: plan.label, files, records, segments, hint: durable };
}

/** Writes `files` into a fresh case directory. */
export function materialise(files: ReadonlyMap<string, Buffer>): string {
  const dir = scratchDir();
  for (const [rel, bytes] of files) {
    if (rel.includes('/')) mkdirSync(join(dir, rel.slice(0, rel.lastIndexOf('/'))), { recursive: true });
    writeFileSync(join(dir, rel), bytes);
  }
  return dir;
}

/** Removes a case directory now (cases are many; cleanupScratch is the backstop). */
export function discard(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  const i = owned.indexOf(dir);
  if (i >= 0) owned.splice(i, 1);
}

export const KNOWN_READ_CODES = new Set(['ERR_LOG_CORRUPT', 'ERR_POSITION_EXPIRED', 'ERR_IO']);

/** The error, unless it is a LogError with one of `codes`: then null. */
export function untyped(e: unknown, codes: ReadonlySet<string>): string | null {
  if ((e instanceof DistLogError || e instanceof SrcLogError) && codes.has(e.code)) return null;
  const err = e as { name?: string; code?: string; message?: string; stack?: string };
  return `not a typed error: ${err?.name} ${err?.code ?? ''} ${err?.message ?? String(e)}\n${err?.stack ?? ''}`;
}

export interface ReadResult {
  readonly offsets: number[];
  /** Records that differ from what was appended at their offset. */
  readonly wrong: number[];
  readonly error: unknown;
  /** Where the error came from. */
  readonly phase: 'open' | 'iter' | null;
}

/** Reads the whole directory from the oldest record with a nonTx consumer (no producer in this process). */
export async function readDir(dir: string, records: readonly Buffer[]): Promise<ReadResult> {
  const offsets: number[] = [];
  const wrong: number[] = [];
  let c: Consumer;
  try {
    c = await Consumer.open({ logDir: dir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  } catch (e) {
    return { offsets, wrong, error: e, phase: 'open' };
  }
  try {
    for (const m of c.iter()) {
      offsets.push(m.offset);
      const want = records[m.offset];
      if (want === undefined || !Buffer.from(m.data).equals(want)) wrong.push(m.offset);
    }
    return { offsets, wrong, error: null, phase: null };
  } catch (e) {
    return { offsets, wrong, error: e, phase: 'iter' };
  } finally {
    await c.close();
  }
}

/** The safety part every read must satisfy: typed errors, no wrong record, contiguous offsets. */
export function readSafety(r: ReadResult): string | null {
  if (r.error !== null) {
    const u = untyped(r.error, KNOWN_READ_CODES);
    if (u !== null) return `${r.phase}: ${u}`;
  }
  if (r.wrong.length > 0) return `records delivered with bytes other than appended: offsets ${r.wrong.slice(0, 5).join(', ')}`;
  for (let i = 1; i < r.offsets.length; i++) {
    if (r.offsets[i] !== r.offsets[i - 1]! + 1) return `offsets not contiguous: ${r.offsets[i - 1]} then ${r.offsets[i]}`;
  }
  return null;
}

export function describeRead(r: ReadResult): string {
  const span = r.offsets.length === 0 ? 'nothing' : `${r.offsets[0]}..${r.offsets.at(-1)}`;
  const err = r.error === null ? 'clean end' : `${(r.error as { code?: string }).code ?? 'no code'} at ${r.phase}: ${(r.error as Error).message}`;
  return `delivered ${span} (${r.offsets.length}), then ${err}`;
}

/** One line naming a pristine log's layout; equal lines across runs mean a seed replays the same cases. */
export function describeLayout(p: Pristine): string {
  const shape = p.segments.map((s) => `${s.base}:${s.frames.map((f) => `${f.pos}/${f.dp}`).join(',')}`).join(';');
  return `${p.label}: ${p.segments.length} segments, ${p.records.length} records, hint ${p.hint}, layout ${crc32(Buffer.from(shape)).toString(16)}`;
}

/**
 * The two logs the read and recover properties damage, built and described: every frame fsynced over
 * several sealed segments; and sealed segments then an active one whose last frames were written
 * after the last fsync.
 */
export async function standardPristines(): Promise<Pristine[]> {
  const logs = [
    await buildPristine({ label: 'all-durable', fileRollSize: 1024, syncedFrames: 26, unsyncedFrames: 0, cursorCommits: 0 }),
    await buildPristine({ label: 'unsynced-tail', fileRollSize: 2048, syncedFrames: 40, unsyncedFrames: 6, cursorCommits: 0 }),
  ];
  for (const p of logs) console.log(`  ${describeLayout(p)}`);
  return logs;
}
