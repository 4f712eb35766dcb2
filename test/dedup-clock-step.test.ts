/**
 * A `{ ms }` dedup window ages the keys the producer appended itself by the time that passed since,
 * not by the wall clock: a clock stepped forward (NTP correcting a clock that ran behind, a VM resumed)
 * must not make a key appended a moment ago leave the window, or the retry it exists for appends a
 * duplicate; a clock stepped back must not keep a key past its window.
 */
import * as assert from 'uvu/assert';
import { Producer, SyncPolicy } from '../dist/index.js';
import { useFileClock } from './file-clock.js';
import { readRecords, suite, tempDir, waitFor } from './kit.js';

const test = suite('dedup-clock-step');
const HOUR = 3_600_000;

const setClock = useFileClock(Date.now());

test('a clock stepped forward past the window: a retry moments later still returns the first offset', async () => {
  setClock('offset 0');
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), dedupWindow: { ms: 60_000 } });
  try {
    assert.is(p.append('order-1', { dedupKey: 'k1' }), 0);
    assert.is(p.append('order-2', { dedupKey: 'k2' }), 1);
    setClock(`offset ${2 * HOUR}`);
    assert.is(p.append('order-1 retried', { dedupKey: 'k1' }), 0, 'the retry is a dedup hit');
    assert.is(p.append('order-3', { dedupKey: 'k3' }), 2);
    assert.is(p.append('order-2 retried', { dedupKey: 'k2' }), 1, 'the retry is a dedup hit');
    await p.flush();
  } finally {
    await p.close();
  }
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['order-1', 'order-2', 'order-3']);
});

test('a clock stepped back: a key leaves the window once its time has passed', async () => {
  setClock('offset 0');
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), dedupWindow: { ms: 200 } });
  try {
    assert.is(p.append('a', { dedupKey: 'k' }), 0);
    setClock(`offset ${-2 * HOUR}`);
    const since = performance.now();
    await waitFor(() => performance.now() - since > 400, '400 ms to pass');
    assert.is(p.append('b', { dedupKey: 'k' }), 1, 'the key left the window: a new record');
  } finally {
    await p.close();
  }
});

test.run();
