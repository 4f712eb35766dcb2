/**
 * Retention under blockingMinimumRetention records the new log start in start.offset, reads the
 * cursors again, and writes the old start back when a cursor now points into the oldest segment
 * (retention.ts). When the writer stops between the two writes (killed, a failed write, or a power
 * loss that keeps the first write and loses the second: start.offset is never fsynced), start.offset
 * names a start past a segment a transactional cursor still needs. Recovery does not complete that
 * retention: it keeps the segments below the recorded start that a cursor points into, and the
 * cursor's records are all still read. (Before, recovery deleted the segment and the consumer's next
 * open failed with ERR_POSITION_EXPIRED.)
 */
import * as assert from 'uvu/assert';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, resetCursor } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';
import { clearFaults, readTrace, setFaults } from './faults.js';

const test = suite('recovery-retention-kept-start');
const SEG0 = `${'0'.repeat(20)}.seg`;

const writerOps = (trace: string, op: string, path: RegExp): number => readTrace(trace).filter((l) => !l.fired && l.thread === 'writer' && l.op === op && path.test(l.path)).length;

test('the writer stops before it writes the old start back: the next open keeps the segment the cursor needs', async () => {
  const logDir = tempDir();
  const side = tempDir();
  const arm = join(side, 'arm');
  const trace = join(side, 'trace');
  // The writer waits before it records the new start (so that a reset writes its cursor into the
  // oldest segment meanwhile); its write of the old start back then fails, as if it had been killed.
  setFaults({ arm, trace, rules: [
    { op: 'writev', path: 'start\\.offset$', thread: 'writer', nth: 1, effect: { delayMs: 2000 } },
    { op: 'writev', path: 'start\\.offset$', thread: 'writer', nth: 2, effect: { errno: 'EIO' } },
  ] });
  const opts = { logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024, maxTotalBytes: 4096, blockingMinimumRetention: 0 };
  const p = await Producer.open(opts);
  try {
    let i = 0;
    const next = (): void => { p.append(`r-${i++}-${'x'.repeat(150)}`); };
    while (p.stats().rolls < 2) {
      next();
      await p.flush();
    }
    const c0 = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('slow') });
    await c0.nonblockingProcess(1_000_000, () => 'commit');
    await c0.close();
    writeFileSync(arm, '');
    while (writerOps(trace, 'writev', /start\.offset$/) === 0) {
      try { next(); } catch { break; }
      await waitFor(() => writerOps(trace, 'writev', /start\.offset$/) > 0 || p.durableOffset === p.nextOffset, 'the record written, or retention started');
    }
    const { to } = await resetCursor(logDir, 'slow', { to: 'oldest' });
    assert.is(to, 0);
    await waitFor(() => readTrace(trace).filter((l) => l.fired && l.thread === 'writer' && l.op === 'writev' && /start\.offset$/.test(l.path)).length >= 2 || writerOps(trace, 'unlink', /0{20}\.seg$/) > 0, 'retention to decide', 15_000);
    assert.is(writerOps(trace, 'unlink', /0{20}\.seg$/), 0, 'the live writer deleted the segment');
  } finally {
    clearFaults();
    await p.close().catch(() => undefined);
  }
  assert.ok(existsSync(join(logDir, SEG0)));
  const p2 = await Producer.open(opts);
  try {
    assert.equal(p2.recovery.removed.filter((n) => n.endsWith('.seg')), [], 'recovery removed a segment the cursor needs');
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('slow') });
    const seen: number[] = [];
    await c.nonblockingProcess(5, (r) => { seen.push(r.offset); return 'commit'; });
    await c.close();
    assert.equal(seen, [0, 1, 2, 3, 4]);
  } finally {
    await p2.close();
  }
});

test.run();
