/**
 * `maxTotalBytes` on JetStream sets the stream's max_bytes so that the server removes the oldest
 * records (docs/jetstream.md). On a stream made beforehand with the "discard new" policy the server
 * would refuse every record past max_bytes instead, and the producer would stop with ERR_IO once the
 * stream filled: the option cannot be honoured there, so Producer.open refuses it with
 * ERR_INVALID_OPTION and changes nothing (the stream's limits as they were, no lease left behind).
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { DiscardPolicy, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream maxTotalBytes on a discard-new stream');
let server: NatsServer;
let n = 0;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

async function withJsm<T>(fn: (jsm: JetStreamManager) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: server.url });
  try {
    return await fn(await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

test('maxTotalBytes on a stream that discards new records is refused at open; nothing changed', async () => {
  const stream = `mtbdn-${process.pid}-${++n}`;
  await withJsm((jsm) => jsm.streams.add({ name: stream, subjects: [`rl.${stream}`], discard: DiscardPolicy.New }));
  const backend = jetstream({ servers: server.url, stream, leaseMs: 5_000 });
  await rejectsWith(Producer.open({ backend, syncPolicy: SyncPolicy.never(), maxTotalBytes: 4096 }), 'ERR_INVALID_OPTION');
  assert.is(await withJsm(async (jsm) => (await jsm.streams.info(stream)).config.max_bytes), -1, 'the stream\'s max_bytes as it was');
  // No lease left behind, and a producer that sets no byte limit opens on the stream and appends.
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  try {
    for (let i = 0; i < 20; i++) p.append(Buffer.alloc(500, i));
    await p.flush();
    assert.is(p.durableOffset, 20);
  } finally {
    await p.close();
  }
});

test('maxTotalBytes: null (no byte limit) on such a stream opens', async () => {
  const stream = `mtbdn-${process.pid}-${++n}`;
  await withJsm((jsm) => jsm.streams.add({ name: stream, subjects: [`rl.${stream}`], discard: DiscardPolicy.New }));
  const p = await Producer.open({ backend: jetstream({ servers: server.url, stream, leaseMs: 5_000 }), syncPolicy: SyncPolicy.never(), maxTotalBytes: null });
  await p.close();
});

runOrSkip(test, 'jetstream maxTotalBytes on a discard-new stream');
