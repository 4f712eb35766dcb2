/**
 * Conformance, the consumer's side, on every backend: the outcomes (commit, retry, skip, break, a
 * throw), blocking processing and `for await` woken by new appends, clientTx and globalTx exactly-once
 * with their state across consumer restarts, one owner per cursor, close() ending a blocked call.
 */
import * as assert from 'uvu/assert';
import { ConsumerStyle, Whence, type Message } from '../dist/index.js';
import { conformance, type AnyProducer, type LogUnderTest } from './conformance-kit.js';
import { rejectsWith, waitFor } from './kit.js';

const text = (m: Message): string => Buffer.from(m.data).toString();

async function filled(log: LogUnderTest, n: number): Promise<AnyProducer> {
  const p = await log.producer();
  for (let i = 0; i < n; i++) p.append(`m${i}`);
  await p.flush();
  return p;
}

conformance('conformance: consume', (test, b) => {
  test('outcomes: commit, retry (attempt counts), skip, break; a throw rejects and the record comes again', async () => {
    const log = await b.fresh();
    const p = await filled(log, 6);
    const c = await log.consumer(ConsumerStyle.clientTx('outcomes'));
    try {
      const seen: Array<[number, number]> = [];
      const s1 = await c.nonblockingProcess(null, (m, ctx) => {
        seen.push([m.offset, ctx.attempt]);
        assert.is(ctx.offset, m.offset);
        assert.is(typeof ctx.logId, 'string');
        if (m.offset === 1 && ctx.attempt < 3) return 'retry';
        if (m.offset === 2) return 'skip';
        if (m.offset === 4) return 'break';
        return 'commit';
      });
      assert.equal(s1, { committed: 3, skipped: 1, retried: 2, stoppedBy: 'break' });
      assert.equal(seen, [[0, 1], [1, 1], [1, 2], [1, 3], [2, 1], [3, 1], [4, 1]]);
      assert.is(c.committedOffset, 4, 'the record answered break is not committed');
      await rejectsWith(c.nonblockingProcess(null, () => { throw Object.assign(new Error('boom'), { code: 'ERR_TEST_BOOM' }); }), 'ERR_TEST_BOOM');
      const rest: number[] = [];
      const s2 = await c.nonblockingProcess(null, (m) => { rest.push(m.offset); return 'commit'; });
      assert.equal(rest, [4, 5], 'the record of the break and of the throw comes again first');
      assert.is(s2.stoppedBy, 'end');
      assert.is(c.committedOffset, 6);
      const s3 = await c.nonblockingProcess(3, () => 'commit');
      assert.equal(s3, { committed: 0, skipped: 0, retried: 0, stoppedBy: 'end' });
    } finally {
      await c.close();
      await p.close();
    }
  });

  for (const [name, style] of [['clientTx', ConsumerStyle.clientTx('billing')], ['globalTx', ConsumerStyle.globalTx()]] as const) {
    test(`${name}: exactly once across restarts, state committed with the cursor; max limits a call`, async () => {
      const log = await b.fresh();
      const p = await filled(log, 20);
      const delivered: number[] = [];
      try {
        for (let round = 0; round < 4; round++) {
          const c = await log.consumer(style);
          try {
            const before = c.state === null ? 0 : Number(Buffer.from(c.state).toString());
            assert.is(before, delivered.length, `state committed with the cursor (round ${round})`);
            const s = await c.nonblockingProcess(6, (m, ctx) => {
              delivered.push(m.offset);
              ctx.setState(String(Number(ctx.state === null ? 0 : Buffer.from(ctx.state).toString()) + 1));
              return 'commit';
            });
            assert.is(s.stoppedBy, round < 3 ? 'limit' : 'end');
          } finally {
            await c.close();
          }
        }
        assert.equal(delivered, Array.from({ length: 20 }, (_, i) => i), 'each record once, in order');
        // Group commit: the cursor is durable at close.
        p.append('m20');
        await p.flush();
        const g = await log.consumer(style, { commit: { everyRecords: 1000 } });
        try {
          await g.nonblockingProcess(null, () => 'commit');
        } finally {
          await g.close();
        }
        const again = await log.consumer(style);
        try {
          assert.is(again.committedOffset, 21);
          assert.is((await again.nonblockingProcess(null, () => 'commit')).committed, 0);
        } finally {
          await again.close();
        }
      } finally {
        await p.close();
      }
    });
  }

  test('clientTx: a second opener of the same cursor gets ERR_CURSOR_LOCKED; another id is free', async () => {
    const log = await b.fresh();
    const p = await filled(log, 1);
    const c = await log.consumer(ConsumerStyle.clientTx('solo'));
    try {
      await rejectsWith(log.consumer(ConsumerStyle.clientTx('solo')), 'ERR_CURSOR_LOCKED');
      const other = await log.consumer(ConsumerStyle.clientTx('other'));
      await other.close();
    } finally {
      await c.close();
      await p.close();
    }
    const reopened = await log.consumer(ConsumerStyle.clientTx('solo'));
    await reopened.close();
  });

  test('globalTx: one owner of the shared cursor at a time (ERR_CURSOR_LOCKED); a clientTx cursor is another one', async () => {
    const log = await b.fresh();
    const p = await filled(log, 3);
    const g = await log.consumer(ConsumerStyle.globalTx());
    try {
      await rejectsWith(log.consumer(ConsumerStyle.globalTx()), 'ERR_CURSOR_LOCKED');
      assert.is((await g.nonblockingProcess(2, () => 'commit')).committed, 2);
      // A clientTx consumer with the id 'global' keeps its own cursor, from the oldest record.
      const named = await log.consumer(ConsumerStyle.clientTx('global'));
      try {
        assert.is(named.committedOffset, 0);
      } finally {
        await named.close();
      }
    } finally {
      await g.close();
      await p.close();
    }
    const again = await log.consumer(ConsumerStyle.globalTx());
    try {
      assert.is(again.committedOffset, 2, 'the shared cursor continues where its last owner stopped');
    } finally {
      await again.close();
    }
  });

  test('blockingProcess and for await wait for new records; close() and break end them', async () => {
    const log = await b.fresh();
    const p = await filled(log, 2);
    const c = await log.consumer(ConsumerStyle.clientTx('tailer'));
    try {
      const got: string[] = [];
      const call = c.blockingProcess(5, (m) => { got.push(text(m)); return 'commit'; });
      await waitFor(() => got.length === 2, 'the two stored records');
      for (let i = 2; i < 5; i++) p.append(`m${i}`);
      await p.flush();
      assert.is((await call).stoppedBy, 'limit');
      assert.equal(got, ['m0', 'm1', 'm2', 'm3', 'm4']);
      const it: string[] = [];
      const loop = (async () => {
        for await (const m of c) {
          it.push(text(m));
          if (it.length === 2) break;
        }
      })();
      p.append('m5');
      p.append('m6');
      await p.flush();
      await loop;
      assert.equal(it, ['m5', 'm6']);
    } finally {
      await c.close();
    }
    // for await committed m5 when it asked for m6; leaving the loop committed nothing more.
    const next = await log.consumer(ConsumerStyle.clientTx('tailer'));
    try {
      const rest: string[] = [];
      await next.nonblockingProcess(null, (m) => { rest.push(text(m)); return 'commit'; });
      assert.equal(rest, ['m6']);
      const blocked = next.blockingProcess(null, () => 'commit');
      await next.close();
      assert.is((await blocked).stoppedBy, 'end', 'close() ends a blocked call');
    } finally {
      await next.close();
      await p.close();
    }
  });

  test('nonTx: every record, again on each open (no cursor); setState refused', async () => {
    const log = await b.fresh();
    const p = await filled(log, 3);
    try {
      for (let k = 0; k < 2; k++) {
        const c = await log.consumer(ConsumerStyle.nonTx(Whence.oldest()));
        try {
          const offs: number[] = [];
          await c.nonblockingProcess(null, (m) => { offs.push(m.offset); return 'commit'; });
          assert.equal(offs, [0, 1, 2]);
          assert.is(c.committedOffset, null);
        } finally {
          await c.close();
        }
      }
      const c = await log.consumer(ConsumerStyle.nonTx(Whence.oldest()));
      try {
        await rejectsWith(c.nonblockingProcess(null, (_m, ctx) => { ctx.setState('x'); return 'commit'; }), 'ERR_INVALID_OPTION');
      } finally {
        await c.close();
      }
    } finally {
      await p.close();
    }
  });
});
