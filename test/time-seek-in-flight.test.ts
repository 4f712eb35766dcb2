/**
 * Whence.timestamp(ms) for a time past every record in the files while the writer has already
 * stamped the next frame, before ms, and is still writing it (fault injector: its write is held
 * back): the consumer starts after that frame's records, at the first record stored at or after ms,
 * never at a record stored before ms.
 */
import * as assert from 'uvu/assert';
import { readFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';
import { withFaults } from './faults.js';
import { framesOf } from './reader-kit.js';

const test = suite('time-seek-in-flight');

test('Whence.timestamp past a frame stamped but not written yet does not start at that frame', async () => {
  const logDir = tempDir();
  const traceDir = tempDir();
  const trace = join(traceDir, 'trace');
  // The writer's second frame write (record 'b') waits 3 s, after the writer stamped it.
  const held = { op: 'writev', thread: 'writer', path: '\\.seg$', nth: 2, effect: { delayMs: 3000 } } as const;
  const p = await withFaults({ rules: [held], trace }, () => Producer.open({ logDir, syncPolicy: SyncPolicy.always() }));
  try {
    p.append('a');
    await p.flush();
    p.append('b');
    // The write of b's frame started (and is held): its timestamp was taken before now.
    await waitFor(() => existsSync(trace) && readFileSync(trace, 'utf8').includes('FIRE writer writev'), 'the writer to start writing record b');
    const started = Date.now();
    await waitFor(() => Date.now() > started, 'the clock to pass the millisecond b was stamped in, at the latest');
    const ms = Date.now();
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.timestamp(ms)) });
    try {
      assert.is(framesOf(logDir).length, 1, 'the consumer opened while record b was being written (setup)');
      await p.flush();
      const stampB = framesOf(logDir)[1]!.h.timestampMs;
      assert.ok(stampB < ms, `record b stamped ${stampB}, before ${ms} (setup)`);
      const cOffset = p.append('c');
      await p.flush();
      const first = await c[Symbol.asyncIterator]().next();
      assert.ok(first.value!.timestamp >= ms, `the first record handed out (offset ${first.value?.offset}) was stored at ${first.value?.timestamp}, before ${ms}`);
      assert.is(first.value?.offset, cOffset);
    } finally {
      await c.close();
    }
  } finally {
    await p.close();
    rmSync(traceDir, { recursive: true, force: true });
  }
});

test.run();
