/**
 * How a JetStream consumer and producer read the stream (src/jetstream/reader.ts, pull.ts,
 * tail-scan.ts). Skipped with a printed reason without nats-server.
 *
 * The bounded scans read the dedup window's keys at a producer's open and the first record at or
 * after a time for Whence.timestamp. A scan ends at its first fetch that brings nothing; a pull
 * request the server never saw (as during a leader election) must not look like that, or the
 * rebuilt window would forget keys (a retried append then stores a duplicate) and the seek would
 * start at the end (every record from the time on passed over, with no error). The tests lose a
 * scan's first pull request: nats.js's ordered consumer pulls again within the same fetch, and the
 * scan sees the whole range.
 *
 * A consumer reads the stream's state (a STREAM.INFO request, which the server answers by walking
 * the stream's state) when it reaches the end it knows, not each time its buffer runs dry while the
 * pull still owes records below that end.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { appendAll, runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';
import { proxyTo, type NatsProxy } from './nats-proxy.js';

const test = suite('jetstream reads');
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

/** The subject prefix of a pull consumer's fetch requests. */
const PULL = '$JS.API.CONSUMER.MSG.NEXT.';

test('a fetch of the dedup window\'s rebuild that brings nothing is tried again: the key is still known', async () => {
  const backend = jetstream({ servers: proxy.url, stream: `scan-dedup-${process.pid}` });
  const p = await Producer.open({ backend, dedupWindow: { records: 100 } });
  assert.is(p.append('order', { dedupKey: 'order-17' }), 0);
  p.append('other');
  await p.close();
  proxy.drop(PULL, 1);
  const q = await Producer.open({ backend, dedupWindow: { records: 100 } });
  try {
    assert.is(proxy.dropped(), 1, 'the rebuild\'s first fetch was lost');
    assert.is(q.append('order, retried', { dedupKey: 'order-17' }), 0, 'the retry is the stored record');
    assert.is(q.append('next'), 2);
  } finally {
    await q.close();
  }
});

test('a fetch of a seek by time that brings nothing is tried again: the seek starts at the time', async () => {
  const backend = jetstream({ servers: proxy.url, stream: `scan-time-${process.pid}` });
  const p = await Producer.open({ backend });
  p.append('before');
  await p.flush();
  const mid = Date.now() + 5;
  await waitFor(() => Date.now() > mid + 5, 'the clock to pass the seek\'s time');
  p.append('at');
  p.append('after');
  await p.close();
  proxy.drop(PULL, 1);
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.timestamp(mid)) });
  try {
    assert.is(proxy.dropped(), 1, 'the seek\'s first fetch was lost');
    const got: number[] = [];
    await c.nonblockingProcess(null, (m) => { got.push(m.offset); return 'commit'; });
    assert.equal(got, [1, 2]);
  } finally {
    await c.close();
  }
});

const N = 40_000;

test('reading a stream to its end asks for its state a few times, not once per buffer run dry', async () => {
  const stream = `pull-info-${process.pid}`;
  const backend = jetstream({ servers: proxy.url, stream });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  await appendAll(p, 0, N);
  await p.close();
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const before = proxy.passed(`$JS.API.STREAM.INFO.${stream}`);
  const pullsBefore = proxy.passed(`$JS.API.CONSUMER.CREATE.${stream}`);
  const started = Date.now();
  let seen = 0;
  // A handler that yields now and then, so the buffer runs dry while the pull still delivers.
  const summary = await c.nonblockingProcess(null, async (m) => {
    assert.is(m.offset, seen++);
    if (m.offset % 100 === 0) await new Promise((r) => setImmediate(r));
    return 'commit' as const;
  });
  const infos = proxy.passed(`$JS.API.STREAM.INFO.${stream}`) - before;
  // Each pull the consumer makes (one at the start, one after each pause on a full buffer) may read the stream's info too.
  const pulls = proxy.passed(`$JS.API.CONSUMER.CREATE.${stream}`) - pullsBefore;
  const seconds = Math.ceil((Date.now() - started) / 1000);
  await c.close();
  assert.is(summary.committed, N);
  process.stdout.write(`# ${infos} stream state requests for ${N} records in ${seconds} s, ${pulls} pulls\n`);
  // The reads at the start and the end, the lag view's refresh once a second (LAG_REFRESH_MS), one
  // a pull, and as many spare (requests tried again on a loaded machine): a few, where reading at
  // each empty buffer made about one per 1,500 records (26 here, on the build before).
  assert.ok(pulls >= 1, 'the consumer made its pull');
  assert.ok(infos <= 4 + 2 * seconds + pulls, `${infos} stream state requests in ${seconds} s, ${pulls} pulls`);
});

runOrSkip(test, 'jetstream reads');
