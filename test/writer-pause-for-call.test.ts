/**
 * The writer's pause while a write-behind call runs (pauseForCall, src/writer/writer-sleep.ts) takes
 * WRITER_WAKE before its 50 µs watch of the ring: a flush, close or control call made during the
 * watch (each moves WRITER_WAKE, then notifies a writer that said it sleeps) ends the pause at once.
 * A pause that took the counter after its watch would miss such a request and wait out its 1 ms.
 * The request is made from inside the watch, on this thread: the watch reads the clock
 * (performance.now) between its looks at the ring, and the test's clock moves the counter at its
 * first read. Records published during the watch end it the same way, while the writer has not yet
 * said it sleeps (no producer calls to wake it). Loads src/ only.
 */
import * as assert from 'uvu/assert';
import { CONTROL_BYTES, I32, controlViews, type ControlViews } from '../src/ring/layout.js';
import { pauseForCall } from '../src/writer/writer-sleep.js';
import { suite } from './kit.js';

const test = suite('writer: pause for a write-behind call');

/** pauseForCall(c, 0), with a request (WRITER_WAKE moved, no notify) made at the watch's first clock read. */
function pauseWithRequestDuringWatch(c: ControlViews): { slept: boolean; requests: number } {
  const now = performance.now;
  let requests = 0;
  performance.now = function (this: typeof performance): number {
    if (requests === 0) {
      requests++;
      Atomics.add(c.i32, I32.WRITER_WAKE, 1); // the request: its state is changed, then the counter moves
    }
    return now.call(this);
  };
  try {
    return { slept: pauseForCall(c, 0), requests };
  } finally {
    performance.now = now;
  }
}

test('a request made during the watch ends the pause at once: the writer does not sleep out its 1 ms', () => {
  const c = controlViews(new SharedArrayBuffer(CONTROL_BYTES));
  for (let i = 0; i < 5; i++) {
    const { slept, requests } = pauseWithRequestDuringWatch(c);
    assert.is(requests, 1, 'the watch read the clock, and the request was made then');
    assert.is(slept, false, `pause ${i}: it slept through the request made during its watch`);
  }
});

test('records published during the watch end the pause with no wake-up: the writer has not said it sleeps', () => {
  const c = controlViews(new SharedArrayBuffer(CONTROL_BYTES));
  const now = performance.now;
  let sleepingSeen = -1;
  performance.now = function (this: typeof performance): number {
    if (sleepingSeen === -1) {
      sleepingSeen = Atomics.load(c.i32, I32.WRITER_SLEEPING); // a producer would notify only if 1
      Atomics.store(c.i32, I32.HEAD, 128); // a record published, no notify
    }
    return now.call(this);
  };
  let slept: boolean;
  try {
    slept = pauseForCall(c, 0);
  } finally {
    performance.now = now;
  }
  assert.is(sleepingSeen, 0, 'during the watch the writer does not say it sleeps (and the watch read the clock)');
  assert.is(slept, false);
  assert.is(Atomics.load(c.i32, I32.WRITER_SLEEPING), 0);
});

test('with nothing moving, a pause sleeps: it watches, then waits its 1 ms', () => {
  const c = controlViews(new SharedArrayBuffer(CONTROL_BYTES));
  let slept = 0;
  for (let i = 0; i < 20; i++) if (pauseForCall(c, 0)) slept++;
  assert.is(slept, 20);
});

test('records published before the pause end it at once', () => {
  const c = controlViews(new SharedArrayBuffer(CONTROL_BYTES));
  Atomics.store(c.i32, I32.HEAD, 128);
  assert.is(pauseForCall(c, 0), false);
});

test.run();
