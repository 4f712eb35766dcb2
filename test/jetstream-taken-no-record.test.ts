/**
 * A consumer whose cursor lease renewal found another holder (the lease taken over: the new owner's
 * open fenced its cursor off) hands out no record more: its next processing call rejects with
 * ERR_CURSOR_LOCKED before any handler runs. It ran the next record's handler first and failed only
 * at that record's commit, repeating the effect of a record that is the new owner's.
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

const test = suite('jetstream taken-over consumer runs no record');
/** The shortest lease: A's renewal (every leaseMs / 3) finds the takeover within a second (the other JetStream files use 5 s). */
const TAKEOVER_LEASE_MS = 1_000;
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

/** The consumer's cursor lease, internal: whether a renewal found it taken. */
const takenOver = (c: Consumer): boolean => (c as unknown as { feed: { cursor: { lease: { takenOver: boolean } } } }).feed.cursor.lease.takenOver;

test('a consumer whose lease renewal found another holder runs no handler on its next call', async () => {
  const stream = `taken-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: TAKEOVER_LEASE_MS });
  const p = await Producer.open({ backend });
  for (let i = 0; i < 6; i++) p.append(`r${i}`);
  await p.close();
  const a = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c') });
  assert.is((await a.nonblockingProcess(1, () => 'commit')).committed, 1);
  const nc = await connect({ servers: server.url });
  try {
    await (await new Kvm(natsJetstream(nc)).open(`rl-${stream}-leases`)).delete('cursor.client.c'); // expired, as while A was paused
  } finally {
    await nc.close();
  }
  const b = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c') });
  try {
    await waitFor(() => takenOver(a), 'A\'s renewal to find B\'s holding');
    const seen: number[] = [];
    await rejectsWith(a.nonblockingProcess(2, (m) => { seen.push(m.offset); return 'commit'; }), 'ERR_CURSOR_LOCKED');
    assert.equal(seen, [], 'A ran no record of B\'s');
    const it: number[] = [];
    await rejectsWith((async () => { for await (const m of a) { it.push(m.offset); break; } })(), 'ERR_CURSOR_LOCKED');
    assert.equal(it, [], 'A\'s iteration hands out no record');
    assert.equal(await b.nonblockingProcess(null, () => 'commit'), { committed: 5, skipped: 0, retried: 0, stoppedBy: 'end' }, 'B commits 1 to 5');
  } finally {
    await b.close();
    await a.destroy();
  }
});

runOrSkip(test, 'jetstream taken-over consumer runs no record');
