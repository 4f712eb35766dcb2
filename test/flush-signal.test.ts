/**
 * flush({ signal }): an aborted signal ends the wait with ERR_ABORTED (the signal's reason as its
 * cause), before the records are durable, and only the wait: the producer goes on appending and
 * flushing, and every record reaches the log. A flush removes its abort listener when it ends.
 */
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { getEventListeners } from 'node:events';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';
import { readTrace, withFaults } from './faults.js';
import { suite, rejectsWith, tempDir, waitFor, readTexts } from './kit.js';

const test = suite('flush signal');

test('an abort during a flush waiting on an fsync rejects it with ERR_ABORTED; the producer goes on', async () => {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  const trace = join(tempDir(), 'trace');
  // The first segment fsync once armed takes 5 s: the flush below can only end early through its signal.
  const plan = { rules: [{ op: 'fdatasync' as const, path: '\\.seg$', thread: 'writer' as const, nth: 1, effect: { delayMs: 5_000 } }], arm, trace };
  const p = await withFaults(plan, () => Producer.open({ logDir, syncPolicy: SyncPolicy.never() }));
  for (let i = 0; i < 10; i++) p.append(`r${i}`);
  await waitFor(() => p.writtenOffset === 10, 'the records to be written');
  writeFileSync(arm, '');
  const controller = new AbortController();
  const reason = new Error('the caller gave up');
  const flushed = p.flush({ signal: controller.signal });
  await waitFor(() => readTrace(trace).some((l) => l.fired), 'the writer to enter the delayed fsync');
  controller.abort(reason);
  const err = await rejectsWith(flushed, 'ERR_ABORTED');
  assert.is(err.cause, reason, 'the signal\'s reason is the cause');
  // The fsync takes 5 s: a flush that waited for it would find the records durable.
  assert.is(p.durableOffset, 0, 'the flush ended before the fsync returned');
  assert.is(getEventListeners(controller.signal, 'abort').length, 0, 'no listener left on the signal');
  assert.is(p.error, null);
  for (let i = 10; i < 20; i++) p.append(`r${i}`);
  await p.flush();
  assert.is(p.durableOffset, 20);
  await p.close();
  assert.equal(await readTexts(logDir), Array.from({ length: 20 }, (_, i) => `r${i}`));
});

test('a signal aborted already rejects at once; a later flush without one resolves', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  p.append('r0');
  const err = await rejectsWith(p.flush({ signal: AbortSignal.abort('stop') }), 'ERR_ABORTED');
  assert.is(err.cause, 'stop');
  await p.flush();
  assert.is(p.durableOffset, 1);
  await p.close();
});

test('a flush that ends normally leaves no listener on its signal; a bad signal or options is ERR_INVALID_OPTION', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  const controller = new AbortController();
  for (let i = 0; i < 5; i++) {
    p.append(`r${i}`);
    await p.flush({ signal: controller.signal });
  }
  assert.is(p.durableOffset, 5);
  assert.is(getEventListeners(controller.signal, 'abort').length, 0);
  await rejectsWith(p.flush({ signal: {} as AbortSignal }), 'ERR_INVALID_OPTION');
  await rejectsWith(p.flush(null as unknown as { signal?: AbortSignal }), 'ERR_INVALID_OPTION');
  await p.close();
});

test.run();
