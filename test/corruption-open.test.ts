/**
 * Corruption, property-based, through the public entry points that start or take something: damaged
 * transactional cursor files opened by a clientTx Consumer, and damaged log directories opened (twice)
 * by the real Producer.open, which runs recovery in its writer thread. See
 * docs/reliability.corruption.part.md.
 */
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, LogError, Producer, Whence } from '../dist/index.js';
import { announceSeed, checkProperty } from './fc-run.js';
import { suite, digestDir } from './kit.js';
import { cleanupScratch, describeLayout, discard, encodeHint, materialise, untyped, type Library, type Pristine } from './corruption-kit.js';
import { buildPristine } from './corruption-build.js';
import { applyBytes, applyFiles, byteDamage, fileDamage, withSegments, type ByteDamage, type FileDamage } from './corruption-damage.js';

const test = suite('corruption-open');
const FILE = 'test/corruption-open.test.ts';
const CURSOR = 'cursors/client.c.cursor';
const SLOT_BYTES = 32 + 65_536;
/**
 * Producer.open starts a writer thread per open (a worker thread alone takes about 40 ms to start on
 * the 2-core test machine, and a case opens twice), so this property is the slowest in npm test: 60 cases (about
 * 12 s there) where the other properties run 1,000 or more. FC_RUNS changes it (the full soak,
 * test/soak/full-suites.soak.ts, runs it with FC_RUNS=2000).
 */
const OPEN_RUNS = 60;

/** This file runs on dist/: the kit reads and classifies errors with it. */
const lib: Library = { LogError, openOldest: (logDir) => Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) }) };

let log: Pristine;
/** The cursor file's two slots: where each one's bytes are, and what it holds. */
let slots: { at: number; used: number; sequence: number; offset: number; state: string }[] = [];

test.before(async () => {
  announceSeed(FILE);
  log = await buildPristine({ label: 'with-cursor', fileRollSize: 1024, syncedFrames: 26, unsyncedFrames: 0, cursorCommits: 5 });
  console.log(`  ${describeLayout(log)}`);
  const c = log.files.get(CURSOR)!;
  slots = [0, SLOT_BYTES].map((at) => {
    const len = c.readUInt32LE(at + 24);
    return { at, used: 32 + len, sequence: Number(c.readBigUInt64LE(at + 8)), offset: Number(c.readBigUInt64LE(at + 16)), state: c.subarray(at + 32, at + 32 + len).toString() };
  });
  // Both slots hold a commit, and they differ: which one is used is visible.
  assert.ok(slots[0]!.sequence >= 2 && slots[1]!.sequence >= 2 && slots[0]!.offset !== slots[1]!.offset, JSON.stringify(slots));
});
test.after(cleanupScratch);

type CursorDamage =
  | { readonly kind: 'flip'; readonly slot: number; readonly at: number; readonly bit: number }
  | { readonly kind: 'overwrite'; readonly slot: number; readonly at: number; readonly bytes: readonly number[] }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'append'; readonly bytes: readonly number[] }
  | { readonly kind: 'delete' }
  | { readonly kind: 'foreign' };

const cursorDamage: fc.Arbitrary<CursorDamage> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), slot: fc.nat(), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('overwrite' as const), slot: fc.nat(), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 48 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 64 }) }),
  fc.constant({ kind: 'delete' as const }),
  fc.constant({ kind: 'foreign' as const }),
);

/** Applies the damage; positions near a slot (slot % 3 === 2: anywhere in the file). */
function damageCursor(files: Map<string, Buffer>, damage: readonly CursorDamage[]): void {
  for (const d of damage) {
    const cur = files.get(CURSOR);
    if (d.kind === 'delete') { files.delete(CURSOR); continue; }
    if (d.kind === 'foreign') { files.set('cursors/notes.txt', Buffer.from('x')); files.set(`${CURSOR}.new`, Buffer.alloc(40, 7)); continue; }
    if (cur === undefined) continue;
    const b = Buffer.from(cur);
    const where = (slot: number, at: number): number => {
      const s = slots[slot % 3];
      return s === undefined ? at % Math.max(1, b.length) : s.at + (at % (s.used + 8));
    };
    if (d.kind === 'flip') {
      const at = where(d.slot, d.at);
      if (at < b.length) b[at]! ^= 1 << d.bit;
      files.set(CURSOR, b);
    } else if (d.kind === 'overwrite') {
      const at = where(d.slot, d.at);
      for (let k = 0; k < d.bytes.length && at + k < b.length; k++) b[at + k] = d.bytes[k]!;
      files.set(CURSOR, b);
    } else if (d.kind === 'truncate') {
      files.set(CURSOR, b.subarray(0, d.at % b.length));
    } else {
      files.set(CURSOR, Buffer.concat([b, Buffer.from(d.bytes)]));
    }
  }
}

/** A slot is whole when every byte it uses is still there and unchanged (the oracle, not the CRC). */
function slotWhole(now: Buffer | undefined, s: { at: number; used: number }): boolean {
  const was = log.files.get(CURSOR)!;
  return now !== undefined && now.length >= s.at + s.used && now.subarray(s.at, s.at + s.used).equals(was.subarray(s.at, s.at + s.used));
}

