/**
 * A remote producer whose owner is alive but slow: each record of a batch holds the owner's thread
 * for a while (an append waiting for ring room behind a slow writer, and getting it), under the
 * owner's appendTimeoutMs each, longer than the client's silence bound (connectTimeoutMs plus
 * appendTimeoutMs) all together. The owner tells its clients it is alive while the batch goes in, so
 * every append resolves with its offset instead of rejecting with ERR_IO 'did not answer' in doubt;
 * a client waiting behind that batch hears it too.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { Child } from './child.js';
import { suite, tempDir } from './kit.js';

const test = suite('funnel-slow-batch');
const WAIT_MS = 150;
const APPEND_TIMEOUT_MS = 300;
const CONNECT_TIMEOUT_MS = 100;
/** Records of one batch: 12 x 150 ms = 1.8 s, over the 400 ms bound four times. */
const RECORDS = 12;

function outcomes(settled: PromiseSettledResult<number>[]): string[] {
  return settled.map((s) => (s.status === 'fulfilled' ? 'ok' : String((s.reason as { code?: string }).code)));
}

for (const run of [false, true]) {
  test(`a batch whose records each wait for room, together past the silence bound, resolves (${run ? 'as a run' : 'record by record'})`, async () => {
    const logDir = tempDir();
    const owner = Child.fork('funnel-slow-target.ts', [JSON.stringify({ dir: logDir, waitMs: WAIT_MS, appendTimeoutMs: APPEND_TIMEOUT_MS, run })]);
    try {
      await owner.next('open');
      const a = await Producer.connect({ logDir, connectTimeoutMs: CONNECT_TIMEOUT_MS });
      const b = await Producer.connect({ logDir, connectTimeoutMs: CONNECT_TIMEOUT_MS });
      const ap = Promise.allSettled(Array.from({ length: RECORDS }, (_, i) => a.append(`a-${i}`)));
      // b's batch waits behind a's on the owner's thread.
      const bp = Promise.allSettled([b.append('b-0')]);
      const [as, bs] = await Promise.all([ap, bp]);
      assert.equal(outcomes(as), Array(RECORDS).fill('ok'), 'every append of the slow batch resolved');
      assert.equal(outcomes(bs), ['ok'], 'the batch behind it resolved');
      a.destroy();
      b.destroy();
    } finally {
      await owner.kill();
    }
  });
}

test.run();
