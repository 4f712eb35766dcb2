/**
 * Corruption, property-based, as recovery sees it: damaged log directories recovered in-process with
 * the same function the writer thread runs at Producer.open (src/storage/recovery.ts), then read back
 * through the public Consumer, then recovered again. A smaller share of cases goes through the real
 * Producer.open (corruption-open.test.ts). See docs/reliability.corruption.part.md.
 */
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { announceSeed, checkProperty } from './fc-run.js';
import { suite, digestDir } from './kit.js';
import {
  cleanupScratch, decodeHint, describeRead, discard, encodeHint, materialise, pristinesFromChild, readDir, readSafety, untyped, type Library, type Pristine,
} from './corruption-kit.js';
import {
  applyBytes, applyFiles, byteDamage, expectRead, fileDamage, judgeSegment, validFrameAfter, withSegments, type ByteDamage,
} from './corruption-damage.js';
import { recoverLog, type RecoveredLog } from '../src/storage/recovery.js';
import { nodeFileIO } from '../src/storage/file-io.js';
import { LogError } from '../src/errors.js';
import { Consumer, ConsumerStyle, Whence } from '../src/index.js';

const test = suite('corruption-recover');
const FILE = 'test/corruption-recover.test.ts';
const RUNS = 2000;

/**
 * This file runs on src/ only (recoverLog is internal, and a second copy of the library would bring a
 * second LogError class): the pristine logs come from a child process, and are read back with src's
 * Consumer.
 */
const lib: Library = { LogError, openOldest: (logDir) => Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) }) };

let logs: Pristine[] = [];

test.before(async () => {
  announceSeed(FILE);
  logs = await pristinesFromChild();
});
test.after(cleanupScratch);

type Outcome = { readonly ok: RecoveredLog } | { readonly error: unknown };

function recover(dir: string): Outcome {
  try {
    return { ok: recoverLog(nodeFileIO, dir, 512, 1_700_000_000_000) };
  } catch (e) {
    return { error: e };
  }
}

/**
 * Errors recovery may raise: ERR_LOG_CORRUPT, ERR_IO, or a system error (errno code), which the writer
 * thread reports as ERR_IO. A TypeError, RangeError or the like is a bug.
 */
function recoveryFault(e: unknown): string | null {
  if (e instanceof LogError && (e.code === 'ERR_LOG_CORRUPT' || e.code === 'ERR_IO')) return null;
  const sys = e as NodeJS.ErrnoException;
  if (e instanceof Error && typeof sys.code === 'string' && /^E[A-Z]+$/.test(sys.code) && typeof sys.syscall === 'string') return null;
  return untyped(lib, e, new Set());
}

const summary = (o: Outcome): string => ('ok' in o ? `next ${o.ok.nextOffset}, cut ${JSON.stringify(o.ok.truncated)}, removed [${o.ok.removed.join()}]` : `${(o.error as { code?: string }).code}: ${(o.error as Error).message}`);

/** Recovery run a second time changes nothing and reaches the same result. */
function checkIdempotent(dir: string, first: Outcome, label: string): void {
  const before = digestDir(dir);
  const again = recover(dir);
  const after = digestDir(dir);
  if (before !== after) throw new Error(`${label}: recovering again changed the directory (first: ${summary(first)}; second: ${summary(again)})`);
  if ('ok' in first) {
    if (!('ok' in again) || again.ok.nextOffset !== first.ok.nextOffset || again.ok.truncated !== null || again.ok.removed.length > 0) {
      throw new Error(`${label}: second recovery differs: ${summary(first)} then ${summary(again)}`);
    }
  } else if ('ok' in again || (again.error as { code?: string }).code !== (first.error as { code?: string }).code) {
    throw new Error(`${label}: second recovery differs: ${summary(first)} then ${summary(again)}`);
  }
}

type HintVariant = 'kept' | 'missing' | 'garbage';

function withHint(files: Map<string, Buffer>, p: Pristine, h: HintVariant): number | null {
  if (h === 'missing') files.delete('durable.offset');
  if (h === 'garbage') files.set('durable.offset', Buffer.from('not a hint!!'));
  if (h === 'kept') files.set('durable.offset', encodeHint(p.hint));
  return h === 'kept' ? p.hint : null;
}

