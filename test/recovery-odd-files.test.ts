/**
 * Directories named like the log's files at open: a directory where a segment, an index, an
 * unfinished segment (<base>.seg.new) or start.offset should be is damage, refused with
 * ERR_LOG_CORRUPT naming it (not ERR_IO), and the refused open leaves the directory as it was.
 */
import * as assert from 'uvu/assert';
import { appendFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer } from '../dist/index.js';
import { digestDir, suite, tempDir } from './kit.js';
import { encodeHint } from './corruption-kit.js';

const test = suite('recovery-odd-files');

async function threeSegmentLog(): Promise<{ logDir: string; segs: string[] }> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, fileRollSize: 1024 });
  for (let i = 0; i < 40; i++) {
    p.append(`record ${i} ${'x'.repeat(60)}`);
    if (i % 10 === 9) await p.flush();
  }
  await p.close();
  return { logDir, segs: readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort() };
}

const asDirectory = (dir: string, name: string): void => {
  rmSync(join(dir, name), { force: true });
  mkdirSync(join(dir, name));
};

const cases: Array<[string, (dir: string, segs: string[]) => string]> = [
  ['the newest segment', (dir, segs) => { const s = segs.at(-1)!; asDirectory(dir, s); return s; }],
  ['a new segment past the newest', (dir) => { asDirectory(dir, '00000000000000099999.seg'); return '00000000000000099999.seg'; }],
  ['the active index', (dir, segs) => { const s = segs.at(-1)!.replace('.seg', '.idx'); asDirectory(dir, s); return s; }],
  ['an orphan index', (dir) => { asDirectory(dir, '00000000000000099999.idx'); return '00000000000000099999.idx'; }],
  ['an unfinished segment', (dir) => { asDirectory(dir, '00000000000000099999.seg.new'); return '00000000000000099999.seg.new'; }],
  ['start.offset', (dir) => { asDirectory(dir, 'start.offset'); return 'start.offset'; }],
];

for (const [where, damage] of cases) {
  test(`a directory as ${where}: ERR_LOG_CORRUPT naming it, nothing changed`, async () => {
    const { logDir, segs } = await threeSegmentLog();
    const name = damage(logDir, segs);
    const before = digestDir(logDir);
    const e = await Producer.open({ logDir }).then(async (p) => { await p.close(); return null; }, (x: Error & { code?: string }) => x);
    assert.ok(e !== null, 'the open is refused');
    assert.is(e.code, 'ERR_LOG_CORRUPT', e.message);
    assert.ok(e.message.includes(name), e.message);
    assert.is(digestDir(logDir), before, 'the directory is as it was');
  });
}

/**
 * Directories named like the index of a segment recovery removes, or of none, beside what recovery
 * changes before it removes leftovers (a torn tail it cuts, a torn roll): refused before any of that.
 */
const withChanges: Array<[string, (dir: string, segs: string[]) => string]> = [
  ['an orphan index beside a torn tail', (dir, segs) => {
    appendFileSync(join(dir, segs.at(-1)!), Buffer.alloc(20, 0xab));
    asDirectory(dir, '00000000000000099999.idx');
    return '00000000000000099999.idx';
  }],
  ['a segment below the recorded log start beside a torn tail', (dir, segs) => {
    writeFileSync(join(dir, 'start.offset'), encodeHint(Number(segs[1]!.slice(0, 20))));
    appendFileSync(join(dir, segs.at(-1)!), Buffer.alloc(20, 0xab));
    asDirectory(dir, segs[0]!);
    return segs[0]!;
  }],
  ['the index of a torn roll', (dir) => {
    writeFileSync(join(dir, '00000000000000000040.seg'), Buffer.alloc(10));
    asDirectory(dir, '00000000000000000040.idx');
    return '00000000000000000040.idx';
  }],
];

for (const [where, damage] of withChanges) {
  test(`a directory as ${where}: ERR_LOG_CORRUPT naming it, nothing changed`, async () => {
    const { logDir, segs } = await threeSegmentLog();
    const name = damage(logDir, segs);
    const before = digestDir(logDir);
    const e = await Producer.open({ logDir }).then(async (p) => { await p.close(); return null; }, (x: Error & { code?: string }) => x);
    assert.ok(e !== null, 'the open is refused');
    assert.is(e.code, 'ERR_LOG_CORRUPT', e.message);
    assert.ok(e.message.includes(name), e.message);
    assert.is(digestDir(logDir), before, 'the directory is as it was');
  });
}

test.run();
