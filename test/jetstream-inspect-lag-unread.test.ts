/**
 * inspectLog on JetStream reads, for a cursor behind the stream's end, the stored record at its
 * position (its timestamp gives the lag's ms). A failure of that read (unanswered, a connection
 * lost) was swallowed and read as "no record there": the cursor's lag said 0 ms behind, as for a
 * deleted record, though the read had failed. The failure is now the call's ERR_IO. Skipped with
 * a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, inspectLog } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream inspect lag unread');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

test('inspectLog whose read of the record at a cursor fails does not report a lag of 0 ms', async () => {
  const stream = `il-unread-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, timeoutMs: 1_000, leaseMs: 3_000 });
  const p = await Producer.open({ backend });
  for (let i = 0; i < 3; i++) p.append(`r${i}`);
  await p.flush();
  const t = Date.now();
  await waitFor(() => Date.now() > t + 20, 'the clock to move on'); // the newest record is later than the one at the cursor
  p.append('r3');
  await p.close();
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('a') });
  await within(c.nonblockingProcess(2, () => 'commit'), 20_000, 'the call');
  await c.close();
  const lagMs = (await inspectLog({ backend })).cursors.find((x) => x.id === 'a')!.lag.ms;
  assert.ok(lagMs >= 20, `the lag read directly: ${lagMs} ms`);
  const proxy = await proxyTo(server.port);
  try {
    proxy.dropReplies(`$JS.API.STREAM.MSG.GET.${stream}`, 1); // the read of the record at the cursor gets no answer
    const outcome = await within(inspectLog({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: 1_000 }) })
      .then((info) => `lag ${info.cursors.find((x) => x.id === 'a')?.lag.ms} ms`, (e: { code?: string }) => e.code ?? String(e)), 20_000, 'inspectLog');
    assert.is(proxy.repliesDropped(), 1);
    assert.is(outcome, 'ERR_IO', `the failed read was reported as: ${outcome}`);
  } finally {
    await proxy.close();
  }
});

runOrSkip(test, 'jetstream inspect lag unread');
