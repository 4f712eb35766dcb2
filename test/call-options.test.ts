/**
 * The processing calls with a handler function and tail() take only { signal }: any other key is
 * refused with ERR_INVALID_OPTION, so a misspelt `signal` cannot leave a call that never aborts.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Whence } from '../dist/index.js';
import { suite, logOf, rejectsWith, waitFor } from './kit.js';

const test = suite('call-options');

test('blockingProcess(null, fn, { sigal }) is refused with ERR_INVALID_OPTION before any record', async () => {
  const logDir = await logOf(1);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const ac = new AbortController();
  ac.abort();
  let outcome: unknown = 'still running';
  let handled = 0;
  try {
    const call = c.blockingProcess(null, () => { handled++; return 'commit'; }, { sigal: ac.signal } as never);
    void call.then((s) => { outcome = s.stoppedBy; }, (e: { code?: string }) => { outcome = e.code; });
    // Refused: rejects before any record. Honoured: 'abort' before any record. Ignored: record 0 is handled.
    await waitFor(() => outcome !== 'still running' || handled > 0, 'the call to settle or handle a record');
  } finally {
    await c.close(); // ends the call that ignored the abort
  }
  assert.is(handled, 0, 'a record was handled although the signal was aborted before the call');
  assert.is(outcome, 'ERR_INVALID_OPTION', `the call was not refused: ${String(outcome)}`);
});

test('nonblockingProcess(null, fn, { bogus: 1 }) is refused', async () => {
  const logDir = await logOf(1);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    await rejectsWith(() => (c.nonblockingProcess as (max: null, h: () => 'commit', o: object) => Promise<unknown>)(null, () => 'commit', { bogus: 1 }), 'ERR_INVALID_OPTION');
  } finally {
    await c.close();
  }
});

test('tail({ sigal }) is refused on the first next()', async () => {
  const logDir = await logOf(1);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    await rejectsWith(() => c.tail({ sigal: new AbortController().signal } as never).next(), 'ERR_INVALID_OPTION');
  } finally {
    await c.close();
  }
});

test.run();
