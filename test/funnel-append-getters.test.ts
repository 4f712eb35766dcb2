/**
 * A remote append whose options run the caller's code: a getter that calls remote.destroy() or
 * remote.close() while the append reads it. The append's promise used to never settle (the record
 * went into a batch made after the connection ended). With close() it was sent and appended after
 * close() began; with destroy(err) it rejected only once the socket's 'close' came, with the
 * connection's ERR_LOG_CLOSED instead of err. Now it rejects as an append after close() (ERR_LOG_CLOSED)
 * or destroy(err) (err) does, nothing of it reaches the log, and close() resolves.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { readRecords, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('funnel-append-getters');

/** Settles within `ms`, else 'pending' (a promise that never settles would hang the test). */
async function settled(p: Promise<unknown>, ms = 5000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise((resolve) => { timer = setTimeout(() => resolve('pending'), ms); });
  try {
    return await Promise.race([p.then(() => 'resolved', (e: Error & { code?: string }) => e.code ?? e.message), pending]);
  } finally {
    clearTimeout(timer);
  }
}

for (const how of ['destroy', 'close'] as const) {
  test(`a getter that calls remote.${how}() during the append: the append rejects as one after ${how}() does`, async () => {
    const logDir = tempDir();
    const p = await Producer.open({ logDir, acceptConnections: true });
    const remote = await Producer.connect({ logDir });
    await remote.append('r0');
    const earlier = settled(remote.append('r1'), 10_000);
    let closing: Promise<void> | undefined;
    const opts = { get key(): string { if (how === 'destroy') remote.destroy(new Error('mine')); else closing = remote.close(); return 'k'; } };
    const outcome = await settled(remote.append('r2', opts));
    assert.is(outcome, how === 'destroy' ? 'mine' : 'ERR_LOG_CLOSED', `the append's promise (${String(outcome)})`);
    if (how === 'close') {
      assert.is(await earlier, 'resolved', 'the append before close() is sent');
      assert.is(await settled(closing!), 'resolved', 'close() resolves');
    } else {
      assert.is(await earlier, 'mine');
    }
    if (how === 'close') await rejectsWith(remote.append('r3'), 'ERR_LOG_CLOSED');
    await p.close();
    const texts = (await readRecords(logDir)).map((r) => r.text);
    assert.equal(texts, how === 'close' ? ['r0', 'r1'] : ['r0'], 'r2 is not in the log');
  });
}

test.run();
