/**
 * Corruption, property-based, as a reader sees it: damaged log directories read from the oldest record
 * by a nonTx consumer in a process without a producer (no writer thread; every case is in-process).
 * See docs/reliability.corruption.part.md for the properties in prose.
 */
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { announceSeed, checkProperty } from './fc-run.js';
import { suite } from './kit.js';
import { Consumer, ConsumerStyle, LogError, Whence } from '../dist/index.js';
import { cleanupScratch, describeRead, discard, materialise, readDir, readSafety, type Library, type Pristine } from './corruption-kit.js';
import { standardPristines } from './corruption-build.js';
import {
  applyBytes, applyFiles, byteDamage, expectRead, fileDamage, withSegments, type ByteDamage, type FileDamage,
} from './corruption-damage.js';

const test = suite('corruption-read');
const FILE = 'test/corruption-read.test.ts';
const RUNS = 2000;

/** This file runs on dist/: the kit reads and classifies errors with it. */
const lib: Library = { LogError, openOldest: (logDir) => Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) }) };

let logs: Pristine[] = [];

test.before(async () => {
  announceSeed(FILE);
  logs = await standardPristines();
  for (const p of logs) {
    assert.ok(p.segments.length >= 3, `${p.label}: ${p.segments.length} segments`);
  }
});
test.after(cleanupScratch);

const pick = fc.nat().map((n) => n % 2);

test('pristine logs read back whole', async () => {
  for (const p of logs) {
    const dir = materialise(p.files);
    const r = await readDir(lib, dir, p.records);
    discard(dir);
    assert.is(readSafety(r), null);
    assert.is(r.error, null);
    assert.is(r.offsets.length, p.records.length);
  }
});

/** Byte damage to segment files: the exact prefix before the first damaged frame, then the oracle's outcome. */
async function checkBytes({ log, damage }: { log: number; damage: ByteDamage[] }): Promise<void> {
  const p = logs[log]!;
  const segs = applyBytes(p, damage);
  const want = expectRead(p, segs);
  const dir = materialise(withSegments(p, segs));
  try {
    const r = await readDir(lib, dir, p.records);
    const why = readSafety(r);
    if (why !== null) throw new Error(`${p.label}: ${why}`);
    const got = describeRead(r);
    const expected = `expected 0..${want.count - 1} then ${want.outcome}`;
    const code = (r.error as { code?: string } | null)?.code;
    if (want.outcome === 'end') {
      if (r.error !== null || r.offsets.length !== want.count) throw new Error(`${p.label}: ${got}; ${expected}`);
    } else {
      if (code !== 'ERR_LOG_CORRUPT') throw new Error(`${p.label}: ${got}; ${expected}`);
      // Failing at open is allowed (the consumer checks the newest segment's end when it opens);
      // failing while reading must come exactly at the damage, after every record before it.
      if (r.phase === 'iter' && r.offsets.length !== want.count) throw new Error(`${p.label}: ${got}; ${expected}`);
    }
    if (r.offsets.length > 0 && r.offsets[0] !== 0) throw new Error(`${p.label}: first record ${r.offsets[0]}, expected 0`);
  } finally {
    discard(dir);
  }
}

test('property: byte damage to segments: the exact prefix before the first damaged frame, then the predicted outcome', async () => {
  const arb = fc.record({ log: pick, damage: fc.array(byteDamage(fc.nat()), { minLength: 1, maxLength: 3 }) });
  await checkProperty('read/bytes', arb, checkBytes, { runs: RUNS, file: FILE });
});

// Cases the properties found, kept as fixed regressions (each failed before the fix named with it).
test('regression: a damaged header of the first segment is ERR_LOG_CORRUPT, not a plain Error from Consumer.open', async () => {
  await checkBytes({ log: 0, damage: [{ kind: 'flip', seg: 0, at: { any: 0 }, bit: 0 }] });
});

test('regression: a sealed segment cut back to its header is ERR_LOG_CORRUPT, not a clean end', async () => {
  await checkBytes({ log: 0, damage: [{ kind: 'truncate', seg: 0, at: { frame: 0, delta: 0 } }] });
});

test('regression: a frame length damaged to run past the end of the newest segment, durable frames after it: ERR_LOG_CORRUPT', async () => {
  await checkBytes({ log: 0, damage: [{ kind: 'overwrite', seg: 2, at: { frame: 0, delta: 7 }, bytes: [0, 0, 4] }] });
});

/** Damage that must leave what a reader sees unchanged: derived files, the hint, files that are not the log's. */
const harmless = (d: FileDamage): boolean => d.kind === 'index' || d.kind === 'hint' || (d.kind === 'foreign' && d.which !== 'segDir');

test('property: file damage (segments deleted, duplicated, swapped; index, hint, foreign files): typed errors, no bad record, no gap', async () => {
  const arb = fc.record({
    log: pick,
    files: fc.array(fileDamage, { minLength: 1, maxLength: 3 }),
    bytes: fc.array(byteDamage(fc.nat()), { maxLength: 1 }),
  });
  await checkProperty('read/files', arb, async ({ log, files, bytes }) => {
    const p = logs[log]!;
    const map = withSegments(p, applyBytes(p, bytes));
    const dirs: string[] = [];
    applyFiles(p, map, files, dirs);
    const dir = materialise(map);
    for (const d of dirs) mkdirSync(join(dir, d), { recursive: true });
    try {
      const r = await readDir(lib, dir, p.records);
      const why = readSafety(r);
      if (why !== null) throw new Error(`${p.label}: ${why}`);
      if (bytes.length === 0 && files.every(harmless)) {
        // The index is derived data and the rest is not read: everything, exactly.
        if (r.error !== null || r.offsets.length !== p.records.length || r.offsets[0] !== 0) throw new Error(`${p.label}: ${describeRead(r)}; expected every record`);
      }
      const del = files.filter((d) => d.kind === 'deleteSeg').map((d) => d.seg % p.segments.length);
      if (bytes.length === 0 && del.length === 1 && files.length === 1 && del[0]! > 0 && del[0]! < p.segments.length - 1) {
        // A hole in the middle: everything before it, then a typed stop, never a jump past it.
        const hole = p.segments[del[0]!]!.base;
        if ((r.error as { code?: string } | null)?.code !== 'ERR_LOG_CORRUPT' || (r.phase === 'iter' && r.offsets.length !== hole)) {
          throw new Error(`${p.label}: ${describeRead(r)}; expected 0..${hole - 1} then ERR_LOG_CORRUPT`);
        }
      }
    } finally {
      discard(dir);
    }
  }, { runs: RUNS, file: FILE });
});

test.run();