/**
 * What recovery must do with damage confined to the newest segment. A possible torn tail (nothing
 * after the longest intact prefix proves it was durable, and the hint does not claim records beyond
 * it) is cut to exactly that prefix. Otherwise the damage is to durable data: ERR_LOG_CORRUPT from
 * recovery, or (damage below a trusted index entry, which recovery does not rescan, like sealed
 * segments) from the reader, after exactly the records before it.
 */
function expectRecover(p: Pristine, segs: readonly Buffer[], hint: number | null): { cut: { next: number; size: number; removed: boolean } } | { durable: number } {
  const last = p.segments.length - 1;
  const layout = p.segments[last]!;
  const d = segs[last]!;
  const v = judgeSegment(layout, p.files.get(layout.name)!, d);
  if (!v.headerIntact) {
    // A header is fsynced before any frame is written: valid frames after a bad header prove damage.
    if (validFrameAfter(d, -1, null)) return { durable: layout.base };
    if (hint !== null && layout.base < hint) return { durable: layout.base };
    return { cut: { next: layout.base, size: last === 0 ? 32 : -1, removed: true } };
  }
  if (hint !== null && v.prefixEnd < hint) return { durable: v.prefixEnd };
  if (v.extra && validFrameAfter(d, v.prefixPos, v.prefixPos)) return { durable: v.prefixEnd };
  return { cut: { next: v.prefixEnd, size: v.prefixPos, removed: false } };
}

const hintArb = fc.constantFrom<HintVariant>('kept', 'missing', 'garbage');
const pick = fc.nat().map((n) => n % 2);

async function checkTail({ log, hint, damage }: { log: number; hint: HintVariant; damage: ByteDamage[] }): Promise<void> {
  const p = logs[log]!;
  const newest = p.segments.length - 1;
  const segs = applyBytes(p, damage.map((d) => ({ ...d, seg: newest })));
  const files = withSegments(p, segs);
  const h = withHint(files, p, hint);
  const want = expectRecover(p, segs, h);
  const label = `${p.label}, hint ${hint}`;
  const dir = materialise(files);
  try {
    const got = recover(dir);
    if ('error' in got) {
      const fault = recoveryFault(got.error);
      if (fault !== null) throw new Error(`${label}: ${fault}`);
    }
    if ('cut' in want) {
      // A torn tail: recovered to exactly the longest valid prefix, and read back whole.
      if (!('ok' in got) || got.ok.nextOffset !== want.cut.next) throw new Error(`${label}: ${summary(got)}; expected a torn tail cut to offset ${want.cut.next}`);
      const seg = p.segments[newest]!;
      if (!want.cut.removed && readFileSync(join(dir, seg.name)).length !== want.cut.size) {
        throw new Error(`${label}: ${seg.name} is ${readFileSync(join(dir, seg.name)).length} bytes after recovery, expected ${want.cut.size}`);
      }
      const r = await readDir(lib, dir, p.records);
      const why = readSafety(r);
      if (why !== null || r.error !== null || r.offsets.length !== want.cut.next) throw new Error(`${label}: after recovery ${why ?? describeRead(r)}; expected 0..${want.cut.next - 1}`);
    } else if ('ok' in got) {
      // Damage to durable data recovery did not rescan: the reader must stop there.
      const r = await readDir(lib, dir, p.records);
      const why = readSafety(r);
      const code = (r.error as { code?: string } | null)?.code;
      if (why !== null || code !== 'ERR_LOG_CORRUPT' || (r.phase === 'iter' && r.offsets.length !== want.durable)) {
        throw new Error(`${label}: recovery ${summary(got)}, then ${why ?? describeRead(r)}; expected ERR_LOG_CORRUPT at offset ${want.durable}`);
      }
    } else if ((got.error as { code?: string }).code !== 'ERR_LOG_CORRUPT') {
      throw new Error(`${label}: ${summary(got)}; expected ERR_LOG_CORRUPT`);
    }
    checkIdempotent(dir, got, label);
  } finally {
    discard(dir);
  }
}

