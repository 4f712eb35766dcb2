/**
 * The server's JetStream storage full (its `max_file_store` reached) refuses every write with
 * "insufficient resources" (10023), a lease's and a cursor commit's as a record's: an open that
 * cannot take its lease, and a commit the server refused, fail with ERR_DISK_FULL (the code the
 * producer gives for a record refused so, and a local handle for a full disk), not ERR_IO. Before
 * the fix they failed with ERR_IO "taking the lease ... failed: insufficient resources".
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstream as natsJetstream, jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { coded, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream server store full: opens and commits');
let server: NatsServer;
test.before(async () => { server = await startNats(15_000, undefined, 'jetstream { max_file_store: 200000 }\n'); });
test.after(stopAllNats);

/** Fills the server's file store with another stream's messages until the server refuses one. */
async function fillStore(url: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    await (await jetstreamManager(nc)).streams.add({ name: 'filler', subjects: ['filler.>'] });
    const js = natsJetstream(nc);
    for (let i = 0; i < 1_000; i++) {
      const refused = await js.publish('filler.x', new Uint8Array(1000)).then(() => false, (e: Error) => /insufficient resources/i.test(e.message));
      if (refused) return;
    }
    throw new Error('the server never refused a message');
  } finally {
    await nc.close();
  }
}

test('a clientTx open, a producer open and a commit refused for the full store fail with ERR_DISK_FULL', async () => {
  const stream = `jssfo-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 3_000, timeoutMs: 2_000 });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  for (let i = 0; i < 5; i++) p.append(`r${i}`);
  await p.close();
  const early = await Consumer.open({ backend, style: ConsumerStyle.clientTx('early'), commit: { everyRecords: 1 } });
  try {
    await fillStore(server.url);
    const open = await within(Consumer.open({ backend, style: ConsumerStyle.clientTx('late') }).then(async (c) => { await c.destroy(); return null; }, (e: unknown) => e), 10_000, 'the consumer open');
    assert.ok(open !== null, 'the open failed');
    assert.is(coded(open, 'the clientTx open'), 'ERR_DISK_FULL', `the lease refused for the full store: ${(open as Error).message}`);
    assert.match((open as Error).message, /insufficient resources/);
    const popen = await within(Producer.open({ backend, syncPolicy: SyncPolicy.never() }).then(async (q) => { await q.destroy(); return null; }, (e: unknown) => e), 10_000, 'the producer open');
    assert.ok(popen !== null, 'the producer open failed');
    assert.is(coded(popen, 'the producer open'), 'ERR_DISK_FULL', `the lease refused for the full store: ${(popen as Error).message}`);
    const run = await within(early.nonblockingProcess(3, () => 'commit' as const).then(() => null, (e: unknown) => e), 10_000, 'the commit');
    assert.ok(run !== null, 'the commit failed');
    assert.is(coded(run, 'the commit'), 'ERR_DISK_FULL', `the commit refused for the full store: ${(run as Error).message}`);
  } finally {
    await early.destroy().catch(() => undefined);
  }
});

runOrSkip(test, 'jetstream server store full: opens and commits');
