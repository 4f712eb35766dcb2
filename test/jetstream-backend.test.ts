/**
 * What only the JetStream backend does, on a real nats-server this file starts: what it refuses
 * (clearly, at open or at the call), what it says at open (the server version, the sync policy),
 * the fences against a stale producer and a stale cursor owner, the producer's bounded queue, and a
 * server that goes away (coded errors within the bounds, never a hang). Skipped with a printed
 * reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream as natsJetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, decodeDeadLetter, type BackendProducer } from '../dist/index.js';
import { jetstream, type JetStreamBackendOptions } from '../dist/jetstream.js';
import { rejectsWith, suite, tempDir, throwsWith, waitFor } from './kit.js';
import { startNats, stopAllNats, textsOf, type NatsServer, runOrSkip } from './nats-kit.js';

const test = suite('jetstream backend');
let server: NatsServer;
let n = 0;
const fresh = (extra: Partial<JetStreamBackendOptions> = {}) => jetstream({ servers: server.url, stream: `js-${process.pid}-${++n}`, leaseMs: 5_000, ...extra });

/** Deletes a lease entry, as if its holder had stopped renewing it and it expired. */
async function expireLease(stream: string, key: string): Promise<void> {
  const nc = await connect({ servers: server.url });
  try {
    const kv = await new Kvm(natsJetstream(nc)).open(`rl-${stream}-leases`);
    await kv.delete(key);
  } finally {
    await nc.close();
  }
}

test.before(async () => {
  server = await startNats();
});
test.after(stopAllNats);

test('jetstream() checks its options', () => {
  throwsWith(() => jetstream({} as JetStreamBackendOptions), 'ERR_INVALID_OPTION');
  throwsWith(() => jetstream({ servers: 'nats://x', stream: 'a b' }), 'ERR_INVALID_OPTION');
  throwsWith(() => jetstream({ servers: 'nats://x', stream: 's', replicas: 2 as 1 }), 'ERR_INVALID_OPTION');
  throwsWith(() => jetstream({ servers: 'nats://x', stream: 's', subject: 'a.*' }), 'ERR_INVALID_OPTION');
  throwsWith(() => jetstream({ servers: 'nats://x', stream: 's', bogus: 1 } as JetStreamBackendOptions), 'ERR_INVALID_OPTION');
});

test('what it does not support yet fails at open or at the call with ERR_INVALID_OPTION', async () => {
  const backend = fresh();
  for (const bad of [{ blockingMinimumRetention: 1000 }, { fileRollSize: 1 << 20 }, { ringBytes: 1 << 20 }]) {
    await rejectsWith(Producer.open({ backend, ...bad } as never), 'ERR_INVALID_OPTION');
  }
  await rejectsWith(Producer.open({ backend, logDir: tempDir() } as never), 'ERR_INVALID_OPTION');
  await rejectsWith(Consumer.open({ backend, logDir: tempDir(), style: ConsumerStyle.nonTx(Whence.oldest()) } as never), 'ERR_INVALID_OPTION');
  await rejectsWith(Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()), pollIntervalMs: 10 }), 'ERR_INVALID_OPTION');
  await rejectsWith(Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()), retry: { maxAttempts: 3 } }), 'ERR_INVALID_OPTION');
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('x') });
  try {
    throwsWith(() => c.iter().next(), 'ERR_INVALID_OPTION');
  } finally {
    await c.close();
  }
});

test('the server version is read at connect: below 2.10 a warning (RL_JETSTREAM_OLD_SERVER), and always() with one replica is refused', async () => {
  const nc = await connect({ servers: server.url });
  const version = nc.info!.version;
  await nc.close();
  const old = /^(1\.|2\.[0-9]\.)/.test(version);
  if (!old) {
    process.stdout.write(`# nats-server ${version} is 2.10 or later: the below-2.10 checks are not exercised here\n`);
    return;
  }
  const seen: Array<{ code?: string }> = [];
  const onWarning = (w: Error & { code?: string }): void => { seen.push(w); };
  process.on('warning', onWarning);
  try {
    // The warning is given once per process and server version: it may have been given by the test before.
    const p = await Producer.open({ backend: fresh(), syncPolicy: SyncPolicy.periodic(100) });
    await p.close();
    await rejectsWith(Producer.open({ backend: fresh(), syncPolicy: SyncPolicy.always() }), 'ERR_INVALID_OPTION');
    await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
  } finally {
    process.off('warning', onWarning);
  }
  assert.ok(seen.some((w) => w.code === 'RL_JETSTREAM_SYNC'), 'the sync policy warning');
});

