/**
 * Producer.open on JetStream refuses options that only the server can judge (maxRecordBytes past the
 * server's max_payload, SyncPolicy.always() on a single-replica nats-server before 2.10, a { ms }
 * dedupWindow shorter than the duplicate window the stream will have, a leaseMs other than the max
 * age of an existing leases bucket) with ERR_INVALID_OPTION before it creates anything: no stream, no
 * leases bucket. Consumer.open, in each style, likewise refuses its bad options (those checked without
 * the server, a leaseMs other than a leases bucket's max age, a Whence.position past the end of a
 * stream not created yet) with nothing created: no stream, no bucket, no JetStream consumer.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstream as jsClient, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
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

/** The version the server reports at connect. */
async function serverVersion(): Promise<string> {
  const nc = await connect({ servers: server.url });
  try {
    return nc.info!.version;
  } finally { await nc.close(); }
}

/** Whether the server is older than 2.10 (a single replica acknowledges before any fsync). */
async function serverBefore210(): Promise<boolean> {
  return /^(1\.|2\.[0-9]\.)/.test(await serverVersion());
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
    // SyncPolicy.always() is refused only on a server before 2.10: on a later one it opens.
    if ('syncPolicy' in extra && !(await serverBefore210())) {
      process.stdout.write(`# nats-server ${await serverVersion()} is 2.10 or later: SyncPolicy.always() is taken there, the refusal is not exercised\n`);
      assert.is(code, undefined, 'SyncPolicy.always() opens on a server of 2.10 or later');
      return;
    }
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

/** The code Consumer.open fails with (undefined when it opens; the consumer is then closed). */
async function consumerOpenCode(stream: string, options: Record<string, unknown>, leaseMs = 1_000): Promise<string | undefined> {
  const backend = jetstream({ servers: server.url, stream, leaseMs, timeoutMs: 1_000 });
  try {
    await (await Consumer.open({ backend, ...options } as never)).close();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

/** The JetStream consumers (durable or not) of every stream whose name holds `part`. */
async function consumersOf(part: string): Promise<string[]> {
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for (const s of await streamsWith(part)) for await (const c of jsm.consumers.list(s)) names.push(`${s}/${c.name}`);
    return names;
  } finally { await nc.close(); }
}

/** A leases bucket left from an earlier stream of the name, its max age 5 s. */
async function leftLeasesBucket(stream: string): Promise<void> {
  const nc = await connect({ servers: server.url });
  try {
    await new Kvm(jsClient(nc)).create(`rl-${stream}-leases`, { history: 1, ttl: 5_000 });
  } finally { await nc.close(); }
}

const STYLES = [
  ['clientTx', () => ConsumerStyle.clientTx('billing')],
  ['globalTx', () => ConsumerStyle.globalTx()],
  ['nonTx', () => ConsumerStyle.nonTx(Whence.oldest())],
] as const;

for (const [styleName, style] of STYLES) {
  for (const [label, options, code] of [
    ['an unknown option', { bogus: 1 }, 'ERR_INVALID_OPTION'],
    ['pollIntervalMs (local only)', { pollIntervalMs: 10 }, 'ERR_INVALID_OPTION'],
    ['commit.everyRecords 0', { commit: { everyRecords: 0 } }, 'ERR_INVALID_OPTION'],
    ['visibility', { visibility: 'sometimes' }, 'ERR_INVALID_OPTION'],
    ['onPositionExpired', { onPositionExpired: 'never' }, 'ERR_INVALID_OPTION'],
    ['retry.maxAttempts without retry.deadLetterDir', { retry: { maxAttempts: 2 } }, 'ERR_INVALID_OPTION'],
    ['an aborted signal', { signal: AbortSignal.abort() }, 'ERR_ABORTED'],
  ] as const) {
    test(`Consumer.open ${styleName}, ${label}: ${code}, no stream or bucket created`, async () => {
      const stream = `rlchk-${process.pid}-${++n}`;
      assert.is(await consumerOpenCode(stream, { style: style(), ...options }), code);
      assert.equal(await streamsWith(stream), []);
    });
  }
}

for (const [label, style] of [
  ['a clientTx id that cannot name a key-value entry', () => ConsumerStyle.clientTx('a..b')],
  ['a nonTx Whence that is not one', () => ConsumerStyle.nonTx({ kind: 'soon' } as never)],
] as const) {
  test(`Consumer.open, ${label}: refused, no stream or bucket created`, async () => {
    const stream = `rlchk-${process.pid}-${++n}`;
    assert.ok(await consumerOpenCode(stream, { style: style() }) !== undefined);
    assert.equal(await streamsWith(stream), []);
  });
}

for (const [styleName, style] of STYLES.slice(0, 2)) {
  test(`Consumer.open ${styleName}, a leaseMs other than a left leases bucket's max age: ERR_INVALID_OPTION, no stream created`, async () => {
    const stream = `rlchk-${process.pid}-${++n}`;
    await leftLeasesBucket(stream);
    assert.is(await consumerOpenCode(stream, { style: style() }, 1_000), 'ERR_INVALID_OPTION');
    assert.equal(await streamsWith(stream), [`KV_rl-${stream}-leases`]);
    assert.equal(await consumersOf(stream), []);
    assert.is(await consumerOpenCode(stream, { style: style() }, 5_000), undefined, 'the bucket\'s leaseMs opens');
    assert.equal(await streamsWith(stream), [`KV_rl-${stream}-cursors`, `KV_rl-${stream}-leases`, stream]);
  });

  test(`Consumer.open ${styleName}, a leaseMs other than an existing stream's leases bucket: ERR_INVALID_OPTION, no cursors bucket created`, async () => {
    const stream = `rlchk-${process.pid}-${++n}`;
    assert.is(await openCode(stream, {}, 5_000), undefined); // the stream and its leases bucket, max age 5 s
    const before = await streamsWith(stream);
    assert.is(await consumerOpenCode(stream, { style: style() }, 1_000), 'ERR_INVALID_OPTION');
    assert.equal(await streamsWith(stream), before);
    assert.equal(await consumersOf(stream), []);
  });
}

test('Consumer.open nonTx, a leaseMs other than a left leases bucket\'s: opens (a nonTx consumer takes no lease)', async () => {
  const stream = `rlchk-${process.pid}-${++n}`;
  await leftLeasesBucket(stream);
  assert.is(await consumerOpenCode(stream, { style: ConsumerStyle.nonTx(Whence.oldest()) }, 1_000), undefined);
});

test('Consumer.open nonTx, Whence.position past the end of a stream not created yet: ERR_INVALID_OPTION, no stream created', async () => {
  const stream = `rlchk-${process.pid}-${++n}`;
  assert.is(await consumerOpenCode(stream, { style: ConsumerStyle.nonTx(Whence.position(3)) }), 'ERR_INVALID_OPTION');
  assert.equal(await streamsWith(stream), []);
  assert.is(await consumerOpenCode(stream, { style: ConsumerStyle.nonTx(Whence.position(0)) }), undefined, 'the end of the new stream opens');
  assert.equal(await streamsWith(stream), [stream]);
});

test('Consumer.open nonTx, Whence.position past the end of an existing stream: ERR_INVALID_OPTION, no consumer left', async () => {
  const stream = `rlchk-${process.pid}-${++n}`;
  assert.is(await openCode(stream, {}), undefined);
  const before = await streamsWith(stream);
  assert.is(await consumerOpenCode(stream, { style: ConsumerStyle.nonTx(Whence.position(1)) }), 'ERR_INVALID_OPTION');
  assert.equal(await streamsWith(stream), before);
  assert.equal(await consumersOf(stream), []);
});

runOrSkip(test, 'jetstream open checks');
