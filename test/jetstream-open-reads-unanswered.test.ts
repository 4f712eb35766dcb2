/**
 * Consumer.open with Whence.timestamp on JetStream never starts past records it did not read: the
 * open's read for the first record at or after the time ended with nothing while the server did not
 * answer its fetches (nats.js ends such a fetch empty after a while), and the open took that for "no
 * record that late" and started at the stream's end, silently passing over every record from the
 * time on; and it waited without end (nats.js asks again and again). A producer open's read of the
 * dedup keys waited as long. Both end with ERR_IO by the open's bound. Skipped with a printed reason
 * without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream open reads unanswered');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

test('an open whose read for the time gets no answer does not start at the stream\'s end', async () => {
  const stream = `ts-unread-${process.pid}`;
  const p = await Producer.open({ backend: jetstream({ servers: server.url, stream }) });
  for (let i = 0; i < 5; i++) p.append(`r${i}`);
  await p.close();
  const proxy = await proxyTo(server.port);
  try {
    proxy.drop('$JS.API.CONSUMER.MSG.NEXT.', 1_000); // the open's fetches get no answer
    const opened = Consumer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: 2_000 }), style: ConsumerStyle.nonTx(Whence.timestamp(0)) })
      .then((c) => { const at = c.nextOffset; void c.close(); return `opened at ${at}`; }, (e: { code?: string }) => e.code ?? String(e));
    const outcome = await within(opened, 20_000, 'Consumer.open'); // docs/jetstream.md: an open fails with ERR_IO in about 4 x timeoutMs
    assert.ok(outcome === 'ERR_IO' || outcome === 'opened at 0', `the open started past records it did not read: ${outcome}`);
  } finally {
    await proxy.close();
  }
});

test('a producer open whose read of the dedup keys gets no answer fails with ERR_IO, not a hang', async () => {
  const stream = `dk-unread-${process.pid}`;
  const p = await Producer.open({ backend: jetstream({ servers: server.url, stream }), dedupWindow: { records: 100 } });
  for (let i = 0; i < 5; i++) p.append(`r${i}`, { dedupKey: `k${i}` });
  await p.close();
  const proxy = await proxyTo(server.port);
  try {
    proxy.drop('$JS.API.CONSUMER.MSG.NEXT.', 1_000); // the open's fetches get no answer
    const opened = Producer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: 2_000 }), dedupWindow: { records: 100 } })
      .then((q) => q.destroy().then(() => 'opened'), (e: { code?: string }) => e.code ?? String(e));
    assert.is(await within(opened, 20_000, 'Producer.open'), 'ERR_IO');
  } finally {
    await proxy.close();
  }
});

runOrSkip(test, 'jetstream open reads unanswered');
