/**
 * Fixtures for the corruption properties: pristine logs (written once by the real Producer in
 * corruption-build.ts, their bytes kept in memory, with every record and every frame boundary known),
 * per-case directories on a RAM disk where available, and reading a directory back through the public
 * Consumer. This module loads no copy of the library: each test file passes its own (`Library`), dist/
 * for the properties that open a Producer, src/ for the one that runs recovery in-process.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Child } from './child.js';

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

/** The offset a durable.offset file holds, or null when it is missing, short or fails its CRC (as readers take it). */
export function decodeHint(b: Buffer | undefined): number | null {
  if (b === undefined || b.length < 12 || b.readUInt32LE(8) !== crc32(b.subarray(0, 8))) return null;
  return b.readUInt32LE(0) + b.readUInt32LE(4) * 2 ** 32;
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

/** Every file under `dir` by relative path. */
export function snapshot(dir: string): Map<string, Buffer> {
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

/** What the kit takes from the copy of the library a test file loads. */
export interface Library {
  readonly LogError: abstract new (...args: never[]) => Error & { readonly code: string };
  /** A nonTx consumer of `logDir` from the oldest record. */
  openOldest(logDir: string): Promise<{ iter(): Iterable<{ readonly offset: number; readonly data: Uint8Array; readonly key: Uint8Array | null; readonly headers: Readonly<Record<string, string>> | null }>; close(): Promise<void> }>;
}

/** The error, unless it is a LogError (of `lib`) with one of `codes`: then null. */
export function untyped(lib: Library, e: unknown, codes: ReadonlySet<string>): string | null {
  if (e instanceof lib.LogError && codes.has(e.code)) return null;
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
  /** Why the error is not one a read may end with (untyped()), else null. */
  readonly untyped: string | null;
}

/**
 * The key and headers the pristine logs give the record at `offset` (format 2): a third of the records
 * carry a key, every sixth one headers as well, so that damage also lands in attribute blocks.
 */
export function attributesOf(offset: number): { key: string; headers?: Record<string, string> } | undefined {
  if (offset % 3 !== 1) return undefined;
  return offset % 6 === 1 ? { key: `k${offset}`, headers: { o: String(offset) } } : { key: `k${offset}` };
}

function attributesMatch(m: { offset: number; key: Uint8Array | null; headers: Readonly<Record<string, string>> | null }): boolean {
  const want = attributesOf(m.offset);
  const key = m.key === null ? null : Buffer.from(m.key).toString();
  if (key !== (want?.key ?? null)) return false;
  return JSON.stringify(m.headers === null ? null : { ...m.headers }) === JSON.stringify(want?.headers ?? null);
}

/** Reads the whole directory from the oldest record with a nonTx consumer (no producer in this process). */
export async function readDir(lib: Library, dir: string, records: readonly Buffer[]): Promise<ReadResult> {
  const offsets: number[] = [];
  const wrong: number[] = [];
  const failed = (e: unknown, phase: 'open' | 'iter'): ReadResult => ({ offsets, wrong, error: e, phase, untyped: untyped(lib, e, KNOWN_READ_CODES) });
  let c: Awaited<ReturnType<Library['openOldest']>>;
  try {
    c = await lib.openOldest(dir);
  } catch (e) {
    return failed(e, 'open');
  }
  try {
    for (const m of c.iter()) {
      offsets.push(m.offset);
      const want = records[m.offset];
      if (want === undefined || !Buffer.from(m.data).equals(want) || !attributesMatch(m)) wrong.push(m.offset);
    }
    return { offsets, wrong, error: null, phase: null, untyped: null };
  } catch (e) {
    return failed(e, 'iter');
  } finally {
    await c.close();
  }
}

/** The safety part every read must satisfy: typed errors, no wrong record, contiguous offsets. */
export function readSafety(r: ReadResult): string | null {
  if (r.untyped !== null) return `${r.phase}: ${r.untyped}`;
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
 * standardPristines() (corruption-build.ts) built in a child process, for a test file that runs on src/:
 * the Producer's writer thread starts only from dist/.
 */
export async function pristinesFromChild(): Promise<Pristine[]> {
  const child = Child.fork('corruption-pristines.ts', []);
  const m = await child.next<{ type: string; logs: EncodedPristine[] }>('pristines', 60_000);
  await child.exited;
  const logs = m.logs.map(decodePristine);
  for (const p of logs) console.log(`  ${describeLayout(p)}`);
  return logs;
}

/** A Pristine as JSON carries it (bytes in base64). */
export interface EncodedPristine {
  readonly label: string;
  readonly files: Array<[string, string]>;
  readonly records: string[];
  readonly segments: readonly SegmentLayout[];
  readonly hint: number;
}

export function encodePristine(p: Pristine): EncodedPristine {
  return {
    label: p.label, segments: p.segments, hint: p.hint,
    files: [...p.files].map(([n, b]) => [n, b.toString('base64')]), records: p.records.map((r) => r.toString('base64')),
  };
}

function decodePristine(e: EncodedPristine): Pristine {
  return {
    label: e.label, segments: e.segments, hint: e.hint,
    files: new Map(e.files.map(([n, b]) => [n, Buffer.from(b, 'base64')])), records: e.records.map((r) => Buffer.from(r, 'base64')),
  };
}
