/**
 * ctx.setState takes any Uint8Array, as append does: one of another realm (a vm context) is committed
 * as its bytes, and one whose buffer was transferred away (detached) is ERR_INVALID_OPTION naming
 * 'state', not a TypeError. Nothing is committed for the refused one: the record comes again.
 */
import * as assert from 'uvu/assert';
import { runInNewContext } from 'node:vm';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { logOf, rejectsWith, suite } from './kit.js';

const test = suite('set-state-bytes');

test('setState with a detached Uint8Array: ERR_INVALID_OPTION, nothing committed', async () => {
  const logDir = await logOf(2);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('d') });
  try {
    const gone = new Uint8Array(4);
    structuredClone(gone.buffer, { transfer: [gone.buffer] });
    const e = await rejectsWith(c.nonblockingProcess(1, (_m, ctx) => { ctx.setState(gone); return 'commit'; }), 'ERR_INVALID_OPTION');
    assert.match(e.message, /"state"/);
    assert.is(c.committedOffset, 0);
    assert.is(c.nextOffset, 0, 'the record whose handler threw is handed out again');
    assert.is(c.state, null);
  } finally {
    await c.close();
  }
});

test('setState with a Uint8Array of another realm: committed as its bytes', async () => {
  const logDir = await logOf(2);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('r') });
  try {
    const other = runInNewContext('new Uint8Array([1, 2, 3])') as Uint8Array;
    assert.equal(await c.nonblockingProcess(1, (_m, ctx) => { ctx.setState(other); return 'commit'; }), { committed: 1, skipped: 0, retried: 0, stoppedBy: 'limit' });
    assert.equal([...(c.state ?? [])], [1, 2, 3]);
  } finally {
    await c.close();
  }
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('r') });
  try {
    assert.is(again.committedOffset, 1);
    assert.equal([...(again.state ?? [])], [1, 2, 3]);
  } finally {
    await again.close();
  }
});

test.run();
