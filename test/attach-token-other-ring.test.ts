/**
 * Producer.attach checks that its token's ring is the ring of its control block, not only a ring of
 * the same size: a token put together from one producer's control block and another buffer of the
 * right size (another producer's ring, or a new one) was accepted, its handle's appends went to memory
 * the writer never reads while the writer wrote the owner's ring's stale bytes at those places, and
 * flush() resolved. Such a token is refused with ERR_INVALID_OPTION now, nothing appended.
 */
import * as assert from 'uvu/assert';
import { ErrorCode, Producer, SyncPolicy } from '../dist/index.js';
import { readRecords, suite, tempDir, throwsWith } from './kit.js';

const test = suite('attach-token-other-ring');

test('a token whose ring is another ring of the same size is refused, and both logs are left as they were', async () => {
  const ringBytes = 64 * 1024;
  const dirA = tempDir();
  const dirB = tempDir();
  const a = await Producer.open({ logDir: dirA, syncPolicy: SyncPolicy.never(), ringBytes });
  const b = await Producer.open({ logDir: dirB, syncPolicy: SyncPolicy.never(), ringBytes });
  try {
    a.append('a0');
    b.append('b0');
    const tokenA = a.share();
    const tokenB = b.share();
    for (const ring of [tokenB.ring, new SharedArrayBuffer(ringBytes + 8)]) {
      const err = throwsWith(() => {
        const h = Producer.attach({ ...tokenA, ring });
        h.append('hello from a ring the writer never reads');
      }, ErrorCode.INVALID_OPTION);
      assert.match(err.message, /ring/);
    }
    const h = Producer.attach(tokenA);
    assert.is(h.append('a1'), 1);
    await h.close();
  } finally {
    await a.close();
    await b.close();
  }
  assert.equal((await readRecords(dirA)).map((r) => r.text), ['a0', 'a1']);
  assert.equal((await readRecords(dirB)).map((r) => r.text), ['b0']);
});

test.run();
