/**
 * `Whence.timestamp(ms)` on JetStream when the records stored at or after `ms` were deleted from the
 * stream's end (removed by hand, or records the account's limit refused, which leave deleted
 * sequences there): no stored record is at or after `ms`, so the consumer starts at the end, as a
 * local log's does. It read only the message at the last sequence for that answer, found it deleted,
 * and scanned from the time, which nats-server 2.9 answers from the stream's first message: every
 * record stored before `ms` was handed out, then ERR_POSITION_EXPIRED. The lookup also took one try
 * of each request where the open's other reads ride out a request that goes unanswered: one lost
 * stream-info request failed the open with ERR_IO. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream: Whence.timestamp past the stored records');
let server: NatsServer;
let n = 0;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

/** A stream of 5 records, each stored in a later ms than the one before, the newest `deleted` removed; returns the time of the first removed (of the newest when none is). */
async function streamWithDeletedTail(stream: string, deleted: number): Promise<number> {
  const p = await Producer.open({ backend: jetstream({ servers: server.url, stream, timeoutMs: 2_000 }) });
  for (let i = 0; i < 5; i++) {
    const before = Date.now();
    await waitFor(() => Date.now() > before, 'the next ms');
    p.append(`r${i}`);
    await p.flush();
  }
  await p.close();
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    const ms = (await jsm.streams.getMessage(stream, { seq: deleted === 0 ? 5 : 5 - deleted + 1 }))!.time.getTime();
    for (let seq = 5; seq > 5 - deleted; seq--) await jsm.streams.deleteMessage(stream, seq, false);
    return ms;
  } finally {
    await nc.close();
  }
}

for (const deleted of [1, 3]) {
  test(`the newest ${deleted} deleted, a time at the first of them: no record handed out, the consumer at the end`, async () => {
    const stream = `ts-tail-${process.pid}-${n++}`;
    const ms = await streamWithDeletedTail(stream, deleted);
    const backend = jetstream({ servers: server.url, stream, timeoutMs: 2_000 });
    const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.timestamp(ms)) });
    try {
      const seen: number[] = [];
      const r = await c.nonblockingProcess(null, (m) => { seen.push(m.offset); return 'commit'; }).then(() => 'resolved', (e: { code?: string }) => String(e.code));
      assert.equal(seen, [], `records stored before ${ms} were handed out (then: ${r})`);
      assert.is(r, 'resolved');
      assert.is(c.nextOffset, 5);
    } finally {
      await c.close();
    }
  });
}

test('a time at a stored record in the middle: that record first', async () => {
  const stream = `ts-tail-${process.pid}-${n++}`;
  const ms = await streamWithDeletedTail(stream, 0);
  const backend = jetstream({ servers: server.url, stream, timeoutMs: 2_000 });
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.timestamp(ms)) });
  try {
    assert.is(c.nextOffset, 4);
  } finally {
    await c.close();
  }
});

test('the lookup rides out a lost stream-info request, as an open at the oldest record does', async () => {
  const stream = `ts-tail-${process.pid}-${n++}`;
  await streamWithDeletedTail(stream, 0);
  const proxy = await proxyTo(server.port);
  try {
    const backend = jetstream({ servers: proxy.url, stream, timeoutMs: 1_000 });
    proxy.drop(`$JS.API.STREAM.INFO.${stream}`, 1, 2); // the third (the lookup's bounds) is lost
    const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.timestamp(0)) });
    try {
      assert.is(c.nextOffset, 0);
      assert.is(proxy.dropped(), 1, 'the request was lost');
    } finally {
      await c.close();
    }
  } finally {
    await proxy.close();
  }
});

runOrSkip(test, 'jetstream: Whence.timestamp past the stored records');
