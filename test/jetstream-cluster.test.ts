/**
 * Faults on a real cluster: three nats-server nodes on 127.0.0.1 (nats-cluster-kit.ts), the log's
 * stream and its buckets with 3 replicas, nodes SIGKILLed in the middle of appends and of consumer
 * runs, then restarted.
 * - The producer: the stream's leader killed, then a follower (no majority left), both restarted,
 *   then a follower of the stream and of its leases bucket alone (a majority left). Every record whose flush() resolved is in the stream,
 *   at its offset, once; the offsets are dense; a handle either goes on or fails with a coded
 *   LogError within its bounds (then a new producer opens once the cluster has recovered).
 * - A clientTx consumer committing its state (the next offset and a digest of what it handled) with
 *   its cursor per record, the stream's leader and then the cursor bucket's leader killed mid-run:
 *   it rides out both (its timeoutMs, 5 s, gives it 10 s per outage; one open, no failure), and
 *   every record is handled exactly once by committed state, none passed over.
 * - A blocking clientTx consumer tailing the log while the producer appends through a leader kill:
 *   it reaches the end (going on, or failing coded and re-opened), each record once.
 * globalTx keeps its cursor as clientTx does (one key-value entry): jetstream-cluster-pool.test.ts
 * runs it under a worker pool through the same faults.
 * Every wait is on a condition with a bound; a seed (SEED=...) picks the nodes killed among the
 * candidates and the moments of the kills, and is printed. Skipped with a printed reason without
 * nats-server.
 */
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { jetstream as natsJetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, type BackendProducer } from '../dist/index.js';
import { jetstream, type JetStreamBackendOptions } from '../dist/jetstream.js';
import { prng, suite } from './kit.js';
import {
  CALL_BOUND_MS, LEASE_MS, RECOVERY_MS, RIDE_TIMEOUT_MS, TIMEOUT_MS, reopen, rideVerdict, startCluster, stopAllClusters, type Cluster, type ClusterNode,
} from './nats-cluster-kit.js';
import { runOrSkip, within, coded } from './nats-kit.js';

const test = suite('jetstream cluster faults');
let cluster: Cluster;
const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
const rnd = prng(seed);
let n = 0;
const fresh = (): JetStreamBackendOptions => ({
  servers: cluster.urls, stream: `cl-${process.pid}-${++n}`, replicas: 3, timeoutMs: TIMEOUT_MS, leaseMs: LEASE_MS,
});



test.before(async () => {
  process.stdout.write(`# seed ${seed} (SEED=${seed} replays the choices)\n`);
  cluster = await startCluster();
});
test.after(stopAllClusters);
// Every case starts with the three nodes running, also after a case that failed with a node down.
test.before.each(async () => {
  for (const node of cluster.nodes) if (node.proc === null) await cluster.restart(node);
});

/**
 * Waits until the log's stream, its leases bucket and (with `cursors`: a transactional consumer has
 * used it) its cursors bucket each have a leader and 2 current replicas. Which exist is the test's to
 * say: while the cluster recovers, asking the server may time out, which must not pass for "there".
 */
async function waitRecovered(stream: string, cursors: boolean): Promise<void> {
  const names = [stream, `KV_rl-${stream}-leases`, ...(cursors ? [`KV_rl-${stream}-cursors`] : [])];
  for (const name of names) await cluster.waitHealthy(name, RECOVERY_MS);
}

/** Kills `node` and waits until `stream` has a leader on another node. */
async function killAndWaitLeader(stream: string, node: ClusterNode): Promise<ClusterNode> {
  await cluster.kill(node);
  return cluster.waitLeader(stream, RECOVERY_MS, node);
}

