/**
 * The context a processing function's handler gets (ProcessContext): `setState` taken out of it still
 * stages the state, `state` reads the state committed so far as a copy, and `state` is served by a
 * getter of the context's class, not an accessor defined on each context. An object literal with a
 * getter, made anew for every record, made nonblockingProcess about five times slower on a local log
 * (docs/performance.md, "Processing functions"); the last check keeps that shape out.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import type { ProcessContext } from '../dist/index.js';
import { logOf, suite } from './kit.js';

const test = suite('process-context');

test('a destructured setState stages the state committed with the record; state reads it back as a copy', async () => {
  const logDir = await logOf(4);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('t') });
  const seen: string[] = [];
  try {
    await c.nonblockingProcess(null, (msg, ctx) => {
      const { setState, state } = ctx;
      const before = state === null ? '' : Buffer.from(state).toString();
      seen.push(before);
      if (state !== null) state.fill(0); // a copy: changing it changes nothing committed
      setState(`${before}${msg.offset}`);
      return 'commit';
    });
  } finally {
    await c.close();
  }
  assert.equal(seen, ['', '0', '01', '012']);
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('t') });
  try {
    assert.is(Buffer.from(again.state!).toString(), '0123');
  } finally {
    await again.close();
  }
});

test('state is a getter of the context class, not an accessor of each context object', async () => {
  const logDir = await logOf(3);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('t') });
  const contexts: ProcessContext[] = [];
  try {
    await c.nonblockingProcess(null, (_msg, ctx) => {
      contexts.push(ctx);
      return 'commit';
    });
  } finally {
    await c.close();
  }
  assert.is(contexts.length, 3);
  for (const ctx of contexts) {
    assert.is(Object.getOwnPropertyDescriptor(ctx, 'state'), undefined, 'no own state accessor per context');
    assert.is(typeof Object.getOwnPropertyDescriptor(Object.getPrototypeOf(ctx), 'state')?.get, 'function');
    assert.is(typeof ctx.setState, 'function');
  }
  assert.is(Object.getPrototypeOf(contexts[0]), Object.getPrototypeOf(contexts[2]), 'one class for every context');
});

test('a context kept past its answer stages nothing: no state of another record, not on a retry, not after the call', async () => {
  const logDir = await logOf(3);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('t') });
  const kept: ProcessContext[] = [];
  const seenState: (string | null)[] = [];
  try {
    const summary = await c.nonblockingProcess(null, (msg, ctx) => {
      for (const old of kept) old.setState(`stale-${old.offset}-${old.attempt}`);
      kept.push(ctx);
      seenState.push(ctx.state === null ? null : Buffer.from(ctx.state).toString());
      if (msg.offset === 1 && ctx.attempt === 1) {
        ctx.setState('discarded by the retry');
        return 'retry';
      }
      if (msg.offset === 2) return 'commit'; // keeps the state: the stale calls above must not set one
      ctx.setState(`r${msg.offset}`);
      return 'commit';
    });
    assert.equal(summary, { committed: 3, skipped: 0, retried: 1, stoppedBy: 'end' });
    for (const old of kept) old.setState('after the call');
    assert.is(Buffer.from(c.state!).toString(), 'r1');
    // A kept context reads the latest state, not the one of its record's time.
    assert.is(Buffer.from(kept[0]!.state!).toString(), 'r1');
  } finally {
    await c.close();
  }
  assert.equal(seenState, [null, 'r0', 'r0', 'r1']);
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('t') });
  try {
    assert.is(Buffer.from(again.state!).toString(), 'r1');
    assert.is(again.committedOffset, 3);
  } finally {
    await again.close();
  }
});

test('state is not an own property: Object.keys, spread and JSON.stringify of ctx leave it out (docs/consumers.md)', async () => {
  const logDir = await logOf(1);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('t') });
  let keys: string[] = [];
  let spread: Record<string, unknown> = {};
  let json = '';
  let byName: Uint8Array | null | undefined;
  try {
    await c.nonblockingProcess(null, (_msg, ctx) => {
      ctx.setState('s');
      keys = Object.keys(ctx);
      spread = { ...ctx };
      json = JSON.stringify(ctx);
      byName = ctx.state;
      return 'commit';
    });
  } finally {
    await c.close();
  }
  assert.equal(keys, ['attempt', 'logId', 'offset', 'setState']);
  assert.not.ok('state' in spread);
  assert.equal(Object.keys(JSON.parse(json) as object), ['attempt', 'logId', 'offset']);
  assert.is(byName, null, 'read by name, state is the state as of before the record');
});

test.run();
