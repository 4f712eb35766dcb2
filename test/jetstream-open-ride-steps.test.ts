/**
 * Producer.open rides a transient failure of each of its steps, as docs/jetstream.md says of the
 * open: after connecting and taking the lease it sets the stream's limits (a stream update), reads
 * the stream's end and rebuilds the dedup window; a request of these lost on the way (no answer, as
 * while a stream elects a leader) is tried again within 2 x timeoutMs of the first failure. It
 * failed the open at once with ERR_IO.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, textsOf, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream open rides its steps');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

test('the stream update setting maxFileAge is lost once: the open tries it again and succeeds', async () => {
  const stream = `open-ride-update-${process.pid}`;
  const proxy = await proxyTo(server.port);
  const nc = await connect({ servers: server.url });
  try {
    proxy.drop(`$JS.API.STREAM.UPDATE.${stream}`, 1);
    const backend = jetstream({ servers: proxy.url, stream, timeoutMs: 1_000 });
    const p = await within(Producer.open({ backend, maxFileAge: 60_000 }), 10_000, 'Producer.open');
    assert.is(proxy.dropped(), 1, 'the first update was lost');
    assert.is((await (await jetstreamManager(nc)).streams.info(stream)).config.max_age, 60_000 * 1e6, 'max_age set');
    assert.is(p.append('r0'), 0);
    await p.close();
    assert.equal(await textsOf(jetstream({ servers: server.url, stream })), ['r0']);
  } finally {
    await nc.close();
    await proxy.close();
  }
});

test('the request that rebuilds the dedup window is lost once: the open tries it again; a key appended before returns its offset', async () => {
  const stream = `open-ride-tail-${process.pid}`;
  const first = await Producer.open({ backend: jetstream({ servers: server.url, stream }), dedupWindow: { ms: 120_000 } });
  assert.is(first.append('r0', { dedupKey: 'k0' }), 0);
  await first.close();
  const proxy = await proxyTo(server.port);
  try {
    proxy.drop(`$JS.API.CONSUMER.CREATE.${stream}`, 1);
    const p = await within(Producer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: 1_000 }), dedupWindow: { ms: 120_000 } }), 10_000, 'Producer.open');
    assert.is(proxy.dropped(), 1, 'the scan\'s first request was lost');
    assert.is(p.append('again', { dedupKey: 'k0' }), 0, 'the key is in the rebuilt window');
    await p.close();
    assert.equal(await textsOf(jetstream({ servers: server.url, stream })), ['r0']);
  } finally {
    await proxy.close();
  }
});

runOrSkip(test, 'jetstream open rides its steps');
