/**
 * A clientTx open on JetStream that creates its cursor's entry and is then refused (here: its signal
 * aborts) removes the entry again, as a refused local open removes the cursor file it created: the
 * entry stayed, and inspectLog listed a cursor that no consumer ever opened. Skipped with a printed
 * reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstream as natsJetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Consumer, ConsumerStyle, Producer, inspectLog } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream open abort new cursor');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

test('an open aborted after it created its cursor\'s entry leaves no cursor behind', async () => {
  const stream = `abort-new-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 3_000 });
  const p = await Producer.open({ backend });
  p.append('r0');
  await p.close();
  // The cursors bucket made by another cursor's open first: the open under test only takes its lease
  // and creates its entry. (A bucket made during the race, while this test polls it through a view
  // opened before it existed, timed the reads out now and then, the open's among them.)
  await (await Consumer.open({ backend, style: ConsumerStyle.clientTx('warm') })).close();
  const proxy = await proxyTo(server.port);
  const nc = await connect({ servers: server.url });
  try {
    const kv = await new Kvm(natsJetstream(nc)).open(`rl-${stream}-cursors`);
    proxy.delay(150); // each step of the open takes a round trip of 150 ms: the abort comes between two
    const ac = new AbortController();
    const opening = Consumer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs: 3_000 }), style: ConsumerStyle.clientTx('c'), signal: ac.signal });
    opening.catch(() => undefined);
    await waitFor(async () => (await kv.get('client.c').catch(() => null)) !== null, 'the open to create the cursor entry');
    ac.abort();
    await rejectsWith(within(opening, 10_000, 'the open'), 'ERR_ABORTED');
    const entry = await kv.get('client.c');
    assert.ok(entry === null || entry.operation !== 'PUT', `the entry the refused open created is left: ${entry?.string()}`);
    assert.equal((await inspectLog({ backend })).cursors.map((c) => c.id), ['warm'], 'inspectLog lists no cursor c');
    // The cursor opens as new afterwards, and its lease was let go.
    const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c') });
    try {
      assert.equal(await c.nonblockingProcess(null, () => 'commit'), { committed: 1, skipped: 0, retried: 0, stoppedBy: 'end' });
    } finally {
      await c.close();
    }
  } finally {
    await nc.close();
    await proxy.close();
  }
});

runOrSkip(test, 'jetstream open abort new cursor');
