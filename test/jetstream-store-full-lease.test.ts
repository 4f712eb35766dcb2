/**
 * An idle producer whose lease renewals the server refuses because its JetStream storage is full
 * ("insufficient resources"): once the lease expired on the server, the producer's next append stops
 * it with ERR_DISK_FULL naming the refusal, not ERR_LOG_LOCKED ("another producer may append now":
 * nobody took the lease, and nobody could append while the store is full). Before the fix it said
 * ERR_LOG_LOCKED. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstream as natsJetstream, jetstreamManager } from '@nats-io/jetstream';
import { Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { coded, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream server store full: the producer\'s lease');
let server: NatsServer;
test.before(async () => { server = await startNats(15_000, undefined, 'jetstream { max_file_store: 200000 }\n'); });
test.after(stopAllNats);

test('an idle producer whose renewals the full store refused stops with ERR_DISK_FULL once its lease expired', async () => {
  const stream = `jssfl-${process.pid}`;
  const leaseMs = 2_000;
  const p = await Producer.open({ backend: jetstream({ servers: server.url, stream, leaseMs, timeoutMs: 1_000 }), syncPolicy: SyncPolicy.never() });
  const nc = await connect({ servers: server.url });
  try {
    p.append('r0');
    await p.flush();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'filler', subjects: ['filler.>'] });
    const js = natsJetstream(nc);
    let refused = false;
    for (let i = 0; i < 1_000 && !refused; i++) {
      refused = await js.publish('filler.x', new Uint8Array(1000)).then(() => false, (e: Error) => /insufficient resources/i.test(e.message));
    }
    assert.ok(refused, 'the store is full');
    // The lease's entry expires leaseMs after the last renewal the server stored: the ones after are refused.
    const bucket = `KV_rl-${stream}-leases`;
    await waitFor(async () => (await jsm.streams.info(bucket)).state.messages === 0, 'the lease expired on the server', 5 * leaseMs);
    p.append('r1');
    const failure = await within(p.flush().then(() => null, (e: unknown) => e), 10_000, 'the flush');
    assert.ok(failure !== null, 'the producer stopped');
    assert.is(coded(failure, 'the flush'), 'ERR_DISK_FULL', `what happened is said: ${(failure as Error).message}`);
    assert.match((failure as Error).message, /insufficient resources/);
    assert.is(p.durableOffset, 1);
  } finally {
    await nc.close();
    await p.destroy().catch(() => undefined);
  }
});

runOrSkip(test, 'jetstream server store full: the producer\'s lease');
