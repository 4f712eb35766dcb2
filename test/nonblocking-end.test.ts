/**
 * Nonblocking reads hand out the records in the log when they start, then end: records appended
 * while nonblockingProcess (a function handler) or iter() runs are left for the next call, so a
 * producer that keeps up cannot keep the call going.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, SyncPolicy, Whence } from '../dist/index.js';
import { liveLogOf, suite } from './kit.js';

const test = suite('nonblocking-end');

test('nonblockingProcess over a 2-record log ends after the 2 records that were there', async () => {
  const { logDir, p } = await liveLogOf(2, { syncPolicy: SyncPolicy.always() });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('n') });
  let calls = 0;
  try {
    // Each record appends one more, durable before the handler answers; 'break' bounds a call that chases them.
    const s = await c.nonblockingProcess(null, async () => {
      if (++calls >= 100) return 'break';
      p.append('more');
      await p.flush();
      return 'commit';
    });
    assert.equal(s, { committed: 2, skipped: 0, retried: 0, stoppedBy: 'end' });
    // The records appended meanwhile come with the next call.
    const next = await c.nonblockingProcess(3, () => 'commit');
    assert.equal(next, { committed: 2, skipped: 0, retried: 0, stoppedBy: 'end' });
  } finally {
    await c.close();
    await p.close();
  }
});

test('iter() over a 2-record log ends after the 2 records that were there', async () => {
  const { logDir, p } = await liveLogOf(2, { syncPolicy: SyncPolicy.never() });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const seen: number[] = [];
  try {
    for (const m of c.iter()) {
      seen.push(m.offset);
      if (seen.length >= 100) break;
      // Append one more and wait (on the condition, in slices) until the writer made it visible.
      const before = p.writtenOffset;
      p.append('more');
      for (let k = 0; k < 10_000 && p.writtenOffset === before; k++) Atomics.wait(nap, 0, 0, 1);
      assert.ok(p.writtenOffset > before, 'the appended record was written');
    }
    assert.equal(seen, [0, 1]);
    assert.equal([...c.iter()].map((m) => m.offset), [2, 3]);
  } finally {
    await c.close();
    await p.close();
  }
});

test.run();
