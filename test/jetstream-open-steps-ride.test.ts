/**
 * The steps of an open after it found the stream ride out a request that goes unanswered, as the
 * lookup itself does (docs/jetstream.md: "Producer.open and Consumer.open try connecting and finding
 * the stream again while that fails transiently"): the producer's read of the stream's limits and
 * of its end, and a consumer's reads of the stream's bounds (before and after it takes its cursor).
 * A lost stream-info request (a connection cut under it, as test/jetstream-net-fault.test.ts cuts
 * them, or dropped here by a proxy) failed the open with ERR_IO "reading the state of stream ...:
 * timeout" after one timeoutMs, where a second try succeeds. Skipped with a printed reason without
 * nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream open steps ride out a lost request');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

const TIMEOUT_MS = 1_000;

test('Producer.open: a lost stream-info request after the lookup (the limits, the end) is tried again', async () => {
  const stream = `open-steps-p-${process.pid}`;
  const seed = await Producer.open({ backend: jetstream({ servers: server.url, stream }) });
  seed.append('r0');
  await seed.close();
  for (const after of [1, 2]) {
    const proxy = await proxyTo(server.port);
    try {
      proxy.drop(`$JS.API.STREAM.INFO.${stream}`, 1, after); // the lookup (and the limits' read) pass
      const p = await within(Producer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: TIMEOUT_MS }) }), 4 * TIMEOUT_MS, 'Producer.open');
      assert.is(proxy.dropped(), 1, `stream-info request ${after + 1} was lost`);
      assert.is(p.append(`r${after}`), after, 'the producer knows the stream\'s end');
      await p.close();
    } finally {
      await proxy.close();
    }
  }
});

for (const [style, name] of [[ConsumerStyle.clientTx('c'), 'clientTx'], [ConsumerStyle.nonTx(Whence.oldest()), 'nonTx']] as const) {
  test(`Consumer.open (${name}): a lost stream-info request after the lookup is tried again`, async () => {
    const stream = `open-steps-c-${name}-${process.pid}`;
    const seed = await Producer.open({ backend: jetstream({ servers: server.url, stream }) });
    seed.append('r0');
    await seed.close();
    for (const after of name === 'clientTx' ? [1, 2] : [1]) {
      const proxy = await proxyTo(server.port);
      try {
        proxy.drop(`$JS.API.STREAM.INFO.${stream}`, 1, after);
        const c = await within(Consumer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: TIMEOUT_MS }), style }), 4 * TIMEOUT_MS, 'Consumer.open');
        try {
          assert.is(proxy.dropped(), 1, `stream-info request ${after + 1} was lost`);
          const seen: string[] = [];
          await within(c.nonblockingProcess(null, (m) => { seen.push(Buffer.from(m.data).toString()); return 'commit'; }), 4 * TIMEOUT_MS, 'nonblockingProcess');
          assert.ok(name === 'nonTx' || after === 1 ? seen.length === 1 : seen.length === 0, `records handed out: ${seen.join(',')}`);
        } finally {
          await c.close();
        }
      } finally {
        await proxy.close();
      }
    }
  });
}

runOrSkip(test, 'jetstream open steps ride out a lost request');
