/**
 * What a JetStream consumer asks the server while it reads: the stream's state (a STREAM.INFO request,
 * which the server answers by walking the stream's state) is read when the consumer reaches the end it
 * knows, not each time its buffer runs dry while the pull still owes records below that end.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';
import { proxyTo, type NatsProxy } from './nats-proxy.js';

const test = suite('jetstream pull requests');
let server: NatsServer;
let proxy: NatsProxy;
test.before(async () => {
  server = await startNats();
  proxy = await proxyTo(server.port);
});
test.after(async () => {
  await proxy.close();
  await stopAllNats();
});

const N = 40_000;

test('reading a stream to its end asks for its state a few times, not once per buffer run dry', async () => {
  const stream = `pull-info-${process.pid}`;
  const backend = jetstream({ servers: proxy.url, stream });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  for (let i = 0; i < N; i++) {
    try {
      p.append(`r${i}`);
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_LOG_FULL') throw e;
      await p.writable({ bytes: 8 });
      i--;
    }
  }
  await p.close();
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const before = proxy.passed(`$JS.API.STREAM.INFO.${stream}`);
  const started = Date.now();
  let seen = 0;
  // A handler that yields now and then, so the buffer runs dry while the pull still delivers.
  const summary = await c.nonblockingProcess(null, async (m) => {
    assert.is(m.offset, seen++);
    if (m.offset % 100 === 0) await new Promise((r) => setImmediate(r));
    return 'commit' as const;
  });
  const infos = proxy.passed(`$JS.API.STREAM.INFO.${stream}`) - before;
  const seconds = Math.ceil((Date.now() - started) / 1000);
  await c.close();
  assert.is(summary.committed, N);
  process.stdout.write(`# ${infos} stream state requests for ${N} records in ${seconds} s\n`);
  // The reads at the start and the end, the lag view's refresh once a second (LAG_REFRESH_MS), one spare.
  assert.ok(infos <= 4 + seconds, `${infos} stream state requests in ${seconds} s`);
});

runOrSkip(test, 'jetstream pull requests');