test('producer: SIGKILL the leader, then a follower (no majority), restart both, then a follower alone, mid-append; every flushed record stays, once, at its offset', async () => {
  const options = fresh();
  const backend = jetstream(options);
  /** What each producer appended at an offset (an offset may be appended again after a fault), and what flush() acknowledged. */
  const appended = new Map<number, string[]>();
  const acked = new Map<number, string>();
  const failures: string[] = [];
  let gen = 0;
  let p: BackendProducer | null = null;
  const openProducer = async (): Promise<void> => {
    p = await reopen(() => Producer.open({ backend, syncPolicy: SyncPolicy.never() }), TIMEOUT_MS, RECOVERY_MS + LEASE_MS, 'the producer');
    gen++;
  };
  /** Appends `count` records and flushes; on a fault, checks the error is coded and drops the producer. */
  const step = async (count: number, during?: () => Promise<void>): Promise<boolean> => {
    if (p === null) await openProducer();
    const producer = p!;
    const mine: Array<[number, string]> = [];
    try {
      for (let i = 0; i < count; i++) {
        const payload = `g${gen}-o${producer.nextOffset}-${Math.floor(rnd() * 1e9)}`;
        const offset = producer.append(payload);
        mine.push([offset, payload]);
        (appended.get(offset) ?? appended.set(offset, []).get(offset)!).push(payload);
      }
      const flushed = producer.flush();
      flushed.catch(() => undefined);
      if (during !== undefined) await during();
      await within(flushed, CALL_BOUND_MS, 'flush()');
      for (const [o, payload] of mine) acked.set(o, payload);
      return true;
    } catch (e) {
      failures.push(coded(e, 'append/flush'));
      await within(producer.destroy(), CALL_BOUND_MS, 'destroy()').catch((d: unknown) => coded(d, 'destroy()'));
      p = null;
      return false;
    }
  };
  const stepsUntil = async (more: number, what: string): Promise<void> => {
    const target = acked.size + more;
    const deadline = Date.now() + RECOVERY_MS + LEASE_MS;
    while (acked.size < target) {
      if (Date.now() > deadline) throw new Error(`no progress: ${acked.size} of ${target} records acknowledged ${what}`);
      await step(50 + Math.floor(rnd() * 100));
    }
  };

  try {
    const t0 = Date.now();
    await stepsUntil(500, 'before the faults');
    const stream = options.stream;
    // 1. The stream's leader, SIGKILLed while a batch is in flight.
    const leader = (await cluster.streamLeader(stream))!;
    assert.ok(leader !== null, 'the stream has a leader');
    let newLeader: ClusterNode | null = null;
    await step(200 + Math.floor(rnd() * 300), async () => { newLeader = await killAndWaitLeader(stream, leader); });
    process.stdout.write(`#   leader ${leader.name} killed; new leader ${newLeader!.name} (${Date.now() - t0} ms)\n`);
    await stepsUntil(500, `after leader ${leader.name} was killed`);
    // 2. A follower, SIGKILLed mid-append while the old leader is still down: no majority is left, so
    //    the producer cannot go on; it must fail with a coded error within its bounds.
    const followers = cluster.nodes.filter((x) => x.proc !== null && x !== newLeader);
    const follower = followers[Math.floor(rnd() * followers.length)]!;
    const wentOn = await step(200 + Math.floor(rnd() * 300), () => cluster.kill(follower));
    process.stdout.write(`#   follower ${follower.name} killed: the producer ${wentOn ? 'went on' : `failed with ${failures.at(-1)}`} (${Date.now() - t0} ms)\n`);
    if (p !== null) {
      // The batch before the kill may have been acknowledged: the next one has no majority to land on.
      const t1 = Date.now();
      assert.not.ok(await step(100), 'an append without a majority is not acknowledged');
      assert.ok(Date.now() - t1 < CALL_BOUND_MS, 'the producer failed within its bound');
    }
    // 3. Both nodes back: a new producer opens once the stream has a leader, and goes on.
    await cluster.restart(leader);
    await cluster.restart(follower);
    await waitRecovered(stream, false);
    process.stdout.write(`#   ${leader.name} and ${follower.name} restarted, stream healthy (${Date.now() - t0} ms)\n`);
    await stepsUntil(300, 'after the restarts');
    // 4. One follower SIGKILLed mid-append, a majority left: the producer goes on (a connection to
    //    that node is re-made to another, and the publishes in flight resync). A follower of both
    //    groups the producer writes to: killing the leases bucket's leader is a leader kill (the
    //    bucket's raft waits 4 to 9 s to elect another, past the lease's 2 x timeoutMs; step 1).
    const nowLeader = await cluster.waitLeader(stream, RECOVERY_MS);
    const leasesLeader = await cluster.waitLeader(`KV_rl-${stream}-leases`, RECOVERY_MS);
    const others = cluster.nodes.filter((x) => x !== nowLeader && x !== leasesLeader);
    const lone = others[Math.floor(rnd() * others.length)]!;
    const failed = failures.length;
    await step(200 + Math.floor(rnd() * 300), () => cluster.kill(lone));
    await stepsUntil(300, `with follower ${lone.name} down`);
    process.stdout.write(`#   follower ${lone.name} killed, a majority left: ${failures.length === failed ? 'the producer went on' : `the producer failed with ${failures.slice(failed).join(', ')} and a new one went on`} (${Date.now() - t0} ms)\n`);
    assert.equal(failures.slice(failed), [], 'with a majority left the producer goes on');
    await cluster.restart(lone);
    // Only appends follow, no more kills: the log's stream must be whole again. The leases bucket's
    // replica on the restarted node is not waited for (nats-server 2.9 has left such a replica behind
    // for over 40 s; the producer's lease needs the bucket's leader, which the appends show).
    await cluster.waitHealthy(stream, RECOVERY_MS);
    await stepsUntil(200, `after ${lone.name} came back`);
    await within((p as BackendProducer | null)?.close() ?? Promise.resolve(), CALL_BOUND_MS, 'close()');
    p = null;
    process.stdout.write(`#   ${acked.size} records acknowledged by ${gen} producers; failures: ${failures.join(', ') || 'none'} (${Date.now() - t0} ms)\n`);

    // Every record in the stream, read back: dense offsets, each one a record appended at that
    // offset, each acknowledged one exactly the acknowledged payload.
    // An open that finds the stream's info slow to come (a loaded machine after the restarts) fails with
    // a coded error after 2 x timeoutMs: opened again until RECOVERY_MS.
    const c = await reopen(() => Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) }), TIMEOUT_MS, RECOVERY_MS, 'the reader');
    const stored: string[] = [];
    try {
      await within(c.nonblockingProcess(null, (m) => {
        assert.is(m.offset, stored.length, 'offsets are dense');
        stored.push(Buffer.from(m.data).toString());
        return 'commit';
      }), RECOVERY_MS, 'reading the stream back');
    } finally {
      await c.close();
    }
    const si = await cluster.jsm.streams.info(stream);
    assert.is(si.state.messages, stored.length, 'the reader saw every message of the stream');
    assert.is(si.state.first_seq, 1, 'nothing was removed from the front');
    for (const [offset, payload] of acked) assert.is(stored[offset], payload, `acknowledged record ${offset} is stored as acknowledged`);
    stored.forEach((payload, offset) => {
      assert.ok(appended.get(offset)?.includes(payload), `record ${offset} (${payload}) was appended at that offset`);
    });
    assert.is(new Set(stored).size, stored.length, 'no record is stored twice');
  } finally {
    await (p as BackendProducer | null)?.destroy().catch(() => undefined);
  }
});

