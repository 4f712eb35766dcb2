/**
 * The JetStream producer's wait for room (writable(), append's wait: src/jetstream/publish-queue.ts
 * waitForRoom) ends with ERR_LOG_FULL after appendTimeoutMs of elapsed time: a wall clock stepped
 * forward (NTP, a resumed VM) does not end it early, and one stepped back does not stretch it. The
 * clock is stepped by replacing Date.now in this process (restored in finally). No server; this file
 * loads src/ only (nothing of dist/).
 */
import * as assert from 'uvu/assert';
import { waitForRoom } from '../src/jetstream/publish-queue.js';
import { LogError } from '../src/errors.js';
import { suite, waitFor } from './kit.js';

const test = suite('jetstream writable clock step');
const HOUR = 3_600_000;

const settled = (p: Promise<void>): Promise<string> => p.then(() => 'resolved', (e: { code?: string }) => e.code ?? String(e));

test('an acknowledgement after a wall clock step forward does not end the wait with ERR_LOG_FULL', async () => {
  const waiters: Array<() => void> = [];
  let failure: LogError | null = null;
  let first = 'still waiting';
  const outcome = settled(waitForRoom(() => true, () => failure, waiters, 10_000, undefined)).then((o) => (first = o));
  const real = Date.now;
  try {
    Date.now = () => real() + HOUR;
    assert.is(waiters.length, 1);
    waiters[0]!(); // an acknowledgement that left the queue still full: its waker leaves the list
    assert.is(waiters.length, 0);
    // The wait looks at the time left: it waits again (a new waker) or it ends.
    await waitFor(() => waiters.length === 1 || first !== 'still waiting', 'the wait to wait again or end');
  } finally {
    Date.now = real;
  }
  failure = LogError.closed('producer'); // ends the wait
  for (const w of waiters.splice(0)) w();
  assert.is(first, 'still waiting', 'the wait goes on: 10 s of appendTimeoutMs have not passed');
  assert.is(await outcome, 'ERR_LOG_CLOSED');
});

test('a wall clock stepped back during the wait does not stretch appendTimeoutMs', async () => {
  const waiters: Array<() => void> = [];
  const outcome = settled(waitForRoom(() => true, () => null, waiters, 200, undefined));
  const real = Date.now;
  let code: string;
  try {
    Date.now = () => real() - HOUR;
    code = await Promise.race([outcome, new Promise<string>((r) => setTimeout(() => r('still waiting after 5 s'), 5_000))]);
  } finally {
    Date.now = real;
  }
  for (const w of waiters.splice(0)) w(); // a wait left over (the case failing) ends at its next check
  assert.is(code, 'ERR_LOG_FULL');
});

test.run();
