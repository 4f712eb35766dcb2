/**
 * A seek by time in the producer's process while retention deletes the oldest segment between the
 * seek's listing of the segments and its open of that segment: the log start was already raised past
 * it, and the search must still find the first record stored at or after the time in the segments
 * that remain, not answer the deleted segment's base (which the log start then moved to the next
 * segment's base, handing out records older than the time). The fault injector stretches the window:
 * the writer's unlink of the segment waits, and so does the seek's open of it, until after the unlink.
 */
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';
import { clearFaults, setFaults } from './faults.js';

const test = suite('time-seek-retention-race');

test('the oldest segment deleted between the seek\'s listing and its open: the seek still starts at the first record at or after the time', async () => {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  const firstSegment = '/0{20}\\.seg$';
  setFaults({ arm, rules: [
    { op: 'unlink', path: firstSegment, thread: 'writer', nth: 1, effect: { delayMs: 3000 } },
    { op: 'open', path: firstSegment, thread: 'main', nth: 1, effect: { delayMs: 6000 } },
  ] });
  // maxFileAge deletes the first segment once it is sealed and old; the second stays, being active.
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024, maxTotalBytes: null, maxFileAge: 2500 });
  try {
    for (let i = 0; p.stats().rolls === 0; i++) {
      p.append(`a-${i}-${'x'.repeat(150)}`);
      await p.flush();
    }
    const secondBase = p.nextOffset;
    // Three frames in the second segment, each in a millisecond of its own.
    for (let k = 0; k < 3; k++) {
      const t = Date.now();
      await waitFor(() => Date.now() > t, 'a new millisecond');
      p.append(`b-${k}`);
      await p.flush();
    }
    const c0 = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(secondBase)) });
    const second = [...c0.iter()].map((m) => ({ offset: m.offset, ts: m.timestamp }));
    await c0.close();
    assert.is(second.length, 3);
    const target = second[2]!;
    assert.ok(second[1]!.ts < target.ts, JSON.stringify(second));
    writeFileSync(arm, '');
    await waitFor(() => p.logStartOffset === secondBase, 'retention to raise the log start past the first segment', 20_000);
    // The listing still holds the first segment (its unlink waits); the open of it waits past the unlink.
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.timestamp(target.ts)) });
    const first = c.iter().next();
    await c.close();
    assert.is(first.done ? null : first.value.offset, target.offset, `the first record stored at or after ${target.ts}`);
  } finally {
    clearFaults();
    await p.close();
  }
});

test.run();