test('clientTx: SIGKILL the stream leader, then the cursor bucket\'s leader, mid-run; every record handled exactly once by committed state', async () => {
  const N = 2_000;
  const options = fresh();
  // The consumer rides out an election that lasts up to 2 x its timeoutMs: longer than the elections here.
  const backend = jetstream({ ...options, timeoutMs: RIDE_TIMEOUT_MS });
  const stream = options.stream;
  const producer = await Producer.open({ backend: jetstream(options) });
  const payloads: string[] = [];
  for (let i = 0; i < N; i++) {
    payloads.push(`r${i}-${Math.floor(rnd() * 1e9)}`);
    producer.append(payloads[i]!);
  }
  await producer.flush();
  await producer.close();
  const digest = (h: string, payload: string): string => createHash('sha1').update(h).update(payload).digest('hex');
  let expectedDigest = '';
  for (const payload of payloads) expectedDigest = digest(expectedDigest, payload);

  /** Faults at a seeded point of the run: the stream's leader, then (after it is back) the cursor bucket's leader. */
  const killAt = [Math.floor(N * (0.15 + rnd() * 0.15)), Math.floor(N * (0.5 + rnd() * 0.15))];
  let handled = 0;
  let faultsMade = 0;
  let fault: Promise<void> | null = null;
  const faults: string[] = [];
  const failures: string[] = [];
  const violations: string[] = [];
  let opens = 0;
  const t0 = Date.now();
  /** Per kill: how long until the cluster answered a consumer again (waitAnswering). */
  const outages: number[] = [];
  const bucketName = `KV_rl-${stream}-cursors`;
  const killMeasured = async (group: string, leader: ClusterNode): Promise<void> => {
    await cluster.kill(leader);
    const answering = cluster.waitAnswering([stream, bucketName], RECOVERY_MS);
    answering.catch(() => undefined);
    try {
      await cluster.waitLeader(group, RECOVERY_MS, leader);
      outages.push(await answering);
    } catch (e) {
      // nats-server 2.9 can leave a group without a leader for longer than RECOVERY_MS with a
      // majority alive ("has NO quorum, stalled" in its log): the killed node's restart, which comes
      // next, ends it. Such an outage is past any ride bound (rideVerdict): the consumer may fail
      // with ERR_IO there, and the exactly-once checks below hold either way.
      process.stdout.write(`#   no answer within ${RECOVERY_MS} ms after ${leader.name} was killed (${(e as Error).message}): the node is brought back\n`);
      outages.push(Number.POSITIVE_INFINITY);
    }
  };
  const injectFault = async (which: number): Promise<void> => {
    if (which === 0) {
      const leader = await cluster.streamLeader(stream);
      if (leader === null) throw new Error('the stream has no leader before the fault');
      await killMeasured(stream, leader);
      faults.push(`stream leader ${leader.name} killed (${Date.now() - t0} ms)`);
      await cluster.restart(leader);
      await waitRecovered(stream, true);
      faults.push(`${leader.name} back (${Date.now() - t0} ms)`);
    } else {
      const leader = await cluster.streamLeader(bucketName);
      if (leader === null) throw new Error('the cursor bucket has no leader before the fault');
      await killMeasured(bucketName, leader);
      faults.push(`cursor bucket leader ${leader.name} killed (${Date.now() - t0} ms)`);
      await cluster.restart(leader);
      await waitRecovered(stream, true);
      faults.push(`${leader.name} back (${Date.now() - t0} ms)`);
    }
  };

  let done = false;
  const deadline = Date.now() + 4 * RECOVERY_MS;
  while (!done) {
    if (Date.now() > deadline) throw new Error(`the consumer did not finish: handled ${handled}; faults: ${faults.join('; ')}; failures: ${failures.join(', ')}`);
    const c = await reopen(() => Consumer.open({ backend, style: ConsumerStyle.clientTx('fx'), commit: { everyRecords: 1 } }), RIDE_TIMEOUT_MS, RECOVERY_MS + LEASE_MS, 'the consumer');
    opens++;
    try {
      await within(c.nonblockingProcess(null, async (m, ctx) => {
        const state = ctx.state === null ? { next: 0, h: '' } : JSON.parse(Buffer.from(ctx.state).toString()) as { next: number; h: string };
        if (m.offset !== state.next) violations.push(`record ${m.offset} handed out with committed state at ${state.next}`);
        ctx.setState(JSON.stringify({ next: m.offset + 1, h: digest(state.h, Buffer.from(m.data).toString()) }));
        handled++;
        if (faultsMade < killAt.length && handled >= killAt[faultsMade]!) {
          // The next fault starts once the one before is over (the killed node back, the stream healthy).
          if (fault !== null) await fault;
          fault = injectFault(faultsMade++);
          fault.catch(() => undefined); // awaited below; a failed fault fails the test there
        }
        return 'commit' as const;
      }), CALL_BOUND_MS + RECOVERY_MS + N * 50, 'nonblockingProcess'); // the run, a fault's recovery, and the bound of a call that fails
      // close() commits: during a fault's outage that rides as a commit does (2 x its timeoutMs).
      await within(c.close(), CALL_BOUND_MS + 2 * RIDE_TIMEOUT_MS, 'close()');
      // Ran to the end: done once every fault was made and is over, and the cursor committed the last record.
      if (fault !== null) await fault;
      done = faultsMade === killAt.length;
      if (!done) throw new Error('the run ended before its faults');
    } catch (e) {
      failures.push(coded(e, 'the clientTx run'));
      await within(c.close(), CALL_BOUND_MS + 2 * RIDE_TIMEOUT_MS, 'close() after a failure').catch((d: unknown) => coded(d, 'close() after a failure'));
    }
  }
  process.stdout.write(`#   ${faults.join('; ')}\n#   ${handled} handler calls, ${opens} opens; failures: ${failures.join(', ') || 'none'} (${Date.now() - t0} ms)\n`);
  rideVerdict(outages, failures, RIDE_TIMEOUT_MS, 'the consumer rides out both leader kills (one open, no failure)');

  const check = await Consumer.open({ backend, style: ConsumerStyle.clientTx('fx') });
  try {
    const state = JSON.parse(Buffer.from(check.state ?? new Uint8Array()).toString()) as { next: number; h: string };
    assert.equal(violations, [], 'every record is handed out once its predecessor is committed, never before, never again');
    assert.is(state.next, N, 'the committed state counts every record');
    assert.is(state.h, expectedDigest, 'the committed digest covers every record once, in order');
    assert.is((await check.nonblockingProcess(null, () => 'commit')).committed, 0, 'nothing is left');
  } finally {
    await check.close();
  }
});

