/**
 * A handler that answers directly (a string) ends its attempt there: a setState it queued in a
 * microtask runs after the answer was taken and stages nothing (docs/consumers.md), for every record.
 * The loop awaits every 64th direct answer to give other promise reactions a turn; that turn must not
 * let such a setState into the record's commit.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { logOf, suite } from './kit.js';

const test = suite('set-state-after-sync-answer');

test('a setState queued in a microtask by a handler that answered directly stages nothing, on any record', async () => {
  const logDir = await logOf(150);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('late') });
  try {
    const summary = await c.nonblockingProcess(null, (msg, ctx) => {
      queueMicrotask(() => ctx.setState(`late ${msg.offset}`));
      return 'commit';
    });
    assert.equal(summary, { committed: 150, skipped: 0, retried: 0, stoppedBy: 'end' });
    assert.is(c.state, null, `a late setState was committed: ${c.state === null ? '' : Buffer.from(c.state).toString()}`);
  } finally {
    await c.close();
  }
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('late') });
  try {
    assert.is(again.committedOffset, 150);
    assert.is(again.state, null);
  } finally {
    await again.close();
  }
});

test('a setState made before the direct answer is committed with its record, on every record', async () => {
  const logDir = await logOf(150);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('direct') });
  const seen: Array<string | null> = [];
  try {
    await c.nonblockingProcess(null, (msg, ctx) => {
      seen.push(ctx.state === null ? null : Buffer.from(ctx.state).toString());
      ctx.setState(String(msg.offset));
      return 'commit';
    });
  } finally {
    await c.close();
  }
  assert.equal(seen, [null, ...Array.from({ length: 149 }, (_, i) => String(i))]);
});

test.run();
