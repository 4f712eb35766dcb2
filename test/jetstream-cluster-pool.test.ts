/**
 * Faults on a real cluster under a worker pool: three nats-server nodes on 127.0.0.1
 * (nats-cluster-kit.ts), the stream and its buckets with 3 replicas. A globalTx consumer runs a
 * blocking pool call (2 workers, the handler test/fixtures/conformance-pool-handler.mjs, its records
 * reaching the workers through the shared window) while a producer appends; the stream's leader is
 * SIGKILLed mid-run, then (once it is back) a follower, each restarted. Asserted:
 * - every record whose flush() resolved is in the stream at its offset and is handled (none passed
 *   over); the handler checks that each record carries what was appended at its offset (its text,
 *   key and headers);
 * - none is handed out again once committed: each open's records start at the cursor it opened at,
 *   and within one open no record is handled twice (no worker is lost here);
 * - the cursor ends at the stream's end, and a consumer opened after it finds nothing left;
 * - the handles go on, or fail with a coded LogError within their bounds (then are opened again);
 *   nothing hangs.
 * Every wait is on a condition with a bound; SEED=... replays the choices. Skipped with a printed
 * reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, type BackendProducer } from '../dist/index.js';
import { jetstream, type JetStreamBackendOptions } from '../dist/jetstream.js';
import { tempDir } from './kit.js';
import {
  CALL_BOUND_MS, LEASE_MS, RECOVERY_MS, RIDE_TIMEOUT_MS, TIMEOUT_MS, clusterSuite, pollUntil, reopen, rideVerdict, type ClusterNode,
} from './nats-cluster-kit.js';
import { runOrSkip, within, coded } from './nats-kit.js';

const handler = fileURLToPath(new URL('./fixtures/conformance-pool-handler.mjs', import.meta.url));
const dirs: string[] = [];
const { test, rnd, cluster } = clusterSuite('jetstream cluster faults: a worker pool', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The offsets the handler logged into `dir`, in the order each worker handled them. */
function seen(dir: string): number[] {
  const all: number[] = [];
  for (const f of readdirSync(dir).filter((name) => name.startsWith('seen-'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) if (line !== '') all.push(Number(line));
  }
  return all;
}

test('a pooled globalTx run: SIGKILL the stream leader, then a follower, mid-run, restart them; every flushed record handled, none again once committed', async () => {
  const options: JetStreamBackendOptions = {
    servers: cluster().urls, stream: `clp-${process.pid}`, replicas: 3, timeoutMs: TIMEOUT_MS, leaseMs: LEASE_MS,
  };
  const stream = options.stream;
  const backend = jetstream(options);
  const consumerBackend = jetstream({ ...options, timeoutMs: RIDE_TIMEOUT_MS });
  const failures: string[] = [];
  const acked = new Set<number>();
  /** Per open of the consumer: the cursor it opened at and the directory its workers log into. */
  const runs: Array<{ from: number; dir: string }> = [];
  let stopping = false;
  let current: { c: Consumer; ac: AbortController } | null = null;
  let p: BackendProducer | null = null;
  /** Appends `count` records "rec-<offset>" (every third with a key and a header, as the handler checks) and flushes. */
  const append = async (count: number): Promise<void> => {
    p ??= await reopen(() => Producer.open({ backend, syncPolicy: SyncPolicy.never() }), TIMEOUT_MS, RECOVERY_MS + LEASE_MS, 'the producer');
    const mine: number[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const n = p.nextOffset;
        mine.push(p.append(`rec-${n}`, n % 3 === 0 ? { key: `k${n}`, headers: { h: `v${n}` } } : undefined));
      }
      await within(p.flush(), CALL_BOUND_MS, 'flush()');
      for (const o of mine) acked.add(o);
    } catch (e) {
      failures.push(`producer ${coded(e, 'append/flush')}`);
      await within(p.destroy(), CALL_BOUND_MS, 'destroy()').catch((d: unknown) => coded(d, 'destroy()'));
      p = null;
    }
  };
  await append(100); // the stream exists before the consumer opens
  const consuming = (async () => {
    while (!stopping) {
      const dir = tempDir('rlog-cluster-pool-');
      dirs.push(dir);
      process.env.RL_CONF_POOL_DIR = dir; // before the pool starts its threads
      const c = await reopen(() => Consumer.open({ backend: consumerBackend, style: ConsumerStyle.globalTx() }), RIDE_TIMEOUT_MS, RECOVERY_MS + LEASE_MS, 'the pooled consumer');
      const ac = new AbortController();
      current = { c, ac };
      runs.push({ from: c.committedOffset ?? 0, dir }); // null: nothing committed yet
      try {
        if (!stopping) await c.blockingProcess(null, handler, { workers: 2, batchRecords: 16, signal: ac.signal });
      } catch (e) {
        failures.push(`consumer ${coded(e, 'the pool call')}`);
      } finally {
        current = null;
        await within(c.close(), CALL_BOUND_MS + 2 * RIDE_TIMEOUT_MS, 'close()').catch((d: unknown) => coded(d, 'close()'));
      }
    }
  })();
  consuming.catch(() => undefined);

  const handledCount = (): number => runs.reduce((s, r) => s + seen(r.dir).length, 0);
  /** Appends while the consumer handles, until it handled `more` records more (the faults land mid-run). */
  const appendWhileHandling = async (more: number): Promise<void> => {
    const target = handledCount() + more;
    await pollUntil(async () => {
      await append(20 + Math.floor(rnd() * 60));
      return handledCount() >= target ? true : undefined;
    }, `the consumer to handle ${more} records more`, RECOVERY_MS + LEASE_MS, 10);
  };
  const waitRecovered = async (): Promise<void> => {
    for (const name of [stream, `KV_rl-${stream}-leases`, `KV_rl-${stream}-cursors`]) await cluster().waitHealthy(name, RECOVERY_MS);
  };

  try {
    const t0 = Date.now();
    const say = (s: string): void => { process.stdout.write(`#   ${s} (${Date.now() - t0} ms)\n`); };
    await appendWhileHandling(300);
    // 1. The stream's leader, SIGKILLed while records flow: the pull and the producer lose it.
    const leader = (await cluster().streamLeader(stream))!;
    assert.ok(leader !== null, 'the stream has a leader');
    const outages: number[] = [];
    const answering = (): Promise<void> => {
      const measured = cluster().waitAnswering([stream, `KV_rl-${stream}-cursors`], RECOVERY_MS).then((ms) => { outages.push(ms); });
      measured.catch(() => undefined);
      return measured;
    };
    const killing = (async (): Promise<ClusterNode> => {
      await cluster().kill(leader);
      const measured = answering();
      const next = await cluster().waitLeader(stream, RECOVERY_MS, leader);
      await measured;
      return next;
    })();
    await append(100);
    const newLeader = await killing;
    say(`leader ${leader.name} killed; new leader ${newLeader.name}`);
    await appendWhileHandling(300);
    await cluster().restart(leader);
    await waitRecovered();
    say(`${leader.name} restarted, healthy`);
    // 2. A follower of the stream, SIGKILLed mid-run (a majority left), then restarted.
    const followers = cluster().nodes.filter((x) => x !== newLeader);
    const follower = followers[Math.floor(rnd() * followers.length)]!;
    const killed = cluster().kill(follower).then(answering);
    await append(100);
    await killed;
    await appendWhileHandling(300);
    say(`follower ${follower.name} killed, the run went on`);
    await cluster().restart(follower);
    await waitRecovered();
    await appendWhileHandling(200);
    await within((p as BackendProducer | null)?.close() ?? Promise.resolve(), CALL_BOUND_MS, 'close()');
    p = null;
    const end = (await cluster().jsm.streams.info(stream)).state.last_seq;
    // The consumer reaches the end: going on, or failing coded and opened again; stalled is a failure.
    await pollUntil(async () => {
      const c = (current as { c: Consumer } | null)?.c;
      return c !== undefined && c.committedOffset === end ? true : undefined;
    }, `the pooled consumer to commit up to ${end}`, RECOVERY_MS + LEASE_MS, 50);
    stopping = true;
    (current as { ac: AbortController } | null)?.ac.abort();
    await within(consuming, CALL_BOUND_MS + 2 * RIDE_TIMEOUT_MS, 'the consumer loop');
    say(`${end} records, ${acked.size} acknowledged, ${runs.length} opens; failures: ${failures.join(', ') || 'none'}`);

    const consumerFailures = failures.filter((f) => f.startsWith('consumer'));
    rideVerdict(outages, consumerFailures, RIDE_TIMEOUT_MS, 'the pooled consumer rides out both kills (no failure)');
    assert.ok(runs.length <= consumerFailures.length + 1, `${runs.length} opens: one, and at most one more after each failure`);
    const all = new Map<number, number>();
    runs.forEach(({ from, dir }, k) => {
      const mine = seen(dir);
      assert.is(new Set(mine).size, mine.length, `open ${k}: no record handled twice`);
      for (const o of mine) {
        assert.ok(o >= from && o < end, `open ${k}: record ${o} handled, the cursor opened at ${from}, the stream ends at ${end}`);
        all.set(o, (all.get(o) ?? 0) + 1);
      }
    });
    for (let o = 0; o < end; o++) assert.ok(all.has(o), `record ${o} handled (none passed over)`);
    for (const o of acked) assert.ok(o < end, `acknowledged record ${o} is in the stream`);
    const si = await cluster().jsm.streams.info(stream);
    assert.is(si.state.first_seq, 1, 'nothing was removed from the front');
    assert.is(si.state.messages, end, 'the offsets are dense');
    const check = await reopen(() => Consumer.open({ backend, style: ConsumerStyle.globalTx() }), TIMEOUT_MS, RECOVERY_MS + LEASE_MS, 'the checking consumer');
    try {
      assert.is(check.committedOffset, end, 'the cursor is at the end');
      assert.is((await check.nonblockingProcess(null, () => 'commit')).committed, 0, 'nothing is left');
    } finally {
      await check.close();
    }
    const reader = await reopen(() => Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) }), TIMEOUT_MS, RECOVERY_MS + LEASE_MS, 'the reader');
    try {
      let next = 0;
      await within(reader.nonblockingProcess(null, (m) => {
        assert.is(m.offset, next++, 'offsets are dense');
        assert.is(Buffer.from(m.data).toString(), `rec-${m.offset}`, `record ${m.offset} is stored as appended`);
        return 'commit';
      }), RECOVERY_MS, 'reading the stream back');
      assert.is(next, end);
    } finally {
      await reader.close();
    }
  } finally {
    stopping = true;
    (current as { ac: AbortController } | null)?.ac.abort();
    await (p as BackendProducer | null)?.destroy().catch(() => undefined);
    await within(consuming, CALL_BOUND_MS + 2 * RIDE_TIMEOUT_MS, 'the consumer loop').catch(() => undefined);
  }
});

runOrSkip(test, 'jetstream cluster faults: a worker pool');
