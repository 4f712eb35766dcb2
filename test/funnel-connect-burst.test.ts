/**
 * A burst of clients connecting to a live owner that serves its 64 connections already: each is to
 * be refused with ERR_LOG_FULL and a reason. The listener's own limit, a backstop against a flood of
 * descriptors, was 128 connections, refused ones included (they count until their clients close
 * them): of 600 clients connecting at once, 536 saw the listener drop them and got ERR_LOG_CLOSED
 * ("it closed or went away"), which tells a client the owner is gone. The backstop now leaves room
 * for 1,024 refusals at once.
 */
import * as assert from 'uvu/assert';
import { Producer, type RemoteProducer } from '../dist/index.js';
import { Child } from './child.js';
import { suite, tempDir } from './kit.js';

const test = suite('funnel: a burst of connections past the limit');

test('64 connections held, 600 more at once: every one refused with ERR_LOG_FULL', async () => {
  const logDir = tempDir();
  const owner = Child.fork('funnel-owner.mjs', [JSON.stringify({ dir: logDir })], { execArgv: [] });
  const held: RemoteProducer[] = [];
  try {
    await owner.next('open');
    for (let i = 0; i < 64; i++) held.push(await Producer.connect({ logDir }));
    const codes: Record<string, number> = {};
    for (const r of await Promise.allSettled(Array.from({ length: 600 }, () => Producer.connect({ logDir })))) {
      if (r.status === 'fulfilled') held.push(r.value);
      const k = r.status === 'fulfilled' ? 'connected' : String((r.reason as { code?: string }).code);
      codes[k] = (codes[k] ?? 0) + 1;
    }
    assert.equal(codes, { ERR_LOG_FULL: 600 });
  } finally {
    for (const h of held) h.destroy();
    await owner.kill();
  }
});

test.run();
