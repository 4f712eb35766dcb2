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

test.run();
