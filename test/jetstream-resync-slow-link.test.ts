/**
 * A JetStream producer's resync on a slow link settles within its bound: with many records in doubt
 * (their publishes stored, the answers lost), the resync read them back one request each and checked
 * its deadline only between rounds, so with a few hundred records and 50 ms a request flush() stayed
 * pending for many seconds past 2 x timeoutMs after the first failure (docs/jetstream.md: about
 * 4 x timeoutMs, a publish, the resync, its last request). Skipped with a printed reason without
 * nats-server.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream resync slow link');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

const TIMEOUT_MS = 1_000;
const RECORDS = 300;

test('hundreds of records in doubt on a slow link: flush() settles within about 4 x timeoutMs', async () => {
  const stream = `resync-slow-${process.pid}`;
  const proxy = await proxyTo(server.port);
  const p = await Producer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: TIMEOUT_MS }) });
  try {
    p.append('first');
    await p.flush();
    proxy.dropReplies(`rl.${stream}`, RECORDS); // stored, their answers lost: a resync reads them back
    for (let i = 0; i < RECORDS; i++) p.append(`r${i}`);
    const started = performance.now();
    const flushed = p.flush().then(() => 'resolved', (e: { code?: string }) => e.code ?? String(e));
    await waitFor(() => proxy.repliesDropped() === RECORDS, 'the publishes to reach the server', 20_000);
    proxy.delay(50); // a slow link from here on: each request 50 ms longer
    const outcome = await within(flushed, 60_000, 'flush() of records in doubt');
    const ms = performance.now() - started;
    assert.is(outcome, 'resolved', 'the records in doubt are all stored, read back in one go');
    assert.ok(ms < 4 * TIMEOUT_MS + 1_500, `flush() settled after ${Math.round(ms)} ms, past about 4 x timeoutMs (${4 * TIMEOUT_MS} ms)`);
  } finally {
    proxy.delay(0);
    await p.destroy();
    await proxy.close();
  }
});

runOrSkip(test, 'jetstream resync slow link');
