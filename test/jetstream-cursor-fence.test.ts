/**
 * A JetStream cursor's owner changing hands (src/jetstream/cursor.ts, index.ts):
 * - an owner whose lease renewal found the lease taken commits nothing more (ERR_CURSOR_LOCKED): its
 *   write would pass the revision check while the new holder has not committed yet, and fence the
 *   holder off instead;
 * - a clientTx open that takes the lease after the last owner committed past the stream's end it read
 *   first opens at that cursor (it reads the bounds again once the cursor is its own), where it said
 *   ERR_LOG_CORRUPT.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstream as natsJetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream cursor fence');
/** The shortest lease: A's renewal (every leaseMs / 3) finds the takeover within a second (the other JetStream files use 5 s). */
const TAKEOVER_LEASE_MS = 1_000;
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

/** The consumer's cursor lease, internal: whether a renewal found it expired or taken. */
const leaseLost = (c: Consumer): boolean => (c as unknown as { feed: { cursor: { lease: { lost: Error | null } } } }).feed.cursor.lease.lost !== null;

test('an owner whose lease renewal found another holder commits nothing more; the holder goes on', async () => {
  const stream = `fence-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: TAKEOVER_LEASE_MS });
  const p = await Producer.open({ backend });
  for (let i = 0; i < 6; i++) p.append(`r${i}`);
  await p.close();
  const a = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c') });
  assert.is((await a.nonblockingProcess(1, () => 'commit')).committed, 1);
  // A's lease entry gone (as if it expired while A was paused), and B takes the lease.
  const nc = await connect({ servers: server.url });
  try {
    await (await new Kvm(natsJetstream(nc)).open(`rl-${stream}-leases`)).delete('cursor.client.c');
  } finally {
    await nc.close();
  }
  const b = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c') });
  await waitFor(() => leaseLost(a), 'A\'s renewal to find B\'s holding');
  const seen: number[] = [];
  await rejectsWith(a.nonblockingProcess(2, (m) => { seen.push(m.offset); return 'commit'; }), 'ERR_CURSOR_LOCKED');
  assert.equal(await b.nonblockingProcess(null, () => 'commit'), { committed: 5, skipped: 0, retried: 0, stoppedBy: 'end' }, 'B commits 1 to 5');
  assert.is(b.committedOffset, 6);
  await b.close();
  await a.destroy();
});

test('a clientTx open that gets the lease after its last owner committed past the end it read first opens at that cursor', async () => {
  const stream = `handover-${process.pid}`;
  const proxy = await proxyTo(server.port);
  try {
    const direct = jetstream({ servers: server.url, stream, leaseMs: 5_000 });
    const p = await Producer.open({ backend: direct });
    for (let i = 0; i < 3; i++) p.append(`r${i}`);
    await p.flush();
    // B's first lease create is lost: its open tries again after timeoutMs, having read the bounds (3).
    proxy.drop(`$KV.rl-${stream}-leases.cursor.client.c`, 1);
    const viaProxy = jetstream({ servers: proxy.url, stream, leaseMs: 5_000, timeoutMs: 2_000 });
    const opening = Consumer.open({ backend: viaProxy, style: ConsumerStyle.clientTx('c') });
    await waitFor(() => proxy.dropped() === 1, 'B\'s first lease create lost');
    for (let i = 3; i < 6; i++) p.append(`r${i}`);
    await p.close();
    const a = await Consumer.open({ backend: direct, style: ConsumerStyle.clientTx('c') });
    assert.is((await a.nonblockingProcess(null, () => 'commit')).committed, 6);
    await a.close();
    const b = await opening;
    assert.is(b.nextOffset, 6, 'B opens where A left the cursor');
    await b.close();
  } finally {
    await proxy.close();
  }
});

runOrSkip(test, 'jetstream cursor fence');
