/**
 * A JetStream producer's resync counts as its own only records it read back, by its deadline: while
 * the server did not answer its reads of the records in doubt (its fetches lost), nats.js asked again
 * and again and the resync waited past 2 x timeoutMs after the first failure (flush() pending); once
 * a fetch ended with nothing, the records still stored were taken for records the stream removed (its
 * limits, a purge), and with the lease still held, for this producer's: a record another writer
 * stored at the offset of a publish that never reached the server counted as acknowledged, flush()
 * resolved, and the appended record was lost.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream resync unread records');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

const TIMEOUT_MS = 2_000;

test('records in doubt the resync cannot read are not counted as the producer\'s, and flush() settles within its bound', async () => {
  const stream = `resync-unread-${process.pid}`;
  const proxy = await proxyTo(server.port);
  const p = await Producer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: TIMEOUT_MS }) });
  const nc = await connect({ servers: server.url });
  try {
    p.append('first');
    await p.flush();
    proxy.drop(`rl.${stream}`, 1); // the producer's next publish never reaches the server
    p.append('mine');
    const flushed = p.flush().then(() => 'resolved', (e: { code?: string }) => e.code ?? String(e));
    await waitFor(() => proxy.dropped() === 1, 'the publish lost');
    await nc.request(`rl.${stream}`, new TextEncoder().encode('foreign')); // stored at offset 1 by another writer
    proxy.drop('$JS.API.CONSUMER.MSG.NEXT.', 1_000); // the resync's reads of the records in doubt get no answer
    const started = performance.now();
    const outcome = await within(flushed, 4 * TIMEOUT_MS + 2_000, 'flush()'); // docs/jetstream.md: about 4 x timeoutMs
    assert.ok(performance.now() - started < 4 * TIMEOUT_MS, 'settled within the bound');
    assert.is(outcome, 'ERR_IO', 'the record at offset 1 was never read back: the producer\'s record is not acknowledged');
  } finally {
    await nc.close();
    await p.destroy();
    await proxy.close();
  }
});

runOrSkip(test, 'jetstream resync unread records');
