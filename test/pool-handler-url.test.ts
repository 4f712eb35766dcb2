/**
 * A pool handler module given as a `file:` URL string (what import.meta.resolve() returns) names the
 * module, as a URL object does; a string that is not a valid file: URL, and a file: URL that names
 * no local path (another host, an encoded '/'), are ERR_INVALID_OPTION.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf, rejectsWith } from './kit.js';

const test = suite('pool handler url');

test('a file: URL string names the module, as a URL object does', async () => {
  const logDir = await logOf(10, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('u') });
  const href = new URL('./fixtures/pool-calls-handler.mjs', import.meta.url).href;
  const viaObject = await guarded(c.nonblockingProcess(5, new URL(href), { workers: 1 }));
  const viaString = await guarded(c.nonblockingProcess(5, href, { workers: 1 }));
  const e = await rejectsWith(c.nonblockingProcess(5, 'file://[bad', { workers: 1 }), 'ERR_INVALID_OPTION');
  const cursor = c.committedOffset;
  await c.close();
  assert.equal(viaObject, { committed: 5, skipped: 0, retried: 0, stoppedBy: 'limit' });
  assert.equal(viaString, { committed: 5, skipped: 0, retried: 0, stoppedBy: 'limit' });
  assert.match(e.message, /file: URL/);
  assert.is(cursor, 10);
});

test("a file: URL naming no local path (another host, an encoded '/') is ERR_INVALID_OPTION, not Node's TypeError", async () => {
  const logDir = await logOf(2, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('h') });
  try {
    for (const h of ['file://elsewhere/handler.mjs', new URL('file://elsewhere/handler.mjs'), 'file:///tmp/a%2Fb.mjs']) {
      const e = await rejectsWith(c.nonblockingProcess(1, h, { workers: 1 }), 'ERR_INVALID_OPTION');
      assert.is((e as unknown as { details: { option?: string } }).details.option, 'handler');
    }
    assert.is(c.committedOffset, 0);
  } finally {
    await c.close();
  }
});

test.run();
