/**
 * Producer.open on JetStream refuses options that only the server can judge (maxRecordBytes past the
 * server's max_payload, SyncPolicy.always() on a single-replica nats-server before 2.10, a { ms }
 * dedupWindow shorter than the duplicate window the stream will have, a leaseMs other than the max
 * age of an existing leases bucket) with ERR_INVALID_OPTION before it creates anything: no stream, no
 * leases bucket.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstream as jsClient, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream open checks');
let server: NatsServer;
let n = 0;

test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

/** The streams (buckets included) whose names hold `part`. */
async function streamsWith(part: string): Promise<string[]> {
  const nc = await connect({ servers: server.url });
  try {
    const names: string[] = [];
    for await (const s of (await jetstreamManager(nc)).streams.names()) if (s.includes(part)) names.push(s);
    return names.sort();
  } finally { await nc.close(); }
}

async function openCode(stream: string, extra: Record<string, unknown>, leaseMs = 1_000): Promise<string | undefined> {
  const backend = jetstream({ servers: server.url, stream, leaseMs, timeoutMs: 1_000 });
  try {
    await (await Producer.open({ backend, ...extra } as never)).close();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

for (const [label, extra] of [
  ['maxRecordBytes past max_payload', { maxRecordBytes: 4 * 1024 * 1024 }],
  ['SyncPolicy.always() on nats-server 2.9 with one replica', { syncPolicy: SyncPolicy.always() }],
  ['a { ms } dedupWindow shorter than the default duplicate window', { dedupWindow: { ms: 1_000 } }],
] as const) {
  test(`${label}: ERR_INVALID_OPTION, no stream or bucket created`, async () => {
    const stream = `rlchk-${process.pid}-${++n}`;
    const code = await openCode(stream, extra);
    // SyncPolicy.always() is refused only on a server before 2.10.
    if ('syncPolicy' in extra && code === undefined) return;
    assert.is(code, 'ERR_INVALID_OPTION');
    assert.equal(await streamsWith(stream), []);
  });
}

test('a { ms } dedupWindow of at least maxFileAge opens a new stream (its duplicate window is shortened to maxFileAge)', async () => {
  assert.is(await openCode(`rlchk-${process.pid}-${++n}`, { dedupWindow: { ms: 1_000 }, maxFileAge: 500 }), undefined);
});

test('a dedupWindow shorter than an existing stream\'s duplicate window creates no leases bucket', async () => {
  const stream = `rlchk-${process.pid}-${++n}`;
  assert.is(await openCode(stream, {}), undefined);
  const before = await streamsWith(stream);
  assert.is(await openCode(stream, { dedupWindow: { ms: 1_000 } }), 'ERR_INVALID_OPTION');
  assert.equal(await streamsWith(stream), before);
});

test('a leaseMs other than an existing leases bucket\'s max age: ERR_INVALID_OPTION, no stream created', async () => {
  const stream = `rlchk-${process.pid}-${++n}`;
  const nc = await connect({ servers: server.url });
  try {
    await new Kvm(jsClient(nc)).create(`rl-${stream}-leases`, { history: 1, ttl: 5_000 });
  } finally { await nc.close(); }
  assert.is(await openCode(stream, {}, 1_000), 'ERR_INVALID_OPTION');
  assert.equal(await streamsWith(stream), [`KV_rl-${stream}-leases`]);
  assert.is(await openCode(stream, {}, 5_000), undefined, 'the bucket\'s leaseMs opens');
});

runOrSkip(test, 'jetstream open checks');
