/**
 * A pool call that ends (here at `max`) where retention (without blockingMinimumRetention) already
 * deleted the first record not done: the call reports what it did, as a handler function on the
 * consumer's thread does, and the next read fails with ERR_POSITION_EXPIRED naming that record. The
 * placing of the consumer's reader after the call used to throw ERR_POSITION_EXPIRED out of the call
 * itself, after its records were committed (and in place of a handler's own error).
 */
import * as assert from 'uvu/assert';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Whence } from '../dist/index.js';
import { POOL_LOG, guarded, handler } from './pool-kit.js';
import { liveLogOf, rejectsWith, suite, waitFor } from './kit.js';

const test = suite('pool-end-expired');

const FIRST_SEGMENT = '00000000000000000000.seg';

const styles = [
  ['clientTx', ConsumerStyle.clientTx('ended')],
  ['nonTx', ConsumerStyle.nonTx(Whence.oldest())],
] as const;

for (const [name, style] of styles) {
  test(`${name}: a pool call ending at a record retention deleted meanwhile returns its summary`, async () => {
    const { logDir, p } = await liveLogOf(['gate-0', 'rec-1'], { ...POOL_LOG, fileRollSize: 1024, maxTotalBytes: 4096 });
    const c = await Consumer.open({ logDir, style });
    try {
      // Its failure is kept as a value: it may come while the test still appends.
      const call = guarded(c.nonblockingProcess(1, handler, { workers: 1 })).catch((e: unknown) => e);
      await waitFor(() => existsSync(join(logDir, 'gated-0')), 'record 0 running');
      // Append until retention deletes the first segment (records 0 and 1), then let record 0 commit.
      await waitFor(async () => {
        for (let i = 0; i < 4; i++) p.append('x'.repeat(300));
        await p.flush();
        return !existsSync(join(logDir, FIRST_SEGMENT));
      }, 'retention to delete the first segment');
      writeFileSync(join(logDir, 'gate-open'), '');
      assert.equal(await call, { committed: 1, skipped: 0, retried: 0, stoppedBy: 'limit' });
      if (name === 'clientTx') assert.is(c.committedOffset, 1);
      // The next read tells of the records lost, from record 1.
      const e = await rejectsWith(c.nonblockingProcess(null, () => 'commit'), 'ERR_POSITION_EXPIRED');
      assert.is((e as unknown as { details: { offset: number } }).details.offset, 1);
    } finally {
      await c.close();
      await p.close();
    }
  });
}

test.run();
