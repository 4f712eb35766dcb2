/**
 * inspectLog({ backend }) on a stream whose key-value buckets were never made: a log with a producer
 * and never a consumer (no cursors bucket) reports its producer's bounds and no cursors, and a stream
 * made outside the library (no bucket at all) reports no producer and no cursors; neither creates a
 * bucket. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Producer, inspectLog } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream inspect without buckets');
let server: NatsServer;
let n = 0;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

/** The names of the streams on the server. */
async function streamNames(): Promise<string[]> {
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) names.push(name);
    return names.sort();
  } finally { await nc.close(); }
}

test('a log with a producer and no consumer ever: no cursors', async () => {
  const stream = `rinb-${process.pid}-${++n}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 5_000, timeoutMs: 1_000 });
  const p = await Producer.open({ backend });
  p.append('x');
  p.append('y');
  await within(p.flush(), 10_000, 'flush');
  await p.close();
  const info = await within(inspectLog({ backend }), 10_000, 'inspectLog');
  assert.is(info.logStartOffset, 0);
  assert.is(info.nextOffset, 2);
  assert.is(info.producer, null, 'the closed producer holds no lease');
  assert.equal(info.cursors, []);
  assert.not.ok((await streamNames()).includes(`KV_rl-${stream}-cursors`), 'no cursors bucket was made');
});

test('a stream made outside the library: no producer, no cursors, no bucket made', async () => {
  const stream = `rinb-${process.pid}-${++n}`;
  const nc = await connect({ servers: server.url });
  try {
    await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [`rl.${stream}`] });
  } finally { await nc.close(); }
  const backend = jetstream({ servers: server.url, stream, leaseMs: 5_000, timeoutMs: 1_000 });
  const info = await within(inspectLog({ backend }), 10_000, 'inspectLog');
  assert.is(info.nextOffset, 0);
  assert.is(info.producer, null);
  assert.equal(info.cursors, []);
  const names = await streamNames();
  assert.not.ok(names.includes(`KV_rl-${stream}-leases`) || names.includes(`KV_rl-${stream}-cursors`), 'no bucket was made');
});

runOrSkip(test, 'jetstream inspect without buckets');
