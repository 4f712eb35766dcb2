/**
 * Cursors that move backwards or appear while retention deletes the oldest segment, under
 * blockingMinimumRetention. Retention records the new log start in start.offset, reads the cursors
 * again and only then deletes; resetCursor (and a new cursor's open) writes the cursor, then reads
 * start.offset. Whatever the interleaving, no cursor is left below the log start. The fault injector
 * holds one side at a chosen step to force each interleaving.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, resetCursor } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';
import { clearFaults, readTrace, setFaults, type FaultRule } from './faults.js';

const test = suite('retention-cursor-race');
const SEG0 = `${'0'.repeat(20)}.seg`;

/** A log of 3 segments whose cursor 'slow' committed everything; retention runs on the next appends (faults armed by `arm`). */
async function setUp(rules: readonly FaultRule[]): Promise<{ p: Producer; logDir: string; arm: string; trace: string; next: () => void; committed: number }> {
  const logDir = tempDir();
  const side = tempDir();
  const arm = join(side, 'arm');
  const trace = join(side, 'trace');
  setFaults({ arm, trace, rules });
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024, maxTotalBytes: 4096, blockingMinimumRetention: 0 });
  let i = 0;
  const next = (): void => { p.append(`r-${i++}-${'x'.repeat(150)}`); };
  while (p.stats().rolls < 2) {
    next();
    await p.flush();
  }
  const c0 = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('slow') });
  await c0.nonblockingProcess(1_000_000, () => 'commit');
  const committed = c0.nextOffset;
  await c0.close();
  return { p, logDir, arm, trace, next, committed };
}

const writerOps = (trace: string, op: string, path: RegExp): number => readTrace(trace).filter((l) => !l.fired && l.thread === 'writer' && l.op === op && path.test(l.path)).length;

/** Appends until the writer sits in its (delayed) write of the new log start. */
async function untilRetentionRecordsStart(s: { p: Producer; arm: string; trace: string; next: () => void }): Promise<void> {
  writeFileSync(s.arm, '');
  while (writerOps(s.trace, 'writev', /start\.offset$/) === 0) {
    s.next();
    await waitFor(() => writerOps(s.trace, 'writev', /start\.offset$/) > 0 || s.p.durableOffset === s.p.nextOffset, 'the record written, or retention started');
  }
}

test('a reset to the oldest record while retention deletes the oldest segment leaves the cursor on a kept record', async () => {
  const s = await setUp([{ op: 'unlink', path: '/0{20}\\.seg$', thread: 'writer', nth: 1, effect: { delayMs: 3000 } }]);
  try {
    writeFileSync(s.arm, '');
    while (s.p.logStartOffset === 0) {
      s.next();
      await waitFor(() => s.p.logStartOffset > 0 || s.p.durableOffset === s.p.nextOffset, 'the record written, or retention started');
    }
    const { to } = await resetCursor(s.logDir, 'slow', { to: 'oldest' });
    await waitFor(() => !existsSync(join(s.logDir, SEG0)), 'the oldest segment to be unlinked');
    assert.ok(to >= s.p.logStartOffset, `the cursor was reset to ${to}, below the log start ${s.p.logStartOffset}`);
    const c = await Consumer.open({ logDir: s.logDir, style: ConsumerStyle.clientTx('slow') });
    await c.close();
  } finally {
    clearFaults();
    await s.p.close();
  }
});

test('retention keeps the oldest segment when a reset writes a cursor into it after retention read the cursors', async () => {
  // The writer has read the cursors (all past the segment) and waits before it records the new start.
  const s = await setUp([{ op: 'writev', path: 'start\\.offset$', thread: 'writer', nth: 1, effect: { delayMs: 2000 } }]);
  try {
    await untilRetentionRecordsStart(s);
    const { to } = await resetCursor(s.logDir, 'slow', { to: 'oldest' });
    assert.is(to, 0);
    // Then: the start written back (kept), or the segment unlinked.
    await waitFor(() => writerOps(s.trace, 'writev', /start\.offset$/) >= 2 || writerOps(s.trace, 'unlink', /0{20}\.seg$/) > 0, 'retention to decide', 15_000);
    assert.is(writerOps(s.trace, 'unlink', /0{20}\.seg$/), 0, 'retention deleted the segment the reset cursor points into');
    assert.ok(existsSync(join(s.logDir, SEG0)));
    assert.is(s.p.logStartOffset, 0);
    const c = await Consumer.open({ logDir: s.logDir, style: ConsumerStyle.clientTx('slow') });
    const seen: number[] = [];
    await c.nonblockingProcess(1_000_000, (r) => { seen.push(r.offset); return 'commit'; });
    await c.close();
    assert.is(seen[0], 0);
    await s.p.flush(); // the cursor passed the segment: retention goes on and the held append is written
  } finally {
    clearFaults();
    await s.p.close();
  }
});

