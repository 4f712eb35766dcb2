/**
 * The keys a `{ ms }` dedup window reads back from the log when the producer opens age by the time
 * that passes after the open, not by the wall clock read again at each append: a clock stepped
 * forward after a restart (NTP setting the clock of a machine that just rebooted after a crash, a VM
 * resumed) must not drop the keys of the records the crashed producer stored a moment before, or the
 * retries the window is there for append duplicates; a clock stepped back must not keep them past
 * the window (nor past ms after the open).
 */
import * as assert from 'uvu/assert';
import { Producer, SyncPolicy } from '../dist/index.js';
import { useFileClock } from './file-clock.js';
import { readRecords, suite, tempDir, waitFor } from './kit.js';

const test = suite('dedup-rebuilt-clock-step');
const HOUR = 3_600_000;

const setClock = useFileClock(Date.now());

/** A log whose records 'order-1' and 'order-2' carry the dedup keys k1 and k2, stored just now. */
async function logWithKeys(ms: number): Promise<string> {
  setClock('offset 0');
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), dedupWindow: { ms } });
  assert.is(p.append('order-1', { dedupKey: 'k1' }), 0);
  assert.is(p.append('order-2', { dedupKey: 'k2' }), 1);
  await p.close();
  return logDir;
}

test('a clock stepped forward after the open: the retries of the keys read back from the log still return their offsets', async () => {
  const logDir = await logWithKeys(60_000);
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), dedupWindow: { ms: 60_000 } });
  try {
    assert.is(p.append('order-1 retried', { dedupKey: 'k1' }), 0, 'the retry right after the open is a dedup hit');
    setClock(`offset ${2 * HOUR}`);
    assert.is(p.append('order-2 retried', { dedupKey: 'k2' }), 1, 'the retry after the clock moved forward is a dedup hit');
    assert.is(p.append('order-1 retried again', { dedupKey: 'k1' }), 0, 'so is a second retry');
    await p.flush();
  } finally {
    await p.close();
  }
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['order-1', 'order-2']);
});

test('a clock stepped back after the open: the keys read back from the log leave the window once its time has passed', async () => {
  const logDir = await logWithKeys(300);
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), dedupWindow: { ms: 300 } });
  try {
    const since = performance.now();
    setClock(`offset ${-2 * HOUR}`);
    await waitFor(() => performance.now() - since > 500, '500 ms to pass');
    assert.is(p.append('order-1 again', { dedupKey: 'k1' }), 2, 'k1 left the window: a new record');
  } finally {
    await p.close();
  }
});

test.run();
