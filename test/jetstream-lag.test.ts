/**
 * What lag() and producer.stats() mean on JetStream, checked against the stream's own state on a
 * nats-server this file starts: lag's bytes against the stream's stored bytes, its ms at a position
 * the pull has not delivered yet, its records from the stream's first record after a purge; the
 * producer's counters against what was appended and acknowledged, and its queue before the
 * publishes go out; inspectLog({ backend }) against the stream, the leases and the cursors. The shared cases (both backends) are in test/conformance-lag.test.ts. Skipped
 * with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, type StreamState } from '@nats-io/jetstream';
import { hostname } from 'node:os';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, inspectLog } from '../dist/index.js';
import { jetstream, type JetStreamBackendOptions } from '../dist/jetstream.js';
import { rejectsWith, suite, waitFor } from './kit.js';
import { closeAfter, startNats, stopAllNats, type NatsServer, runOrSkip } from './nats-kit.js';

const test = suite('jetstream lag and stats');
let server: NatsServer;
let n = 0;
const fresh = (extra: Partial<JetStreamBackendOptions> = {}) => jetstream({ servers: server.url, stream: `jl-${process.pid}-${++n}`, leaseMs: 5_000, ...extra });
const streamName = (logId: string): string => logId.slice('jetstream:'.length);

/** The stream's state as the server reports it; with `purgeKeep`, purges all but the newest that many first. */
async function stateOf(name: string, purgeKeep?: number): Promise<StreamState> {
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    if (purgeKeep !== undefined) await jsm.streams.purge(name, { keep: purgeKeep });
    return (await jsm.streams.info(name)).state;
  } finally {
    await nc.close();
  }
}

/** `count` records of 20 bytes, in two bursts a few ms apart; returns their timestamps. */
async function filled(backend: ReturnType<typeof fresh>, count: number): Promise<number[]> {
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  await closeAfter(p, async () => {
    for (let i = 0; i < count; i++) {
      if (i === count / 2) {
        await p.flush();
        const t0 = Date.now();
        await waitFor(() => Date.now() > t0 + 5, 'the clock to move');
      }
      p.append(`record ${String(i).padStart(13, '0')}`);
    }
  });
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const stamps: number[] = [];
  await closeAfter(c, () => c.nonblockingProcess(null, (m) => { stamps.push(m.timestamp); return 'commit'; }));
  return stamps;
}

test.before(async () => {
  server = await startNats();
});
test.after(stopAllNats);

test('lag(): bytes are the stream\'s stored bytes when all of it is behind, their share otherwise; ms at a position the pull has not delivered', async () => {
  const backend = fresh();
  const stamps = await filled(backend, 100);
  const state = await stateOf(streamName(backend.logId));
  const all = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  assert.equal(all.lag(), { records: 100, bytes: state.bytes, ms: stamps[99]! - stamps[0]! });
  await all.close();
  // Nothing pulled yet: the timestamp at the position is read from the stream at the open.
  const mid = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.position(70)) });
  assert.equal(mid.lag(), { records: 30, bytes: Math.round(state.bytes * 30 / 100), ms: stamps[99]! - stamps[70]! });
  await mid.close();
});

test('lag(): records count from the stream\'s first record once a purge passed the position; a cursor keeps its offset', async () => {
  const backend = fresh();
  await filled(backend, 100);
  const first = await Consumer.open({ backend, style: ConsumerStyle.clientTx('slow') });
  await first.nonblockingProcess(10, () => 'commit');
  await first.close();
  // Opened again, it holds no record yet: records buffered below the purge would still be handed
  // out, and counted (test/jetstream-lag-purge-buffered.test.ts).
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('slow') });
  assert.is(c.lag().records, 90);
  const state = await stateOf(streamName(backend.logId), 40);
  await waitFor(() => c.lag().records === 40, `lag to count from the stream's first record after the purge (${JSON.stringify(c.lag())})`);
  assert.is(c.lag().bytes, state.bytes, 'all that is left is behind');
  assert.is(c.committedOffset, 10);
  await c.close();
});