test('property: damage to the newest segment: a torn tail is cut to the longest valid prefix, durable damage is ERR_LOG_CORRUPT; idempotent', async () => {
  const arb = fc.record({ log: pick, hint: hintArb, damage: fc.array(byteDamage(fc.constant(0)), { minLength: 1, maxLength: 3 }) });
  await checkProperty('recover/tail', arb, checkTail, { runs: RUNS, file: FILE });
});

async function checkAny({ log, hint, bytes, files: fdmg }: { log: number; hint: HintVariant; bytes: ByteDamage[]; files: Parameters<typeof applyFiles>[2] }): Promise<void> {
  const p = logs[log]!;
  const segs = applyBytes(p, bytes);
  const files = withSegments(p, segs);
  withHint(files, p, hint);
  const dirs: string[] = [];
  applyFiles(p, files, fdmg, dirs);
  const hintNow = files.get('durable.offset')?.equals(encodeHint(p.hint)) ? p.hint : null;
  const label = `${p.label}, hint ${hint}`;
  const dir = materialise(files);
  for (const d of dirs) mkdirSync(join(dir, d), { recursive: true });
  try {
    const got = recover(dir);
    if ('error' in got) {
      const fault = recoveryFault(got.error);
      if (fault !== null) throw new Error(`${label}: ${fault}`);
    } else {
      if (hintNow !== null && got.ok.nextOffset < hintNow) throw new Error(`${label}: recovered to ${got.ok.nextOffset}, below the durable hint ${hintNow}`);
      const r = await readDir(lib, dir, p.records);
      const why = readSafety(r);
      if (why !== null) throw new Error(`${label}: after recovery ${summary(got)}: ${why}`);
      if (fdmg.length === 0) {
        // Byte damage only: reading the recovered files follows the reader's oracle exactly.
        // A newest segment removed as a torn roll is simply no longer part of the log.
        const kept = { ...p, segments: p.segments.filter((s) => !got.ok.removed.includes(s.name)) };
        const hintFile = join(dir, 'durable.offset');
        const want = expectRead(kept, kept.segments.map((s) => readFileSync(join(dir, s.name))), decodeHint(existsSync(hintFile) ? readFileSync(hintFile) : undefined));
        const code = (r.error as { code?: string } | null)?.code;
        const fine = want.outcome === 'end'
          ? r.error === null && r.offsets.length === want.count
          : code === 'ERR_LOG_CORRUPT' && (r.phase === 'open' || r.offsets.length === want.count);
        if (!fine) throw new Error(`${label}: after recovery ${summary(got)}: ${describeRead(r)}; expected 0..${want.count - 1} then ${want.outcome}`);
      }
    }
    checkIdempotent(dir, got, label);
  } finally {
    discard(dir);
  }
}

test('property: any damage: recovery gives a typed error or a log that reads back safely, never below the durable hint; idempotent', async () => {
  const arb = fc.record({
    log: pick,
    hint: hintArb,
    bytes: fc.array(byteDamage(fc.nat()), { maxLength: 3 }),
    files: fc.array(fileDamage, { maxLength: 2 }),
  });
  await checkProperty('recover/any', arb, checkAny, { runs: RUNS, file: FILE });
});

// Cases the properties found, kept as fixed regressions (each failed before the fix named with it).
test('regression: a torn frame after the last fsync, followed by an indexed frame, is cut, not kept inside the log', async () => {
  await checkTail({ log: 1, hint: 'kept', damage: [{ kind: 'flip', seg: 0, at: { frame: 119985483, delta: 0 }, bit: 0 }] });
});

test('regression: two segments that look like torn rolls: a failed recovery removes nothing, and fails the same way again', async () => {
  await checkAny({
    log: 0, hint: 'kept',
    bytes: [{ kind: 'truncate', seg: 2, at: { any: 0 } }],
    files: [{ kind: 'duplicateSeg', seg: 2, as: 'afterEnd' }],
  });
});

test('pristine logs recover unchanged'
, async () => {
  for (const p of logs) {
    const dir = materialise(p.files);
    const got = recover(dir);
    assert.ok('ok' in got, summary(got));
    if ('ok' in got) {
      assert.is(got.ok.nextOffset, p.records.length);
      assert.is(got.ok.truncated, null);
    }
    discard(dir);
  }
});

test.run();
