/**
 * Faults on a real cluster, the consumers: three nats-server nodes on 127.0.0.1
 * (nats-cluster-kit.ts), the log's stream and its buckets with 3 replicas, nodes SIGKILLed in the
 * middle of consumer runs, then restarted.
 * - A clientTx consumer committing its state (the next offset and a digest of what it handled) with
 *   its cursor per record, the stream's leader and then the cursor bucket's leader killed mid-run:
 *   it rides out both (its timeoutMs, 10 s, gives it 20 s per outage; one open, no failure), and
 *   every record is handled exactly once by committed state, none passed over.
 * - A blocking clientTx consumer tailing the log while the producer appends through a leader kill:
 *   it reaches the end (going on, or failing coded and re-opened), each record once.
 * globalTx keeps its cursor as clientTx does (one key-value entry): jetstream-cluster-pool.test.ts
 * runs it under a worker pool through the same faults; jetstream-cluster.test.ts faults the producer.
 * Every wait is on a condition with a bound; a seed (SEED=...) picks the nodes killed among the
 * candidates and the moments of the kills, and is printed. Skipped with a printed reason without
 * nats-server.
 */
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { jetstream as natsJetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, type BackendProducer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import {
  CALL_BOUND_MS, LEASE_MS, RECOVERY_MS, RIDE_TIMEOUT_MS, TIMEOUT_MS, clusterSuite, reopen, rideVerdict, waitRecovered, type ClusterNode,
} from './nats-cluster-kit.js';
import { runOrSkip, within, coded } from './nats-kit.js';

const { test, rnd, cluster, fresh } = clusterSuite('jetstream cluster faults: the consumers');

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
    await cluster().kill(leader);
    const answering = cluster().waitAnswering([stream, bucketName], RECOVERY_MS);
    answering.catch(() => undefined);
    try {
      await cluster().waitLeader(group, RECOVERY_MS, leader);
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
      const leader = await cluster().streamLeader(stream);
      if (leader === null) throw new Error('the stream has no leader before the fault');
      await killMeasured(stream, leader);
      faults.push(`stream leader ${leader.name} killed (${Date.now() - t0} ms)`);
      await cluster().restart(leader);
      await waitRecovered(cluster(), stream, true);
      faults.push(`${leader.name} back (${Date.now() - t0} ms)`);
    } else {
      const leader = await cluster().streamLeader(bucketName);
      if (leader === null) throw new Error('the cursor bucket has no leader before the fault');
      await killMeasured(bucketName, leader);
      faults.push(`cursor bucket leader ${leader.name} killed (${Date.now() - t0} ms)`);
      await cluster().restart(leader);
      await waitRecovered(cluster(), stream, true);
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
    const leader = (await cluster().streamLeader(stream))!;
    assert.ok(leader !== null, 'the stream has a leader');
    await cluster().kill(leader);
    for (let i = 0; i < 10; i++) await append(50);
    await cluster().waitLeader(stream, RECOVERY_MS, leader);
    await cluster().restart(leader);
    await waitRecovered(cluster(), stream, true);
    for (let i = 0; i < 10; i++) await append(50);
    await within((p as BackendProducer | null)?.close() ?? Promise.resolve(), CALL_BOUND_MS, 'close()');
    p = null;
    const end = (await cluster().jsm.streams.info(stream)).state.last_seq;
    // The consumer reaches the end: going on, or failing coded and re-opened; stalled is a failure.
    const cursors = await new Kvm(natsJetstream(cluster().nc)).open(`rl-${stream}-cursors`);
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

runOrSkip(test, 'jetstream cluster faults: the consumers');
