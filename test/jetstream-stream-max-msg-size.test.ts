/**
 * A stream made beforehand with a max_msg_size (`nats stream add --max-msg-size`) refuses a message
 * past it, headers included. The JetStream producer refuses such a record in append
 * (ERR_RECORD_TOO_LARGE, nothing queued), as it does one past the server's max_payload, and goes on:
 * it never queues a record the server refuses, which would stop it with ERR_IO and fail every record
 * appended after it. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, throwsWith } from './kit.js';
import { startNats, stopAllNats, type NatsServer, runOrSkip } from './nats-kit.js';

const test = suite('jetstream stream max_msg_size');
let server: NatsServer;
let n = 0;

test.before(async () => {
  server = await startNats();
});
test.after(stopAllNats);

test('a record past the stream\'s max_msg_size is refused by append; the producer goes on', async () => {
  const stream = `jmms-${process.pid}-${++n}`;
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`rl.${stream}`], max_msg_size: 4096 });
  } finally {
    await nc.close();
  }
  const backend = jetstream({ servers: server.url, stream, leaseMs: 5_000 });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  try {
    assert.is(p.append('small'), 0);
    throwsWith(() => p.append(Buffer.alloc(5000, 1)), 'ERR_RECORD_TOO_LARGE');
    throwsWith(() => p.append(Buffer.alloc(3000, 1), { key: 'k'.repeat(1500) }), 'ERR_RECORD_TOO_LARGE');
    assert.is(p.append('after'), 1);
    await p.flush();
    assert.is(p.error, null);
    assert.is(p.durableOffset, 2);
  } finally {
    await p.close().catch(() => undefined);
  }
});

runOrSkip(test, 'jetstream stream max_msg_size');