test('a reset that finds the start retention recorded past its target after writing the cursor follows the new start', async () => {
  // The reset resolves 'oldest' while the writer waits to record the new start, and writes the
  // cursor only after retention read the cursors again and deleted the segment.
  const s = await setUp([
    { op: 'writev', path: 'start\\.offset$', thread: 'writer', nth: 1, effect: { delayMs: 1000 } },
    { op: 'rename', path: 'slow\\.cursor', thread: 'main', nth: 1, effect: { delayMs: 5000 } },
  ]);
  try {
    await untilRetentionRecordsStart(s);
    const { to } = await resetCursor(s.logDir, 'slow', { to: 'oldest' });
    await waitFor(() => !existsSync(join(s.logDir, SEG0)), 'the oldest segment to be unlinked');
    assert.ok(to >= s.p.logStartOffset && to > 0, `the cursor was reset to ${to}, below the log start ${s.p.logStartOffset}`);
    const c = await Consumer.open({ logDir: s.logDir, style: ConsumerStyle.clientTx('slow') });
    await c.close();
  } finally {
    clearFaults();
    await s.p.close();
  }
});

test('a reset to an offset that retention deletes meanwhile fails coded and leaves the cursor where it was', async () => {
  const s = await setUp([
    { op: 'writev', path: 'start\\.offset$', thread: 'writer', nth: 1, effect: { delayMs: 1000 } },
    { op: 'rename', path: 'slow\\.cursor', thread: 'main', nth: 1, effect: { delayMs: 5000 } },
  ]);
  try {
    await untilRetentionRecordsStart(s);
    const e = await resetCursor(s.logDir, 'slow', { to: 1 }).then(() => null, (err: unknown) => err as Error & { code?: string });
    assert.ok(e !== null, 'the reset to offset 1 succeeded below the new log start');
    assert.is(e.code, 'ERR_INVALID_OPTION');
    await waitFor(() => !existsSync(join(s.logDir, SEG0)), 'the oldest segment to be unlinked');
    const c = await Consumer.open({ logDir: s.logDir, style: ConsumerStyle.clientTx('slow') });
    assert.is(c.nextOffset, s.committed);
    await c.close();
  } finally {
    clearFaults();
    await s.p.close();
  }
});

for (const [name, style] of [['a new clientTx cursor', () => ConsumerStyle.clientTx('fresh')], ['the new globalTx cursor', () => ConsumerStyle.globalTx()]] as const) {
  test(`${name} created at the log start while retention deletes the oldest segment keeps its records`, async () => {
    const s = await setUp([{ op: 'writev', path: 'start\\.offset$', thread: 'writer', nth: 1, effect: { delayMs: 2000 } }]);
    try {
      await untilRetentionRecordsStart(s);
      const c = await Consumer.open({ logDir: s.logDir, style: style() });
      let first = -1;
      await c.nonblockingProcess(1, (r) => { first = r.offset; return 'commit'; });
      await c.close();
      assert.is(first, 0);
      await waitFor(() => writerOps(s.trace, 'writev', /start\.offset$/) >= 2 || writerOps(s.trace, 'unlink', /0{20}\.seg$/) > 0, 'retention to decide', 15_000);
      const again = await Consumer.open({ logDir: s.logDir, style: style() });
      assert.is(again.nextOffset, 1);
      await again.nonblockingProcess(1_000_000, () => 'commit');
      await again.close();
      await s.p.flush();
    } finally {
      clearFaults();
      await s.p.close();
    }
  });
}

test('a new cursor another process creates while retention unlinks the oldest segment starts at the recorded start', async () => {
  const s = await setUp([{ op: 'unlink', path: '/0{20}\\.seg$', thread: 'writer', nth: 1, effect: { delayMs: 5000 } }]);
  try {
    writeFileSync(s.arm, '');
    while (s.p.logStartOffset === 0) {
      s.next();
      await waitFor(() => s.p.logStartOffset > 0 || s.p.durableOffset === s.p.nextOffset, 'the record written, or retention started');
    }
    // The segment is still listed (its unlink waits): the other process's bounds start at 0.
    const index = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `const { Consumer, ConsumerStyle } = await import(${JSON.stringify(index)});
      const c = await Consumer.open({ logDir: ${JSON.stringify(s.logDir)}, style: ConsumerStyle.clientTx('other') });
      let first = -1;
      await c.nonblockingProcess(1, (r) => { first = r.offset; return 'commit'; });
      await c.close();
      console.log(first);`;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.is(out.status, 0, out.stderr);
    const first = Number(out.stdout.trim());
    await waitFor(() => !existsSync(join(s.logDir, SEG0)), 'the oldest segment to be unlinked');
    assert.ok(first >= s.p.logStartOffset, `the new cursor started at ${first}, below the log start ${s.p.logStartOffset}`);
    const c = await Consumer.open({ logDir: s.logDir, style: ConsumerStyle.clientTx('other') });
    await c.close();
  } finally {
    clearFaults();
    await s.p.close();
  }
});

test.run();
