/**
 * appendBatch over an array whose `length` is not a whole number of records (a Proxy whose get trap
 * answers -1, NaN, 1.5 or '2'): refused with ERR_INVALID_OPTION, nothing appended, the offsets
 * unchanged. Before, such a batch went through: -1 and NaN wrote a batch of no record into the ring
 * (the writer failed the log with ERR_INTERNAL, and the next append got an offset already given),
 * 1.5 stored two records and moved the next offset by 1.5, '2' made the next offset a string ('12').
 */
import * as assert from 'uvu/assert';
import { ErrorCode, Producer, SyncPolicy } from '../dist/index.js';
import { digestDir, readRecords, suite, tempDir, throwsWith } from './kit.js';

const test = suite('batch-length-lie');

type Handle = Pick<Producer, 'append' | 'appendBatch' | 'flush'>;
const modes: Array<[string, (p: Producer) => Handle]> = [
  ['the owner\'s handle', (p) => p],
  ['a shared owner\'s handle', (p) => { p.share(); return p; }],
  ['an attached handle', (p) => Producer.attach(p.share())],
];

/** The batch ['b0', 'b1'] whose length reads as `length`. */
function lying(length: unknown): string[] {
  return new Proxy(['b0', 'b1'], { get: (t, k, r): unknown => (k === 'length' ? length : Reflect.get(t, k, r)) });
}

for (const [what, handle] of modes) {
  for (const length of [-1, Number.NaN, 1.5, '2', Infinity]) {
    test(`${what}: a length of ${String(length)} is ERR_INVALID_OPTION, nothing appended, the offsets unchanged`, async () => {
      const logDir = tempDir();
      const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
      const h = handle(p);
      assert.is(h.append('r0'), 0);
      await h.flush({ signal: AbortSignal.timeout(10_000) });
      const before = digestDir(logDir);
      const e = throwsWith(() => h.appendBatch(lying(length)), ErrorCode.INVALID_OPTION);
      assert.match(e.message, /length/);
      await h.flush({ signal: AbortSignal.timeout(10_000) });
      assert.is(digestDir(logDir), before, 'the directory is unchanged');
      assert.is(h.append('r1'), 1);
      assert.is(h.appendBatch(['b0', 'b1']), 2);
      await h.flush({ signal: AbortSignal.timeout(10_000) });
      assert.is(p.nextOffset, 4);
      await p.close();
      assert.equal((await readRecords(logDir)).map((r) => [r.offset, r.text]), [[0, 'r0'], [1, 'r1'], [2, 'b0'], [3, 'b1']]);
    });
  }
}

test.run();
