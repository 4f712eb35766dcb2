/**
 * The JetStream backend's ride (src/jetstream/ride.ts) on its own, with no server: a retry's pause
 * (250 ms) and a race's bound are cleared when the ride stops, so no timer is left behind; the
 * consumer's Outage: a commit's ride that fails after a read's ride gave up counts its bound from the
 * read's outage, until a success or the next call ends it. This file loads src/ only (nothing of dist/).
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

/** A consumer's read ride (a fill's), commit ride (the cursor's) and pull ride on one Outage; timeoutMs 20. */
function rides(): { outage: Outage; read: Ride; commit: Ride; pull: Ride } {
  const outage = new Outage();
  return {
    outage,
    read: new Ride(20, 'consumer', undefined, { outage }),
    commit: new Ride(20, 'consumer', undefined, { outage, adopts: true }),
    pull: new Ride(20, 'consumer', undefined, { outage, marks: false }),
  };
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
  assert.ok(outage.marked, 'the read that gave up marked the outage');
  const err = await rejectsWith(commit.failed(new Error('timeout'), 'committing'), 'ERR_IO');
  assert.match(err.message, /nothing succeeded within 2 x timeoutMs/);
  const alone = new Ride(20, 'consumer', undefined, { outage: new Outage(), adopts: true });
  await alone.failed(new Error('timeout'), 'committing'); // its first failure: a pause, then the next try
});

test('a success of the consumer ends the outage, and so does the next call\'s start: a later commit gets a window of its own', async () => {
  for (const end of ['success', 'call'] as const) {
    const { outage, read, commit } = rides();
    await giveUp(read);
    if (end === 'success') read.progress(); // a record, an answer
    else outage.clear(); // JsSource.callStarts
    assert.is(outage.marked, false);
    await commit.failed(new Error('timeout'), 'committing');
  }
});

test('a read does not take the outage on; the pull marks it only when it says so; its quiet end leaves it', async () => {
  const { outage, read, commit, pull } = rides();
  await giveUp(commit);
  assert.ok(outage.marked, 'a commit that gave up marks it too (the commit of close() after it)');
  await read.failed(new Error('timeout'), 'a read'); // its own window: a pause, no ERR_IO
  outage.clear();
  await giveUp(pull);
  assert.is(outage.marked, false, 'the pull gives up without marking: it may go on for a call that began waiting since');
  pull.markGaveUp(); // the call waiting for it fails
  assert.ok(outage.marked);
  pull.resetWindow(); // it ended quietly, no call waiting: its next failure has a window of its own
  assert.ok(outage.marked, 'the pull\'s own window says nothing of the consumer\'s outage');
  assert.is(pull.failing, false);
});

test('a race ended by stop() clears its timer', async () => {
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  await new Promise((r) => setImmediate(r));
  const before = timers();
  const ride = new Ride(10_000, 'consumer');
  const raced = ride.race(new Promise<never>(() => undefined), performance.now() + 60_000);
  assert.is(timers(), before + 1, 'the bound is a timer');
  ride.stop();
  await rejectsWith(raced, 'ERR_LOG_CLOSED');
  assert.is(timers(), before, 'the stopped race left its timer');
});

test.run();
