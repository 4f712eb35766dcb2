/**
 * The codes a producer's calls reject with when it stops: a writer failure reads as that failure,
 * never as an ordinary close, and the owner's destroy() (a stop on purpose, not a failure) reads as
 * ERR_LOG_CLOSED on the handles attached to it, as the owner's close() does (docs/threads.md).
 */
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';
import { rejectsWith, suite, tempDir, throwsWith } from './kit.js';
import { readTrace, withFaults } from './faults.js';

const test = suite('producer stop codes');

test('a flush() waiting when the writer fails during close() rejects with the writer\'s error (ERR_IO), not ERR_LOG_CLOSED', async () => {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  const trace = join(tempDir(), 'trace');
  // Once armed, the writer's first fdatasync of a segment takes 500 ms, then fails with EIO.
  const p = await withFaults({ arm, trace, rules: [{ op: 'fdatasync', thread: 'writer', path: '\\.seg$', nth: 1, effect: { errno: 'EIO', delayMs: 500 } }] },
    () => Producer.open({ logDir, syncPolicy: SyncPolicy.never() }));
  writeFileSync(arm, '');
  for (let i = 0; i < 100; i++) p.append(`r${i}`);
  const flushed = p.flush().then(() => 'resolved', (e: { code?: string }) => e.code ?? String(e));
  const closed = p.close().then(() => 'resolved', (e: { code?: string }) => e.code ?? String(e));
  const [f, c] = await Promise.all([flushed, closed]);
  assert.ok(readTrace(trace).some((l) => l.fired), 'the fault fired');
  assert.is(c, 'ERR_IO');
  assert.is(f, 'ERR_IO', 'the waiting flush reports the writer\'s error');
  assert.is(p.durableOffset, 0);
});

test('after the owner\'s destroy(), an attached handle reports ERR_LOG_CLOSED, not a writer failure', async () => {
  const p = await Producer.open({ logDir: tempDir() });
  const a = Producer.attach(p.share());
  a.append('x');
  await p.destroy();
  assert.is(p.error, null);
  assert.is(a.error, null, 'no failure on the attached handle either');
  throwsWith(() => a.append('y'), 'ERR_LOG_CLOSED');
  await rejectsWith(a.flush(), 'ERR_LOG_CLOSED');
});

test.run();
