/**
 * A `writable()` waiting for room in a full queue when `close()` is called: on a local log it rejects
 * with ERR_LOG_CLOSED (the producer stops taking records), and so it does on JetStream, at once. It
 * resolved once close()'s flush had emptied the queue, telling the caller there was room for a record
 * the closed producer then refused. The server's answers are held back by a proxy so the queue stays
 * full until close() is called.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { outcome, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream writable after close');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

test('a writable() waiting for room when close() is called rejects with ERR_LOG_CLOSED; close() flushes', async () => {
  const stream = `writable-close-${process.pid}`;
  const proxy = await proxyTo(server.port);
  const p = await Producer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: 5_000, maxQueueBytes: 64 * 1024 }) });
  try {
    proxy.hold(); // the publishes reach the server; their acknowledgements wait
    const record = Buffer.alloc(30 * 1024, 1);
    p.append(record);
    p.append(record);
    let threw = '';
    try { p.append(record); } catch (e) { threw = (e as { code: string }).code; }
    assert.is(threw, 'ERR_LOG_FULL', 'the queue is full');
    const waiting = outcome(() => p.writable({ bytes: record.length }));
    const closing = p.close();
    closing.catch(() => undefined); // awaited below; a failed assertion before must not leave it unhandled
    proxy.release();
    assert.is(await waiting, 'ERR_LOG_CLOSED', 'writable() after close()');
    await within(closing, 10_000, 'close()');
    assert.is(p.durableOffset, 2, 'close() flushed both records');
  } finally {
    await p.destroy();
    await proxy.close();
  }
});

runOrSkip(test, 'jetstream writable after close');
