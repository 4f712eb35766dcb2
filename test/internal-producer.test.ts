/**
 * A broken internal invariant of the producer and its writer thread is ERR_INTERNAL, never
 * ERR_LOG_CORRUPT or an I/O error: a ring record the writer finds reaching past the published head (the
 * write half of the pair assertion: nothing of that frame reaches the file), and a message from the
 * writer thread that the protocol does not know. Each breaks the invariant by hand, through the private
 * fields of a Producer from dist/ (its writer thread starts only from there); internal.test.ts has the
 * invariants of modules tested on src/.
 */
import * as assert from 'uvu/assert';
import { Producer, SyncPolicy } from '../dist/index.js';
import { suite, readTexts, rejectsWith, tempDir, throwsWith, waitFor } from './kit.js';

const test = suite('internal-producer');

/** The producer's ring appender and writer thread, which no public API exposes. */
interface Internals {
  appends: { appender: { head: number; readonly mask: number; readonly view: DataView; publish(): void } };
  /** The handle's parts (src/producer/producer-parts.ts). */
  p: { link: { worker: { emit(event: string, m: unknown): boolean } } };
}
const internals = (p: Producer): Internals => p as unknown as Internals;

test('a ring record reaching past the published head fails the writer with ERR_INTERNAL before it writes', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  p.append('r0');
  await p.flush();
  // The ring appender publishes 8 bytes whose length field claims 1,000: a producer-side bug the writer
  // must not frame.
  const a = internals(p).appends.appender;
  a.view.setUint32(a.head & a.mask, 1000, true);
  a.head = (a.head + 8) >>> 0;
  a.publish();
  await waitFor(() => p.error !== null, 'the writer to fail');
  const err = await rejectsWith(p.flush(), 'ERR_INTERNAL');
  assert.match(err.message, 'reaches past the published head');
  assert.is(p.error?.code, 'ERR_INTERNAL');
  assert.is(p.writtenOffset, 1, 'nothing of the bad frame was published');
  throwsWith(() => p.append('r1'), 'ERR_INTERNAL');
  await rejectsWith(p.close(), 'ERR_INTERNAL');
  assert.equal(await readTexts(logDir), ['r0'], 'nothing of the bad frame reached the file');
});

test('a message the writer protocol does not know fails the producer with ERR_INTERNAL', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  p.append('r0');
  await p.flush();
  internals(p).p.link.worker.emit('message', { type: 'bogus' });
  assert.is(p.error?.code, 'ERR_INTERNAL');
  assert.match(p.error!.message, 'bogus');
  throwsWith(() => p.append('r1'), 'ERR_INTERNAL');
  await rejectsWith(p.flush(), 'ERR_INTERNAL');
  await rejectsWith(p.close(), 'ERR_INTERNAL');
  // The writer thread is stopped and the lock released: the directory opens again.
  const q = await Producer.open({ logDir });
  assert.is(q.nextOffset, 1);
  await q.close();
});

test.run();