/**
 * A stale producer A and the producer B that took over: A appended `a0`, then its lease was deleted
 * (as if it expired) and B opened. A's lease is long, so A does not notice its loss by itself.
 */
async function staleAndNew(): Promise<{ backend: ReturnType<typeof jetstream>; a: BackendProducer; b: BackendProducer }> {
  const stream = `js-${process.pid}-${++n}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 60_000 });
  const a = await Producer.open({ backend });
  try {
    a.append('a0');
    await a.flush();
    await expireLease(stream, 'producer');
    return { backend, a, b: await Producer.open({ backend }) };
  } catch (e) {
    await a.destroy().catch(() => undefined); // its connection would keep the process running
    throw e;
  }
}

test('a stale producer (its lease gone, another producer appending) is fenced off with ERR_LOG_LOCKED', async () => {
  const { backend, a, b } = await staleAndNew();
  try {
    assert.is(b.append('b1'), 1);
    await b.flush();
    a.append('a-stale');
    const e = await rejectsWith(a.flush(), 'ERR_LOG_LOCKED');
    assert.match(e.message, /another producer/);
    throwsWith(() => a.append('again'), 'ERR_LOG_LOCKED');
    assert.is(b.append('b2'), 2);
    await b.flush();
  } finally {
    await a.destroy();
    await b.close();
  }
  assert.equal(await textsOf(backend), ['a0', 'b1', 'b2']);
});

test('a stale producer\'s record that lands first is never taken for the new producer\'s: the new one stops with ERR_LOG_LOCKED', async () => {
  const { backend, a, b } = await staleAndNew();
  try {
    a.append('a-stale'); // lands at offset 1: its fence (the last sequence B also read) still holds
    await a.flush();
    assert.is(b.append('b1'), 1);
    await rejectsWith(b.flush(), 'ERR_LOG_LOCKED');
  } finally {
    await a.destroy();
    await b.destroy();
  }
  assert.equal(await textsOf(backend), ['a0', 'a-stale'], 'b1 is not in the stream, and B never said it was');
});

test('a stale cursor owner (its lease gone, another owner committed) fails its next commit with ERR_CURSOR_LOCKED', async () => {
  const stream = `js-${process.pid}-${++n}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 60_000 });
  const p = await Producer.open({ backend });
  for (let i = 0; i < 4; i++) p.append(`r${i}`);
  await p.flush();
  await p.close();
  const a = await Consumer.open({ backend, style: ConsumerStyle.clientTx('shared') });
  const b = await (async () => {
    assert.is((await a.nonblockingProcess(1, () => 'commit')).committed, 1);
    await expireLease(stream, 'cursor.client.shared');
    return Consumer.open({ backend, style: ConsumerStyle.clientTx('shared') });
  })();
  try {
    assert.is(b.committedOffset, 1);
    await b.nonblockingProcess(1, () => 'commit');
    await rejectsWith(a.nonblockingProcess(1, () => 'commit'), 'ERR_CURSOR_LOCKED');
    assert.is((await b.nonblockingProcess(null, () => 'commit')).committed, 2, 'the new owner goes on from its own commits');
  } finally {
    await a.destroy();
    await b.close();
  }
});

test('producer methods not supported yet throw ERR_INVALID_OPTION', async () => {
  const p = await Producer.open({ backend: fresh() });
  try {
    for (const m of ['appendBatch', 'share']) throwsWith(() => (p as unknown as Record<string, () => unknown>)[m]!(), 'ERR_INVALID_OPTION');
  } finally {
    await p.close();
  }
});

test('dead letters go to a local log (retry.deadLetterDir)', async () => {
  const backend = fresh();
  const p = await Producer.open({ backend });
  p.append('poison');
  p.append('fine');
  await p.flush();
  await p.close();
  const deadLetterDir = tempDir();
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('dl'), retry: { maxAttempts: 2, deadLetterDir } });
  try {
    const s = await c.nonblockingProcess(null, (m) => (Buffer.from(m.data).toString() === 'poison' ? 'retry' : 'commit'));
    assert.equal(s, { committed: 1, skipped: 1, retried: 2, stoppedBy: 'end' });
  } finally {
    await c.close();
  }
  const d = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const letters = [...d.iter()].map((m) => decodeDeadLetter(m.data));
    assert.is(letters.length, 1);
    assert.is(letters[0]!.offset, 0);
    assert.is(letters[0]!.attempts, 2);
    assert.is(letters[0]!.logId, backend.logId);
    assert.is(Buffer.from(letters[0]!.data).toString(), 'poison');
  } finally {
    await d.close();
  }
});

