/**
 * A consumer opened with onPositionExpired 'oldest' whose position is a record deleted from the middle
 * of its stream asks the server for the next stored record. When that check got no answer (a request
 * timed out), the open went on at the deleted record itself: its first call failed at once with
 * ERR_POSITION_EXPIRED, and only one more open went on. The check now rides out a request that goes
 * unanswered, as the open's other reads do: it is tried again within the open's bound (2 x timeoutMs
 * of failed tries), then the open fails with ERR_IO. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite } from './kit.js';
import { appendAll, closeAfter, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream oldest past a deleted record, check unanswered');
let server: NatsServer;
let n = 0;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);
const TIMEOUT_MS = 1_000;

/** A stream of records 0..9 with 4 and 5 deleted, and cursor 'mid' committed at 4. */
async function cursorAtDeleted(): Promise<string> {
  const stream = `odu-${process.pid}-${++n}x`;
  const backend = jetstream({ servers: server.url, stream, timeoutMs: TIMEOUT_MS, leaseMs: 3_000 });
  await closeAfter(await Producer.open({ backend, syncPolicy: SyncPolicy.never() }), (p) => appendAll(p, 0, 10));
  await closeAfter(await Consumer.open({ backend, style: ConsumerStyle.clientTx('mid') }), (c) => within(c.nonblockingProcess(4, () => 'commit'), 20_000, 'the call'));
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    for (const o of [4, 5]) await jsm.streams.deleteMessage(stream, o + 1);
  } finally {
    await nc.close();
  }
  return stream;
}

test('the check unanswered once: the open tries it again and starts at the next stored record', async () => {
  const stream = await cursorAtDeleted();
  const proxy = await proxyTo(server.port);
  try {
    proxy.dropReplies(`$JS.API.STREAM.MSG.GET.${stream}`, 1); // the check of the record at the cursor gets no answer
    const c = await within(Consumer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: TIMEOUT_MS, leaseMs: 3_000 }), style: ConsumerStyle.clientTx('mid'), onPositionExpired: 'oldest' }), 20_000, 'the open');
    try {
      assert.is(proxy.repliesDropped(), 1);
      assert.is(c.nextOffset, 6, 'past the deleted records');
      assert.is(c.committedOffset, 6, 'the cursor moved there');
      const got: number[] = [];
      await within(c.nonblockingProcess(null, (m) => { got.push(m.offset); return 'commit'; }), 20_000, 'the call');
      assert.equal(got, [6, 7, 8, 9]);
    } finally {
      await c.close();
    }
  } finally {
    await proxy.close();
  }
});

test('the check never answered: the open fails with ERR_IO within its bound, the cursor as it was', async () => {
  const stream = await cursorAtDeleted();
  const proxy = await proxyTo(server.port);
  try {
    proxy.dropReplies(`$JS.API.STREAM.MSG.GET.${stream}`, 1_000);
    const open = Consumer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: TIMEOUT_MS, leaseMs: 3_000 }), style: ConsumerStyle.clientTx('mid'), onPositionExpired: 'oldest' });
    // An open that succeeds (at the deleted record) is closed: the assertion below says why it failed.
    const e = await rejectsWith(within(open.then(async (c) => { const at = c.nextOffset; await c.close(); return at; }), 20_000, 'the open'), 'ERR_IO');
    assert.match(e.message, /2 x timeoutMs/);
  } finally {
    await proxy.close();
  }
  const c = await Consumer.open({ backend: jetstream({ servers: server.url, stream, timeoutMs: TIMEOUT_MS, leaseMs: 3_000 }), style: ConsumerStyle.clientTx('mid') });
  try {
    assert.is(c.committedOffset, 4, 'the refused open moved nothing');
  } finally {
    await c.close();
  }
});

runOrSkip(test, 'jetstream oldest past a deleted record, check unanswered');
