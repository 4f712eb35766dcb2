/**
 * The JetStream backend's ride (src/jetstream/ride.ts) on its own, with no server: a retry's pause
 * (250 ms) is cleared when the ride stops, so no timer is left behind. This file loads src/ only
 * (nothing of dist/).
 */
import * as assert from 'uvu/assert';
import { Ride } from '../src/jetstream/ride.js';
import { rejectsWith, suite } from './kit.js';

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

test.run();
