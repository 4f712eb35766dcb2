/**
 * A wall clock that steps forward (NTP correcting a clock that ran behind, a VM resumed) under
 * blockingMinimumRetention: records written a moment ago are not that old, and retention keeps them
 * (the producer is held back, ERR_LOG_FULL) rather than delete segments younger than the minimum.
 * Nor does maxFileAge delete them: it deleted the segments written a second before a step of an hour.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, isLogError } from '../dist/index.js';
import { useFileClock } from './file-clock.js';
import { suite, tempDir } from './kit.js';

const test = suite('clock-step-forward');
const HOUR = 3_600_000;

const setClock = useFileClock(Date.now());

test('blockingMinimumRetention: a clock stepped forward does not make young segments old enough to delete', async () => {
  setClock('offset 0');
  const logDir = tempDir();
  const p = await Producer.open({
    logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024, maxTotalBytes: 4096,
    blockingMinimumRetention: 600_000, appendTimeoutMs: 300,
  });
  const rec = (i: number) => `record-${i}-${'r'.repeat(100)}`;
  let i = 0;
  try {
    // A few segments, seconds old at most.
    for (; i < 20; i++) {
      p.append(rec(i));
      await p.flush();
    }
    assert.is(p.logStartOffset, 0);
    // The clock steps forward two hours.
    setClock(`offset ${2 * HOUR}`);
    let failure = 'none';
    try {
      for (let k = 0; k < 60; k++, i++) {
        p.append(rec(i));
        await p.flush();
      }
    } catch (e) {
      failure = isLogError(e) ? e.code : String(e);
    }
    assert.is(failure, 'ERR_LOG_FULL', 'the producer is held back');
    assert.is(p.logStartOffset, 0, 'no segment younger than blockingMinimumRetention was deleted');
  } finally {
    await p.close().catch(() => undefined);
  }
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  assert.is([...c.iter()][0]!.offset, 0);
  await c.close();
});

test('maxFileAge: a clock stepped forward does not age segments written in this run', async () => {
  setClock('offset 0');
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024, maxFileAge: 600_000 });
  try {
    for (let i = 0; i < 30; i++) {
      p.append(`record-${i}-${'r'.repeat(100)}`);
      await p.flush();
    }
    setClock(`offset ${HOUR}`);
    p.append('after the step');
    await p.roll(); // retention runs after each roll
    assert.is(p.logStartOffset, 0, 'records written seconds ago were deleted as older than maxFileAge (10 min)');
  } finally {
    await p.close();
  }
});

test.run();