test('memory is bounded: past maxQueueBytes append throws ERR_LOG_FULL; writable() waits for room', async () => {
  const p = await Producer.open({ backend: fresh({ maxQueueBytes: 64 * 1024 }) });
  try {
    const rec = new Uint8Array(4096);
    let full = false;
    let appended = 0;
    for (let i = 0; i < 1000 && !full; i++) {
      try {
        p.append(rec);
        appended++;
      } catch (e) {
        assert.is((e as { code?: string }).code, 'ERR_LOG_FULL');
        full = true;
      }
    }
    assert.ok(full, 'the queue filled');
    assert.ok(appended <= 16, `at most 64 KiB queued (${appended} records of 4 KiB)`);
    await p.writable({ bytes: 4096 });
    p.append(rec);
    await p.flush();
    assert.is(p.durableOffset, appended + 1);
  } finally {
    await p.close();
  }
});

test('the server goes away: flush() rejects with a coded error within timeoutMs, and a blocked consumer ends on close()', async () => {
  const own = await startNats();
  const backend = jetstream({ servers: own.url, stream: 'away', leaseMs: 5_000, timeoutMs: 1_000 });
  const p = await Producer.open({ backend });
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  p.append('before');
  await p.flush();
  const got: string[] = [];
  const blocked = c.blockingProcess(null, (m) => { got.push(Buffer.from(m.data).toString()); return 'commit'; });
  await waitFor(() => got.length === 1, 'the first record');
  own.proc.kill('SIGKILL');
  await new Promise<void>((resolve) => own.proc.once('exit', () => resolve()));
  // Closed before its own bound (2 x timeoutMs without progress: test/jetstream-consumer-ride) ends it.
  await c.close();
  assert.is((await blocked).stoppedBy, 'end');
  const t0 = Date.now();
  p.append('after');
  const e = await rejectsWith(p.flush(), 'ERR_IO');
  assert.ok(Date.now() - t0 < 5_000, `flush failed within its bound (${Date.now() - t0} ms): ${e.message}`);
  await p.destroy();
  await own.stop();
});

test('the server restarts mid-append: the producer resyncs and goes on; every record stored once, at its offset', async () => {
  const own = await startNats();
  const backend = jetstream({ servers: own.url, stream: 'restart', leaseMs: 30_000, timeoutMs: 3_000 });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  const payloads: string[] = [];
  let again: NatsServer | null = null;
  try {
    for (let i = 0; i < 200; i++) payloads.push(`r${p.append(`r${i}`)}`);
    await p.flush();
    // Records in flight when the server is killed: stored or not, the producer cannot tell.
    for (let i = 200; i < 3000; i++) payloads.push(`r${p.append(`r${i}`)}`);
    own.proc.kill('SIGKILL');
    await new Promise<void>((resolve) => own.proc.once('exit', () => resolve()));
    again = await startNats(15_000, own);
    for (let i = 3000; i < 3200; i++) payloads.push(`r${p.append(`r${i}`)}`);
    await p.flush();
    assert.is(p.durableOffset, 3200);
    assert.ok(p.stats().resyncs >= 1 && p.stats().records === 3200 && p.stats().frames >= 3200, `stats() counts the resync: ${JSON.stringify(p.stats())}`);
    await p.close();
  } finally {
    await p.destroy();
  }
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const stored: string[] = [];
  try {
    await c.nonblockingProcess(null, (m) => { stored.push(`r${m.offset}`); assert.is(Buffer.from(m.data).toString(), `r${m.offset}`); return 'commit'; });
  } finally {
    await c.close();
    await again?.stop();
  }
  assert.equal(stored, payloads, 'each record once, at the offset append returned');
});

/** The stream's limits and state, as the server reports them. */
async function streamOf(name: string): Promise<{ maxBytes: number; maxAge: number; dupWindow: number; messages: number; bytes: number; firstSeq: number }> {
  const nc = await connect({ servers: server.url });
  try {
    const { config, state } = await (await jetstreamManager(nc)).streams.info(name);
    return { maxBytes: config.max_bytes, maxAge: config.max_age, dupWindow: config.duplicate_window ?? 0, messages: state.messages, bytes: state.bytes, firstSeq: state.first_seq };
  } finally {
    await nc.close();
  }
}

