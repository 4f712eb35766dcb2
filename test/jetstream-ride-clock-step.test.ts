/**
 * The ride's bound (2 x timeoutMs from the first failure, src/jetstream/ride.ts) is elapsed time: a
 * wall clock stepped forward (NTP, a resumed VM) does not end it early with ERR_IO, and one stepped
 * back does not stretch it. The clock is stepped by replacing Date.now in this process (restored in
 * finally). No server; this file loads src/ only (nothing of dist/).
 */
import * as assert from 'uvu/assert';
import { Ride } from '../src/jetstream/ride.js';
import { suite } from './kit.js';

const test = suite('jetstream ride clock step');
const HOUR = 3_600_000;

/** Runs `fn` with the wall clock `stepMs` off the real one. */
async function withClockStepped<T>(stepMs: number, fn: () => Promise<T>): Promise<T> {
  const real = Date.now;
  Date.now = () => real() + stepMs;
  try {
    return await fn();
  } finally {
    Date.now = real;
  }
}

test('a wall clock stepped forward an hour during an outage does not end the ride with ERR_IO', async () => {
  const ride = new Ride(10_000, 'consumer');
  try {
    await ride.failed(new Error('timeout'), 'a read'); // the first failure: the 20 s window starts
    const outcome = await withClockStepped(HOUR, () => ride.failed(new Error('timeout'), 'a read').then(() => 'retried', (e: { code?: string }) => e.code));
    assert.is(outcome, 'retried', 'the second failure, 250 ms into a 20 s window, is retried');
  } finally {
    ride.stop();
  }
});

test('a wall clock stepped back an hour during an outage does not stretch the 2 x timeoutMs bound', async () => {
  const ride = new Ride(200, 'consumer'); // the bound: 400 ms
  try {
    await ride.failed(new Error('timeout'), 'a read');
    const code = await withClockStepped(-HOUR, async () => {
      const giveUp = performance.now() + 10_000;
      while (performance.now() < giveUp) {
        try {
          await ride.failed(new Error('timeout'), 'a read');
        } catch (e) {
          return (e as { code?: string }).code;
        }
      }
      return 'still retrying after 10 s';
    });
    assert.is(code, 'ERR_IO');
  } finally {
    ride.stop();
  }
});

test.run();
