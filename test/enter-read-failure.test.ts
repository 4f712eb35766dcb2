/**
 * A nonblocking call or iter() reads the end of what is visible when it starts. When that read
 * fails (here durable.offset is a directory: ERR_LOG_CORRUPT; an EIO is the same path), the call
 * fails with it and the consumer is left as it was: the next call runs, and close() resolves and
 * releases the cursor's lock. The consumer was left taken by a call that never ran: every later call
 * failed with ERR_CONSUMER_BUSY, and close() waited for that call for ever, holding the lock.
 */
import * as assert from 'uvu/assert';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { logOf, rejectsWith, suite, waitFor } from './kit.js';

const test = suite('enter-read-failure');

/** Makes durable.offset unreadable (a directory in its place) while `act` runs, then puts it back as absent. */
async function withUnreadableHint(logDir: string, act: () => Promise<void>): Promise<void> {
  const hint = join(logDir, 'durable.offset');
  rmSync(hint);
  mkdirSync(hint);
  try {
    await act();
  } finally {
    rmSync(hint, { recursive: true });
  }
}

async function closesAndHandsOver(logDir: string, c: Consumer): Promise<void> {
  let closed = false;
  void c.close().then(() => { closed = true; });
  await waitFor(() => closed, 'close() to resolve');
  const again = await Consumer.open({ logDir, style: ConsumerStyle.globalTx() });
  await again.close();
}

test('nonblockingProcess whose end cannot be read: it rejects, the next call runs, close() resolves', async () => {
  const logDir = await logOf(5);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.globalTx() });
  await withUnreadableHint(logDir, () => rejectsWith(c.nonblockingProcess(null, () => 'commit'), 'ERR_LOG_CORRUPT').then(() => undefined));
  const s = await c.nonblockingProcess(null, () => 'commit');
  assert.is(s.stoppedBy, 'end');
  await closesAndHandsOver(logDir, c);
});

test('iter() whose end cannot be read: it throws, the next iteration runs, close() resolves', async () => {
  const logDir = await logOf(5);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.globalTx() });
  await withUnreadableHint(logDir, async () => {
    assert.throws(() => [...c.iter()], (e: { code?: string }) => e.code === 'ERR_LOG_CORRUPT');
  });
  assert.equal([...c.iter()].length, 0); // durable.offset gone: nothing is known durable, but the iteration runs
  await closesAndHandsOver(logDir, c);
});

test.run();
