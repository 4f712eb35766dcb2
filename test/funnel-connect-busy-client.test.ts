/**
 * Producer.connect() whose own event loop was busy past connectTimeoutMs while the owner greeted it
 * at once: the greeting already waits in the socket, so connect() resolves, as the handle's silence
 * watch reads what the owner sent before it judges the owner silent. Before, the greeting timer
 * fired first (timers run before the poll that reads the socket) and connect() rejected with ERR_IO
 * "did not answer within connectTimeoutMs" from an owner that had answered.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { Child } from './child.js';
import { suite, tempDir } from './kit.js';

const test = suite('funnel-connect-busy-client');
const TIMEOUT_MS = 250;

/** Keeps this thread busy for `ms` (a synchronous job of the caller's): no event of the loop runs meanwhile. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* the caller's own work */ }
}

test('connect() resolves when the owner greeted while the client\'s thread was busy past connectTimeoutMs', async () => {
  const logDir = tempDir();
  const owner = Child.fork('funnel-owner.mjs', [JSON.stringify({ dir: logDir })], { execArgv: [] });
  try {
    await owner.next('open');
    const connecting = Producer.connect({ logDir, connectTimeoutMs: TIMEOUT_MS }).then((r) => r, (e: { code?: string; message?: string }) => e);
    // Two turns: the connection is made and the HELLO leaves; the owner (another process, idle) answers
    // while this thread is busy for four times the bound.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    busy(4 * TIMEOUT_MS);
    const remote = await connecting;
    assert.ok(!('code' in remote), `connect() rejected: ${String((remote as { message?: string }).message)}`);
    const r = remote as Awaited<ReturnType<typeof Producer.connect>>;
    assert.is(await r.append('greeted'), 0);
    await r.close();
  } finally {
    await owner.kill();
  }
});

test.run();