test('a blocking clientTx consumer tailing the log through a leader kill: it goes on or fails coded, and reaches the end once', async () => {
  const options = fresh();
  const backend = jetstream(options);
  const stream = options.stream;
  const digest = (h: string, payload: string): string => createHash('sha1').update(h).update(payload).digest('hex');
  const violations: string[] = [];
  const failures: string[] = [];
  let committedNext = 0;
  let stopping = false;
  let current: Consumer | null = null;
  // The consumer: blockingProcess until close(); on a coded failure, re-opened.
  const consuming = (async () => {
    while (!stopping) {
      const c = await reopen(() => Consumer.open({ backend, style: ConsumerStyle.clientTx('tail'), commit: { everyRecords: 1 } }), TIMEOUT_MS, RECOVERY_MS + LEASE_MS, 'the tailing consumer');
      current = c;
      try {
        await c.blockingProcess(null, (m, ctx) => {
          const state = ctx.state === null ? { next: 0, h: '' } : JSON.parse(Buffer.from(ctx.state).toString()) as { next: number; h: string };
          if (m.offset !== state.next) violations.push(`record ${m.offset} handed out with committed state at ${state.next}`);
          ctx.setState(JSON.stringify({ next: m.offset + 1, h: digest(state.h, Buffer.from(m.data).toString()) }));
          return 'commit';
        });
      } catch (e) {
        failures.push(coded(e, 'the blocking run'));
      } finally {
        current = null;
        await within(c.close(), CALL_BOUND_MS, 'close()').catch((d: unknown) => coded(d, 'close()'));
      }
      committedNext = c.state === null ? committedNext : (JSON.parse(Buffer.from(c.state).toString()) as { next: number }).next;
    }
  })();
  consuming.catch(() => undefined);
  let p: BackendProducer | null = null;
  let gen = 0;
  const append = async (count: number): Promise<void> => {
    p ??= await reopen(() => Producer.open({ backend, syncPolicy: SyncPolicy.never() }), TIMEOUT_MS, RECOVERY_MS + LEASE_MS, 'the producer');
    gen++;
    try {
      for (let i = 0; i < count; i++) p.append(`g${gen}-${i}-${Math.floor(rnd() * 1e9)}`);
      await within(p.flush(), CALL_BOUND_MS, 'flush()');
    } catch (e) {
      failures.push(coded(e, 'append/flush'));
      await within(p.destroy(), CALL_BOUND_MS, 'destroy()').catch((d: unknown) => coded(d, 'destroy()'));
      p = null;
    }
  };
  try {
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) await append(50);
    const leader = (await cluster.streamLeader(stream))!;
    assert.ok(leader !== null, 'the stream has a leader');
    await cluster.kill(leader);
    for (let i = 0; i < 10; i++) await append(50);
    await cluster.waitLeader(stream, RECOVERY_MS, leader);
    await cluster.restart(leader);
    await waitRecovered(stream, true);
    for (let i = 0; i < 10; i++) await append(50);
    await within((p as BackendProducer | null)?.close() ?? Promise.resolve(), CALL_BOUND_MS, 'close()');
    p = null;
    const end = (await cluster.jsm.streams.info(stream)).state.last_seq;
    // The consumer reaches the end: going on, or failing coded and re-opened; stalled is a failure.
    const cursors = await new Kvm(natsJetstream(cluster.nc)).open(`rl-${stream}-cursors`);
    const deadline = Date.now() + RECOVERY_MS;
    for (;;) {
      const entry = await cursors.get('client.tail');
      const next = entry === null ? -1 : (JSON.parse(entry.string()) as { offset: number }).offset;
      if (next === end) break;
      if (Date.now() > deadline) throw new Error(`the tailing consumer stalled at ${next} of ${end} (failures: ${failures.join(', ') || 'none'})`);
      await new Promise((r) => setTimeout(r, 100)); // the poll's pace; the bound is the deadline
    }
    stopping = true;
    await within((current as Consumer | null)?.close() ?? Promise.resolve(), CALL_BOUND_MS, 'close()');
    await within(consuming, CALL_BOUND_MS, 'the consumer loop');
    process.stdout.write(`#   tail: leader ${leader.name} killed; ${end} records, consumer at ${committedNext}; failures: ${failures.join(', ') || 'none'} (${Date.now() - t0} ms)\n`);
    assert.equal(violations, [], 'every record is handed out once its predecessor is committed, never before, never again');
    assert.is(committedNext, end, 'the committed state counts every record');
  } finally {
    stopping = true;
    await (current as Consumer | null)?.close().catch(() => undefined);
    await (p as BackendProducer | null)?.destroy().catch(() => undefined);
  }
});

runOrSkip(test, 'jetstream cluster faults');
