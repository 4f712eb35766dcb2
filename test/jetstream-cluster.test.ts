/**
 * Faults on a real cluster, the producer: three nats-server nodes on 127.0.0.1
 * (nats-cluster-kit.ts), the log's stream and its buckets with 3 replicas. The stream's leader is
 * SIGKILLed mid-append, then a follower (no majority left), both are restarted, then a follower of
 * the stream and of its leases bucket alone (a majority left). Every record whose flush() resolved is
 * in the stream, at its offset, once; the offsets are dense; a handle either goes on or fails with a
 * coded LogError within its bounds (then a new producer opens once the cluster has recovered).
 * The consumers go through the same faults in jetstream-cluster-consumer.test.ts (clientTx) and
 * jetstream-cluster-pool.test.ts (globalTx under a worker pool).
 * Every wait is on a condition with a bound; a seed (SEED=...) picks the nodes killed among the
 * candidates and the moments of the kills, and is printed. Skipped with a printed reason without
 * nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, type BackendProducer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import {
  CALL_BOUND_MS, LEASE_MS, RECOVERY_MS, TIMEOUT_MS, clusterSuite, killAndWaitLeader, reopen, waitRecovered, type ClusterNode,
} from './nats-cluster-kit.js';
import { runOrSkip, within, coded } from './nats-kit.js';

const { test, rnd, cluster, fresh } = clusterSuite('jetstream cluster faults: the producer');

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
    const leader = (await cluster().streamLeader(stream))!;
    assert.ok(leader !== null, 'the stream has a leader');
    let newLeader: ClusterNode | null = null;
    await step(200 + Math.floor(rnd() * 300), async () => { newLeader = await killAndWaitLeader(cluster(), stream, leader); });
    process.stdout.write(`#   leader ${leader.name} killed; new leader ${newLeader!.name} (${Date.now() - t0} ms)\n`);
    await stepsUntil(500, `after leader ${leader.name} was killed`);
    // 2. A follower, SIGKILLed mid-append while the old leader is still down: no majority is left, so
    //    the producer cannot go on; it must fail with a coded error within its bounds.
    const followers = cluster().nodes.filter((x) => x.proc !== null && x !== newLeader);
    const follower = followers[Math.floor(rnd() * followers.length)]!;
    const wentOn = await step(200 + Math.floor(rnd() * 300), () => cluster().kill(follower));
    process.stdout.write(`#   follower ${follower.name} killed: the producer ${wentOn ? 'went on' : `failed with ${failures.at(-1)}`} (${Date.now() - t0} ms)\n`);
    if (p !== null) {
      // The batch before the kill may have been acknowledged: the next one has no majority to land on.
      const t1 = Date.now();
      assert.not.ok(await step(100), 'an append without a majority is not acknowledged');
      assert.ok(Date.now() - t1 < CALL_BOUND_MS, 'the producer failed within its bound');
    }
    // 3. Both nodes back: a new producer opens once the stream has a leader, and goes on.
    await cluster().restart(leader);
    await cluster().restart(follower);
    await waitRecovered(cluster(), stream, false);
    process.stdout.write(`#   ${leader.name} and ${follower.name} restarted, stream healthy (${Date.now() - t0} ms)\n`);
    await stepsUntil(300, 'after the restarts');
    // 4. One follower SIGKILLed mid-append, a majority left: the producer goes on (a connection to
    //    that node is re-made to another, and the publishes in flight resync). A follower of both
    //    groups the producer writes to: killing the leases bucket's leader is a leader kill (the
    //    bucket's raft waits 4 to 9 s to elect another, past the lease's 2 x timeoutMs; step 1).
    const nowLeader = await cluster().waitLeader(stream, RECOVERY_MS);
    const leasesLeader = await cluster().waitLeader(`KV_rl-${stream}-leases`, RECOVERY_MS);
    const others = cluster().nodes.filter((x) => x !== nowLeader && x !== leasesLeader);
    const lone = others[Math.floor(rnd() * others.length)]!;
    const failed = failures.length;
    await step(200 + Math.floor(rnd() * 300), () => cluster().kill(lone));
    await stepsUntil(300, `with follower ${lone.name} down`);
    process.stdout.write(`#   follower ${lone.name} killed, a majority left: ${failures.length === failed ? 'the producer went on' : `the producer failed with ${failures.slice(failed).join(', ')} and a new one went on`} (${Date.now() - t0} ms)\n`);
    assert.equal(failures.slice(failed), [], 'with a majority left the producer goes on');
    await cluster().restart(lone);
    // Only appends follow, no more kills: the log's stream must be whole again. The leases bucket's
    // replica on the restarted node is not waited for (nats-server 2.9 has left such a replica behind
    // for over 40 s; the producer's lease needs the bucket's leader, which the appends show).
    await cluster().waitHealthy(stream, RECOVERY_MS);
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
    const si = await cluster().jsm.streams.info(stream);
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

runOrSkip(test, 'jetstream cluster faults: the producer');
