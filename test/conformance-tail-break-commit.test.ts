/**
 * `for await` over a transactional consumer with group commit, left with `break`: the record handed
 * out before the last one is committed by the time the loop has ended (the iterator's return()), on
 * every backend. On JetStream the group's commit ran on in the background after return() resolved,
 * so `committedOffset` lagged behind and a commit failure did not reject the loop's end. Found by
 * test/conformance-differential.test.ts (SEED=203 SCENARIOS=8 OPS=60).
 */
import * as assert from 'uvu/assert';
import { ConsumerStyle } from '../dist/index.js';
import { conformance } from './conformance-kit.js';

conformance('conformance: for await break commits', (test, b) => {
  for (const id of ['tail-a', null]) {
    test(`${id === null ? 'globalTx' : 'clientTx'}, commit every 3 records: break after 2 leaves the first committed`, async () => {
      const log = await b.fresh();
      const p = await log.producer();
      for (let i = 0; i < 5; i++) p.append(`r${i}`);
      await p.flush();
      await p.close();
      const style = id === null ? ConsumerStyle.globalTx() : ConsumerStyle.clientTx(id);
      const c = await log.consumer(style, { commit: { everyRecords: 3 } });
      try {
        const got: number[] = [];
        for await (const m of c) {
          got.push(m.offset);
          if (got.length === 2) break;
        }
        assert.equal(got, [0, 1]);
        assert.is(c.committedOffset, 1, 'record 0 is committed once the loop has ended');
        assert.is(c.nextOffset, 1, 'record 1 comes again');
      } finally {
        await c.close();
      }
      const again = await log.consumer(style);
      try {
        const seen: number[] = [];
        await again.nonblockingProcess(null, (m) => { seen.push(m.offset); return 'commit'; });
        assert.equal(seen, [1, 2, 3, 4]);
      } finally {
        await again.close();
      }
    });
  }
});