test('producer.stats(): records, bytes and publishes acknowledged, the queue before the publishes go out, latency; 0 for what the server keeps to itself', async () => {
  const p = await Producer.open({ backend: fresh({ maxQueueBytes: 1 << 20 }), syncPolicy: SyncPolicy.never() });
  try {
    const empty = p.stats();
    assert.equal([empty.records, empty.bytes, empty.frames, empty.inFlight, empty.queuedRecords, empty.resyncs, empty.ackMs.max], [0, 0, 0, 0, 0, 0, 0]);
    assert.is(empty.batchRecords.max, 0);
    for (let i = 0; i < 500; i++) p.append('x'.repeat(i % 10));
    // append queues; the publishes go out on the next microtask.
    const queued = p.stats();
    assert.is(queued.queuedRecords, 500);
    assert.is(queued.inFlight, 0);
    assert.is(queued.ringBytes, 500 * 64 + 50 * 45, 'each record\'s bytes and the queue\'s 64 bytes of bookkeeping');
    assert.is(queued.ringFill, queued.ringBytes / (1 << 20));
    await Promise.resolve();
    assert.ok(p.stats().inFlight > 0, 'published, awaiting acknowledgements');
    await p.flush();
    const s = p.stats();
    assert.equal(
      { records: s.records, bytes: s.bytes, frames: s.frames, acked: s.acknowledgedOffset, inFlight: s.inFlight, queued: s.queuedRecords, ring: s.ringBytes, resyncs: s.resyncs },
      { records: 500, bytes: 50 * 45, frames: 500, acked: 500, inFlight: 0, queued: 0, ring: 0, resyncs: 0 },
    );
    assert.is(s.acknowledgedOffset, p.durableOffset);
    assert.ok(s.ackMs.p50 > 0 && s.ackMs.p50 <= s.ackMs.p99 && s.ackMs.p99 <= s.ackMs.max && s.ackMs.mean <= s.ackMs.max, JSON.stringify(s.ackMs));
    assert.equal(s.batchRecords, { p50: 1, p99: 1, max: 1, mean: 1 });
    assert.equal([s.fsyncs, s.fsyncMs.max, s.rolls, s.segmentsDeleted, s.retentionBlockedMs], [0, 0, 0, 0, 0]);
  } finally {
    await p.close();
  }
  assert.is(p.stats().records, 500, 'readable after close');
});

test('inspectLog({ backend }): the stream\'s bounds and bytes, the producer\'s lease, each cursor with its lag and owner; a missing stream is ERR_INVALID_OPTION', async () => {
  const backend = fresh();
  const stamps = await filled(backend, 100);
  const a = await Consumer.open({ backend, style: ConsumerStyle.clientTx('a') });
  await a.nonblockingProcess(10, () => 'commit');
  await a.close();
  const g = await Consumer.open({ backend, style: ConsumerStyle.globalTx() });
  const p = await Producer.open({ backend });
  const state = await stateOf(streamName(backend.logId));
  const me = { pid: process.pid, host: hostname() };
  try {
    assert.equal(await inspectLog({ backend }), {
      logStartOffset: 0, nextOffset: 100, durableOffset: 100, totalBytes: state.bytes, segments: [], producer: me,
      cursors: [
        { id: 'a', style: 'clientTx', committedOffset: 10, lag: { records: 90, bytes: Math.round(state.bytes * 0.9), ms: stamps[99]! - stamps[10]! }, owner: null, pastEnd: false },
        { id: '@global', style: 'globalTx', committedOffset: 0, lag: g.lag(), owner: me, pastEnd: false },
      ],
    });
  } finally {
    await g.close();
    await p.close();
  }
  const after = await inspectLog({ backend });
  assert.equal([after.producer, after.cursors[1]!.owner], [null, null], 'leases released on close');
  const missing = fresh();
  await rejectsWith(inspectLog({ backend: missing }), 'ERR_INVALID_OPTION');
  const created = await stateOf(streamName(missing.logId)).then(() => true, (e: Error) => !/stream not found/i.test(e.message));
  assert.is(created, false, 'inspectLog created no stream');
  await rejectsWith(inspectLog({ backend: {} } as never), 'ERR_INVALID_OPTION');
});

runOrSkip(test, 'jetstream lag and stats');