test('maxTotalBytes and maxFileAge set the stream\'s max_bytes and max_age; the oldest records go; null lifts them', async () => {
  const backend = fresh();
  const name = backend.logId.slice('jetstream:'.length);
  const record = new Uint8Array(1024).fill(1);
  const p = await Producer.open({ backend, maxTotalBytes: 64 * 1024 });
  try {
    // Refused at once, changing nothing: a limit below 1 KiB, and a second producer (the lease) with other limits.
    const bad = fresh();
    await rejectsWith(Producer.open({ backend: bad, maxTotalBytes: 10 }), 'ERR_INVALID_OPTION');
    const created = await streamOf(bad.logId.slice('jetstream:'.length)).then(() => true, (e: Error) => !/stream not found/i.test(e.message));
    assert.is(created, false, 'bad input creates no stream');
    await rejectsWith(Producer.open({ backend, maxTotalBytes: 1 << 30 }), 'ERR_LOG_LOCKED');
    for (let i = 0; i < 300; i++) p.append(record);
    await p.flush();
  } finally {
    await p.close();
  }
  let s = await streamOf(name);
  assert.is(s.maxBytes, 64 * 1024);
  assert.ok(s.bytes <= 64 * 1024 && s.firstSeq > 1 && s.messages < 300, `the oldest records are removed (${JSON.stringify(s)})`);
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const offsets: number[] = [];
  try {
    await c.nonblockingProcess(null, (m) => { offsets.push(m.offset); return 'commit'; });
  } finally {
    await c.close();
  }
  assert.equal(offsets, Array.from({ length: s.messages }, (_, i) => s.firstSeq - 1 + i), 'a consumer from the oldest reads what is left, dense, to the end');

  const aged = await Producer.open({ backend, maxFileAge: 1_000 });
  await aged.close();
  s = await streamOf(name);
  assert.is(s.maxAge, 1_000 * 1e6);
  assert.ok(s.dupWindow <= s.maxAge, 'the duplicate window is no longer than max_age');
  await waitFor(async () => (await streamOf(name)).messages === 0, 'the server to remove records older than maxFileAge', 20_000);

  const lifted = await Producer.open({ backend, maxTotalBytes: null, maxFileAge: null });
  await lifted.close();
  s = await streamOf(name);
  assert.is(s.maxBytes, -1);
  assert.is(s.maxAge, 0);
  // A producer that names no limit leaves the stream's as they are.
  const plain = await Producer.open({ backend });
  await plain.close();
  assert.is((await streamOf(name)).maxBytes, -1);
  // Refused for its dedup window (shorter than the stream's duplicate window): the limits stay as they are.
  await rejectsWith(Producer.open({ backend, maxTotalBytes: 1 << 20, dedupWindow: { ms: 100 } }), 'ERR_INVALID_OPTION');
  assert.is((await streamOf(name)).maxBytes, -1);
});

test('a record\'s key and headers are read whatever else its header block holds (the consumer skips decoding a block of the library\'s own headers only)', async () => {
  const stream = `js-${process.pid}-${++n}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 5_000 });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  p.append(Buffer.from('a'));
  p.append(Buffer.from('b'), { key: 'k1', headers: { Foo: 'bar' } });
  await p.flush();
  await p.close();
  // A raw client adds records the way another writer could: each header set below, in order.
  const sets: Array<Record<string, string> | null> = [
    null, { 'Rl-Writer': 'w', 'Nats-Msg-Id': 'm1' }, { 'Rl-Writer': 'w', 'Rl-Key': Buffer.from('k2').toString('base64') },
    { 'Nats-Msg-Id': 'm2', X: '1' }, { 'rl-key': 'AAE=' }, { 'Rl-Keyz': 'q' }, { 'NATS-MSG-ID': 'm3', 'rl-writer': 'v' },
  ];
  const nc = await connect({ servers: server.url });
  try {
    const js = natsJetstream(nc);
    for (const set of sets) {
      const h = set === null ? undefined : natsHeaders();
      for (const name of Object.keys(set ?? {})) h!.set(name, set![name]!);
      await js.publish(`rl.${stream}`, Buffer.from('r'), h === undefined ? undefined : { headers: h });
    }
  } finally {
    await nc.close();
  }
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('raw') });
  const got: Array<{ key: string | null; headers: Record<string, string> | null }> = [];
  await c.nonblockingProcess(null, (m) => {
    got.push({ key: m.key === null ? null : Buffer.from(m.key).toString(), headers: m.headers });
    return 'commit';
  });
  await c.close();
  assert.equal(got, [
    { key: null, headers: null }, { key: 'k1', headers: { Foo: 'bar' } },
    { key: null, headers: null }, { key: null, headers: null }, { key: 'k2', headers: null },
    { key: null, headers: { X: '1' } }, { key: null, headers: null }, { key: null, headers: null }, { key: null, headers: null },
  ]);
});

runOrSkip(test, 'jetstream backend');
