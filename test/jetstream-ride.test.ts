/**
 * The JetStream backend's ride (src/jetstream/ride.ts) on its own, with no server: a retry's pause
 * (250 ms) is cleared when the ride stops, so no timer is left behind; the consumer's Outage: a
 * commit's ride that fails after a read's ride gave up counts its bound from the read's outage, until
 * a success ends it. This file loads src/ only (nothing of dist/).
 */
import * as assert from 'uvu/assert';
import { Outage, Ride } from '../src/jetstream/ride.js';
import { rejectsWith, suite, waitFor } from './kit.js';

const test = suite('jetstream ride');

test('a ride stopped during a retry\'s pause leaves no timer', async () => {
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  await new Promise((r) => setImmediate(r)); // past the timer uvu runs this case from
  const before = timers();
  const ride = new Ride(10_000, 'consumer');
  const pause = ride.failed(new Error('timeout'), 'a read'); // transient: it waits 250 ms before the next try
  assert.is(timers(), before + 1, 'the pause is a timer');
  ride.stop();
  await rejectsWith(pause, 'ERR_LOG_CLOSED');
  assert.is(timers(), before, 'the stopped ride left no timer');
});

/** A consumer's read ride (the pull's, a fill's) and commit ride (the cursor's) on one Outage; timeoutMs 20. */
function rides(): { outage: Outage; read: Ride; commit: Ride } {
  const outage = new Outage();
  return { outage, read: new Ride(20, 'consumer', undefined, outage), commit: new Ride(20, 'consumer', undefined, outage, true) };
}

/** `ride` fails until it gives up past its bound (2 x 20 ms after its first failure): ERR_IO. */
async function giveUp(ride: Ride): Promise<void> {
  await ride.failed(new Error('timeout'), 'a read');
  const first = performance.now();
  await waitFor(() => performance.now() - first > 40, 'the read\'s bound to pass');
  await rejectsWith(ride.failed(new Error('timeout'), 'a read'), 'ERR_IO');
}

test('a commit that fails after a read gave up fails after that one try; without the outage it gets a window of its own', async () => {
  const { outage, read, commit } = rides();
  await giveUp(read);
  assert.ok(outage.since !== null, 'the read that gave up marked the outage');
  const err = await rejectsWith(commit.failed(new Error('timeout'), 'committing'), 'ERR_IO');
  assert.match(err.message, /nothing succeeded within 2 x timeoutMs/);
  const alone = new Ride(20, 'consumer', undefined, new Outage(), true);
  await alone.failed(new Error('timeout'), 'committing'); // its first failure: a pause, then the next try
});

test('a success of the consumer ends the outage: a later commit gets a window of its own', async () => {
  const { outage, read, commit } = rides();
  await giveUp(read);
  read.progress(); // a read of the stream's end at the next call's start, a record
  assert.is(outage.since, null);
  await commit.failed(new Error('timeout'), 'committing');
});

test('a read does not take the outage on, and a read that goes on (a window from its call) clears it', async () => {
  const { outage, read, commit } = rides();
  await giveUp(commit);
  assert.ok(outage.since !== null, 'a commit that gave up marks it too (the commit of close() after it)');
  const other = new Ride(20, 'consumer', undefined, outage);
  await other.failed(new Error('timeout'), 'a read'); // its own window: a pause, no ERR_IO
  await giveUp(read);
  assert.ok(read.windowFrom(performance.now()), 'the window moved');
  assert.is(outage.since, null, 'the read goes on: no outage for the commits to take on');
});

test.run();
