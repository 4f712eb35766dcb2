/**
 * A handler that answers 'break' after the call's signal aborted (it was running when the abort came):
 * without a pool the call reports stoppedBy 'break' (the abort is checked before each record, the
 * handler's answer ends the call first), and docs/consumers.md says 'break' is what a handler's
 * 'break' reports (only close() turns it into 'end'). A pool's call reported 'abort'; it now reports
 * 'break', as without a pool, with the same cursor (the records before the break).
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf, waitFor } from './kit.js';

const test = suite('pool abort then break');
const handler = fileURLToPath(new URL('./fixtures/pool-calls-handler.mjs', import.meta.url));
const texts = ['rec-0', 'rec-1', 'break-2', 'rec-3', 'rec-4'];

test('without a pool: abort while the handler runs, then it answers break: stoppedBy break', async () => {
  const logDir = await logOf(texts, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('solo') });
  const ac = new AbortController();
  const s = await c.nonblockingProcess(null, (msg) => {
    if (Buffer.from(msg.data).toString().startsWith('break-')) { ac.abort(); return 'break'; }
    return 'commit';
  }, { signal: ac.signal });
  const cursor = c.committedOffset;
  await c.close();
  assert.equal(s, { committed: 2, skipped: 0, retried: 0, stoppedBy: 'break' });
  assert.is(cursor, 2);
});

for (const blocking of [false, true]) {
  test(`${blocking ? 'blocking' : 'nonblocking'} pool call: abort while the handler runs, then it answers break: stoppedBy break, as without a pool`, async () => {
    const logDir = await logOf(texts, POOL_LOG);
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('pool') });
    const ac = new AbortController();
    const opts = { workers: 1, signal: ac.signal };
    const call = guarded(blocking ? c.blockingProcess(null, handler, opts) : c.nonblockingProcess(null, handler, opts));
    await waitFor(() => existsSync(join(logDir, 'running-2')), 'record 2 to run');
    ac.abort();
    writeFileSync(join(logDir, 'go-2'), ''); // the handler then answers 'break'
    const s = await call;
    const cursor = c.committedOffset;
    await c.close();
    assert.ok(existsSync(join(logDir, 'broke-2')), 'the handler answered break');
    assert.equal(s, { committed: 2, skipped: 0, retried: 0, stoppedBy: 'break' });
    assert.is(cursor, 2);
  });
}

test.run();
