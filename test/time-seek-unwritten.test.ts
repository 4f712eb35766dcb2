/**
 * Whence.timestamp(ms) in the producer's process, for a time past every record in the files while
 * records appended before the open are still on their way to the writer: those records are stored
 * (and stamped) at or after ms, so the consumer starts at the first of them, not at the producer's
 * next offset. The writer's write of that frame is held back (fault injector) while the consumer opens.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';
import { withFaults } from './faults.js';
import { framesOf } from './reader-kit.js';

const test = suite('time-seek-unwritten');

test('in-process Whence.timestamp past the written records starts at the records not written yet, not past them', async () => {
  const logDir = tempDir();
  // The writer's second frame write (record 'b') waits 3 s: the consumer opens meanwhile.
  const held = { op: 'writev', thread: 'writer', path: '\\.seg$', nth: 2, effect: { delayMs: 3000 } } as const;
  const p = await withFaults({ rules: [held] }, () => Producer.open({ logDir, syncPolicy: SyncPolicy.always() }));
  try {
    p.append('a');
    await p.flush();
    const stampA = framesOf(logDir)[0]!.h.timestampMs;
    await waitFor(() => Date.now() > stampA, 'the clock to pass record a\'s millisecond');
    const ms = Date.now(); // before 'b' is appended: 'b' is stamped at or after it
    const b = p.append('b');
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.timestamp(ms)) });
    try {
      assert.is(framesOf(logDir).length, 1, 'the consumer opened while record b was being written (setup)');
      await p.flush();
      const stampB = framesOf(logDir)[1]!.h.timestampMs;
      assert.ok(stampB >= ms, `record b stamped ${stampB}, at or after ${ms}`);
      p.append('c');
      await p.flush();
      const first = await c[Symbol.asyncIterator]().next();
      assert.is(first.value?.offset, b, `the first record stored at or after ${ms} is ${b} (b); the consumer started at ${first.value?.offset}`);
    } finally {
      await c.close();
    }
  } finally {
    await p.close();
  }
});

test.run();
