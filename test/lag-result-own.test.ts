/**
 * consumer.lag() returns an object of the caller's own, on every backend: a caller (or a
 * reactive-log:lag subscriber, which gets the same object) that changes or annotates it changes no
 * later lag(), of this consumer or of any other. On JetStream every caught-up lag() returned one
 * shared object, so a change to it made every later caught-up lag() in the process read wrong.
 */
import * as assert from 'uvu/assert';
import { ConsumerStyle, Whence } from '../dist/index.js';
import { conformance } from './conformance-kit.js';

conformance('lag result own', (test, b) => {
  test('a caught-up lag() changed by its caller changes no later lag(), of this consumer or another', async () => {
    const log = await b.fresh();
    const p = await log.producer();
    for (let i = 0; i < 5; i++) p.append(`r${i}`);
    await p.flush();
    await p.close();
    const c = await log.consumer(ConsumerStyle.clientTx('own'));
    const d = await log.consumer(ConsumerStyle.nonTx(Whence.latest()));
    try {
      await c.nonblockingProcess(null, () => 'commit');
      const seen = c.lag() as { records: number; bytes: number; ms: number };
      assert.equal(seen, { records: 0, bytes: 0, ms: 0 });
      seen.records = 7; // a caller normalizing the figures in place (plain JavaScript: the type says readonly)
      seen.ms = 1000;
      assert.equal(c.lag(), { records: 0, bytes: 0, ms: 0 }, 'this consumer');
      assert.equal(d.lag(), { records: 0, bytes: 0, ms: 0 }, 'another consumer');
      assert.is.not(c.lag(), c.lag(), 'a new object per call');
    } finally {
      await c.close();
      await d.close();
    }
  });
});
