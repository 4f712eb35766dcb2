/**
 * Whence.timestamp(ms) for a time past every record in the files while the writer has already
 * stamped the next frame, before ms, and is still writing it (fault injector: its write is held
 * back), and the consumer's first call is a worker pool's: the pool starts after that frame's
 * records too, at the first record stored at or after ms, never at a record stored before ms.
 */
import * as assert from 'uvu/assert';
import { readFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';
import { withFaults } from './faults.js';
import { framesOf } from './reader-kit.js';
import { guarded } from './pool-kit.js';

const test = suite('time-seek-in-flight-pool');
// Commits anything but its special texts; each handled record appends "<offset>\n" to handled.log.
const handler = fileURLToPath(new URL('./fixtures/pool-calls-handler.mjs', import.meta.url));

test('Whence.timestamp past a frame stamped but not written yet: a pool call does not start at that frame', async () => {
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
      const s = await guarded(c.blockingProcess(1, handler, { workers: 1 }));
      assert.equal(s, { committed: 1, skipped: 0, retried: 0, stoppedBy: 'limit' });
      const handled = readFileSync(join(logDir, 'handled.log'), 'utf8').trim().split('\n').map(Number);
      assert.equal(handled, [cOffset], `the pool handled records ${handled.join(', ')}; record ${cOffset - 1} was stamped ${stampB}, before ${ms}`);
    } finally {
      await c.close();
    }
  } finally {
    await p.close();
    rmSync(traceDir, { recursive: true, force: true });
  }
});

test('a blocking pool call started while that frame is still being written waits past it', async () => {
  const logDir = tempDir();
  const traceDir = tempDir();
  const trace = join(traceDir, 'trace');
  const held = { op: 'writev', thread: 'writer', path: '\\.seg$', nth: 2, effect: { delayMs: 2000 } } as const;
  const p = await withFaults({ rules: [held], trace }, () => Producer.open({ logDir, syncPolicy: SyncPolicy.always() }));
  try {
    p.append('a');
    await p.flush();
    p.append('b');
    await waitFor(() => existsSync(trace) && readFileSync(trace, 'utf8').includes('FIRE writer writev'), 'the writer to start writing record b');
    const started = Date.now();
    await waitFor(() => Date.now() > started, 'the clock to pass the millisecond b was stamped in, at the latest');
    const ms = Date.now();
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.timestamp(ms)) });
    try {
      const none = await guarded(c.nonblockingProcess(null, handler, { workers: 1 }));
      assert.equal(none, { committed: 0, skipped: 0, retried: 0, stoppedBy: 'end' }, 'nothing stored at or after the time yet');
      const run = guarded(c.blockingProcess(1, handler, { workers: 1 }));
      await p.flush();
      assert.ok(framesOf(logDir)[1]!.h.timestampMs < ms, 'record b stamped before the time (setup)');
      const cOffset = p.append('c');
      await p.flush();
      assert.equal(await run, { committed: 1, skipped: 0, retried: 0, stoppedBy: 'limit' });
      const handled = readFileSync(join(logDir, 'handled.log'), 'utf8').trim().split('\n').map(Number);
      assert.equal(handled, [cOffset], `the pool handled records ${handled.join(', ')}`);
    } finally {
      await c.close();
    }
  } finally {
    await p.close();
    rmSync(traceDir, { recursive: true, force: true });
  }
});

test.run();