async function checkCursor(damage: CursorDamage[]): Promise<void> {
  const files = new Map(log.files);
  damageCursor(files, damage);
  const now = files.get(CURSOR);
  const whole = slots.filter((s) => slotWhole(now, s)).sort((a, b) => b.sequence - a.sequence);
  // Deleted: a new cursor at the oldest record. One slot whole: the newest whole one. None: damage.
  const want = now === undefined ? { offset: 0, state: null } : whole.length > 0 ? { offset: whole[0]!.offset, state: whole[0]!.state } : null;
  const dir = materialise(files);
  try {
    for (let round = 0; round < 2; round++) {
      let c: Consumer;
      try {
        c = await Consumer.open({ logDir: dir, style: ConsumerStyle.clientTx('c') });
      } catch (e) {
        const u = untyped(lib, e, new Set(['ERR_LOG_CORRUPT']));
        if (u !== null) throw new Error(u);
        if (want !== null) throw new Error(`open failed (${(e as Error).message}); expected the cursor at ${want.offset}`);
        continue;
      }
      try {
        if (want === null) throw new Error(`opened at ${c.committedOffset}; expected ERR_LOG_CORRUPT (no whole slot)`);
        const state = c.state === null ? null : Buffer.from(c.state).toString();
        if (c.committedOffset !== want.offset || state !== want.state || c.position !== want.offset) {
          throw new Error(`round ${round}: cursor at ${c.committedOffset} (position ${c.position}) with state ${state}; expected ${want.offset} with ${want.state}`);
        }
        const first = c.iter().next();
        if (first.done === true || first.value.offset !== want.offset || !Buffer.from(first.value.data).equals(log.records[want.offset]!)) {
          throw new Error(`round ${round}: first record handed out is not record ${want.offset}`);
        }
      } finally {
        await c.close();
      }
    }
  } finally {
    discard(dir);
  }
}

test('property: damaged cursor files: the newest whole slot is used, no whole slot is ERR_LOG_CORRUPT', async () => {
  await checkProperty('cursor/slots', fc.array(cursorDamage, { minLength: 1, maxLength: 3 }), checkCursor, { runs: 1000, file: FILE });
});

test('one damaged slot: the other is used; both damaged: ERR_LOG_CORRUPT', async () => {
  await checkCursor([{ kind: 'flip', slot: 0, at: 20, bit: 3 }]);
  await checkCursor([{ kind: 'flip', slot: 1, at: 9, bit: 0 }]);
  await checkCursor([{ kind: 'flip', slot: 0, at: 0, bit: 0 }, { kind: 'flip', slot: 1, at: 0, bit: 0 }]);
});

type OpenResult = { next: number; cut: boolean; removed: number } | { code: string; message: string };

async function openClose(dir: string): Promise<OpenResult> {
  let p: Producer;
  try {
    p = await Producer.open({ logDir: dir, fileRollSize: 1024, indexIntervalBytes: 512 });
  } catch (e) {
    const u = untyped(lib, e, new Set(['ERR_LOG_CORRUPT', 'ERR_IO']));
    if (u !== null) throw new Error(u);
    return { code: (e as { code: string }).code, message: (e as Error).message };
  }
  const r = { next: p.nextOffset, cut: p.recovery.truncated !== null, removed: p.recovery.removed.length };
  await p.close();
  return r;
}

async function checkProducerOpen({ bytes, files: fdmg }: { bytes: ByteDamage[]; files: FileDamage[] }): Promise<void> {
  const files = withSegments(log, applyBytes(log, bytes));
  const dirs: string[] = [];
  applyFiles(log, files, fdmg, dirs);
  const hint = files.get('durable.offset')?.equals(encodeHint(log.hint)) ? log.hint : null;
  const dir = materialise(files);
  for (const d of dirs) mkdirSync(join(dir, d), { recursive: true });
  try {
    const first = await openClose(dir);
    if ('next' in first && hint !== null && first.next < hint) throw new Error(`opened at ${first.next}, below the durable hint ${hint}`);
    const digest = digestDir(dir);
    const second = await openClose(dir);
    const same = 'next' in first
      ? 'next' in second && second.next === first.next && !second.cut && second.removed === 0
      : 'code' in second && second.code === first.code;
    if (!same) throw new Error(`opening twice differs: ${JSON.stringify(first)} then ${JSON.stringify(second)}`);
    if (digestDir(dir) !== digest) throw new Error(`the second open changed the directory (${JSON.stringify(first)})`);
  } finally {
    discard(dir);
  }
}

test('property: Producer.open on any damage: a typed error or a log at or past the durable hint; opening again changes nothing', async () => {
  const arb = fc.record({ bytes: fc.array(byteDamage(fc.nat()), { maxLength: 2 }), files: fc.array(fileDamage, { maxLength: 2 }) });
  await checkProperty('open/producer', arb, checkProducerOpen, { runs: OPEN_RUNS, file: FILE, caseTimeoutMs: 15_000 });
});

test.run();
