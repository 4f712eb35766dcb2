/**
 * A 3-node nats-server cluster for the fault tests, on 127.0.0.1: each node with its own client port,
 * cluster port, store directory and server_name, routes to the other two, JetStream on. Ready once
 * JetStream answers with a meta leader and a stream of 3 replicas can be placed (a bounded poll of
 * that condition, never a fixed sleep). A node can be SIGKILLed and restarted on the same ports and
 * store; `streamLeader()` maps a stream's leader (its stream info's `cluster.leader`) to the node.
 * `stopCluster()` kills every node and removes every directory, also after a failed test.
 */
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstreamManager, StorageType, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { coded, freePort, natsServerBinary, SKIP_REASON, within } from './nats-kit.js';
import { prng, suite } from './kit.js';
import type { Test } from 'uvu';
import type { JetStreamBackendOptions } from '../dist/jetstream.js';

export interface ClusterNode {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly clusterPort: number;
  /** The running process, or null while the node is down. */
  proc: ChildProcess | null;
  /** What the node printed, each restart marked. */
  output(): string;
}

export interface Cluster {
  readonly nodes: readonly ClusterNode[];
  /** Every node's client URL: a client given all of them fails over. */
  readonly urls: string[];
  /** An admin connection (connected to every URL, reconnecting forever). */
  readonly jsm: JetStreamManager;
  readonly nc: NatsConnection;
  /** SIGKILLs the node and waits for its exit. */
  kill(node: ClusterNode): Promise<void>;
  /** Starts a killed node again on its ports and store; resolves once it accepts a client. */
  restart(node: ClusterNode): Promise<void>;
  /** The node leading `stream` now, or null while it has no leader (or the API does not answer). */
  streamLeader(stream: string): Promise<ClusterNode | null>;
  /** Waits until `stream` has a leader on a running node and every replica is current and online. */
  waitHealthy(stream: string, boundMs: number): Promise<StreamInfo>;
  /** Waits until `stream` has a leader on a running node other than `not`. */
  waitLeader(stream: string, boundMs: number, not?: ClusterNode): Promise<ClusterNode>;
  /**
   * Waits until a consumer's requests are answered again: each of `streams` has a leader on a running
   * node, and a consumer can be made on the first (the meta leader places it). Returns the ms it took.
   */
  waitAnswering(streams: readonly string[], boundMs: number): Promise<number>;
}

/** The handles' timeoutMs in the cluster tests. */
export const TIMEOUT_MS = 2_000;
/** The producer's leaseMs in the cluster tests. */
export const LEASE_MS = 2_000;
/** How long a cluster takes to elect a leader or take a node back (a loaded 2-core machine): a bound, not a sleep. */
export const RECOVERY_MS = 40_000;
/**
 * The bound on one call of a handle: its own timeouts, with room. The longest is a producer's
 * flush() with no leader to answer, which rejects within about 4 x timeoutMs (a publish, the resync
 * to its bound, the bound's last try: docs/jetstream.md).
 */
export const CALL_BOUND_MS = 4 * TIMEOUT_MS + 2_000;
/**
 * The timeoutMs of a consumer that rides out the faults: nats-server's raft waits 4 to 9 s before it
 * elects a new leader, and two kills a few seconds apart can chain into one outage of up to about
 * 18 s; 2 x this covers that (docs/jetstream.md).
 */
export const RIDE_TIMEOUT_MS = 10_000;

const clusters = new Set<{ stop(): Promise<void> }>();

/** Polls `cond` every `everyMs` until it returns a value other than undefined; fails after `boundMs`. */
export async function pollUntil<T>(cond: () => Promise<T | undefined>, what: string, boundMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + boundMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await cond();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${boundMs} ms waiting for ${what}${last !== null ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Starts a 3-node JetStream cluster and waits until it can place a stream of 3 replicas. */
export async function startCluster(readyMs = 30_000): Promise<Cluster> {
  const bin = natsServerBinary();
  if (bin === null) throw new Error(SKIP_REASON);
  const root = mkdtempSync(join(tmpdir(), 'rlog-nats-cluster-'));
  const ports: Array<{ port: number; clusterPort: number }> = [];
  const taken = new Set<number>();
  while (ports.length < 3) {
    const port = await freePort();
    const clusterPort = await freePort();
    if (taken.has(port) || taken.has(clusterPort) || port === clusterPort) continue;
    taken.add(port);
    taken.add(clusterPort);
    ports.push({ port, clusterPort });
  }
  const exits = new Map<ClusterNode, Promise<void>>();
  const nodes: ClusterNode[] = ports.map(({ port, clusterPort }, i) => {
    const name = `n${i + 1}`;
    const routes = ports.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p.clusterPort}`);
    const conf = join(root, `${name}.conf`);
    writeFileSync(conf, [
      `server_name: ${name}`,
      `listen: 127.0.0.1:${port}`,
      `jetstream { store_dir: "${join(root, name)}" }`,
      `cluster { name: rlc, listen: 127.0.0.1:${clusterPort}, routes: [${routes.join(', ')}] }`,
      '',
    ].join('\n'));
    let out = '';
    const node: ClusterNode & { start(): void } = {
      name, port, clusterPort, url: `nats://127.0.0.1:${port}`, proc: null,
      output: () => out,
      start() {
        out += '=== restart\n';
        const proc = spawn(bin, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
        proc.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
        proc.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
        exits.set(node, new Promise<void>((resolve) => proc.once('exit', () => { if (node.proc === proc) node.proc = null; resolve(); })));
        node.proc = proc;
      },
    };
    return node;
  });
  const kill = async (node: ClusterNode): Promise<void> => {
    if (node.proc === null) return;
    node.proc.kill('SIGKILL');
    await exits.get(node);
  };
  let nc: NatsConnection | null = null;
  const stop = async (): Promise<void> => {
    clusters.delete(handle);
    // RL_DUMP_NATS=<prefix>: each node's output (across its restarts) goes to <prefix>-<node>.log.
    if (process.env.RL_DUMP_NATS) for (const n of nodes) writeFileSync(`${process.env.RL_DUMP_NATS}-${n.name}.log`, n.output());
    await nc?.close().catch(() => undefined);
    await Promise.all(nodes.map(kill));
    rmSync(root, { recursive: true, force: true });
  };
  const handle = { stop };
  clusters.add(handle);
  try {
    for (const node of nodes) (node as ClusterNode & { start(): void }).start();
    const urls = nodes.map((n) => n.url);
    nc = await pollUntil(() => connect({ servers: urls, timeout: 1_000, maxReconnectAttempts: -1, reconnectTimeWait: 100 }), 'a client connection to the cluster', readyMs, 100);
    const client = nc;
    // Ready: a meta leader answers, and all three peers are known (a stream of 3 replicas is placed).
    const jsm = await pollUntil(async () => {
      const jsm = await jetstreamManager(client, { timeout: 2_000 });
      await jsm.getAccountInfo();
      const probe = `rl_probe_${process.pid}`;
      await jsm.streams.add({ name: probe, subjects: [`rl.probe.${process.pid}`], storage: StorageType.Memory, num_replicas: 3 });
      await jsm.streams.delete(probe);
      return jsm;
    }, 'the cluster to elect a meta leader and place a stream of 3 replicas', readyMs, 100);
    const byName = (name: string | undefined): ClusterNode | null => nodes.find((n) => n.name === name) ?? null;
    const streamLeader = async (stream: string): Promise<ClusterNode | null> => {
      try {
        const si = await jsm.streams.info(stream);
        const leader = byName(si.cluster?.leader);
        return leader !== null && leader.proc !== null ? leader : null;
      } catch {
        return null;
      }
    };
    const cluster: Cluster = {
      nodes, urls, jsm, nc,
      kill,
      async restart(node) {
        if (node.proc !== null) return;
        (node as ClusterNode & { start(): void }).start();
        await pollUntil(async () => {
          if (node.proc === null) throw new Error(`node ${node.name} exited:\n${node.output()}`);
          const c = await connect({ servers: node.url, timeout: 500, reconnect: false });
          await c.close();
          return true;
        }, `node ${node.name} to accept a client`, readyMs, 50);
      },
      streamLeader,
      waitHealthy: (stream, boundMs) => pollUntil(async () => {
        const si = await jsm.streams.info(stream);
        const leader = byName(si.cluster?.leader);
        if (leader === null || leader.proc === null) return undefined;
        const replicas = si.cluster?.replicas ?? [];
        if (replicas.length !== 2 || !replicas.every((r) => r.current && r.offline !== true && byName(r.name)?.proc != null)) return undefined;
        return si;
      }, `stream ${stream} to have a leader and 2 current replicas`, boundMs, 100),
      waitLeader: (stream, boundMs, not) => pollUntil(async () => {
        const leader = await streamLeader(stream);
        return leader !== null && leader !== not ? leader : undefined;
      }, `stream ${stream} to elect a leader${not !== undefined ? ` other than ${not.name}` : ''}`, boundMs, 100),
      waitAnswering: async (streams, boundMs) => {
        const t0 = Date.now();
        await pollUntil(async () => {
          for (const name of streams) if ((await streamLeader(name)) === null) return undefined;
          const ci = await jsm.consumers.add(streams[0]!, { ack_policy: AckPolicy.None, mem_storage: true, num_replicas: 1, inactive_threshold: 10_000_000_000 });
          await jsm.consumers.delete(streams[0]!, ci.name);
          return true;
        }, `${streams.join(', ')} to answer a consumer`, boundMs, 100);
        return Date.now() - t0;
      },
    };
    return cluster;
  } catch (e) {
    const outputs = nodes.map((n) => `--- ${n.name}:\n${n.output().slice(-2000)}`).join('\n');
    await stop();
    throw new Error(`${(e as Error).message}\n${outputs}`);
  }
}

/**
 * A consumer with `timeoutMs` fails only when nothing succeeded for 2 x timeoutMs since its first
 * failure, which comes no earlier than the kill; a try lost as the cluster answers again is followed
 * by one more past the bound (src/jetstream/ride.ts), and `waitAnswering` measures up to about 2 s
 * late (its own requests time out). So every outage shorter than 2 x timeoutMs - 3 s (a second for
 * the last try's round trips on a loaded machine) must be ridden out. nats-server
 * 2.9 sometimes leaves a raft group without a leader for longer, a majority alive (its log then says
 * "has NO quorum, stalled"): past that the consumer may fail, with ERR_IO only, and is opened again;
 * the exactly-once checks that follow hold either way.
 */
export function rideVerdict(outages: readonly number[], failures: readonly string[], timeoutMs: number, what: string): void {
  const longest = Math.max(0, ...outages);
  const rideable = 2 * timeoutMs - 3_000;
  process.stdout.write(`#   the cluster answered a consumer again ${outages.join(' ms, ')} ms after each kill\n`);
  if (longest < rideable) assert.equal(failures, [], what);
  else if (failures.length === 0) process.stdout.write(`#   an outage of ${longest} ms, past the ${rideable} ms a consumer of timeoutMs ${timeoutMs} must ride out: it rode that out too\n`);
  else {
    process.stdout.write(`#   an outage of ${longest} ms, past the ${rideable} ms a consumer of timeoutMs ${timeoutMs} must ride out: its failures (${failures.join(', ')}) are allowed if ERR_IO\n`);
    for (const f of failures) assert.ok(f.endsWith('ERR_IO'), `a failure past the bound is ERR_IO, got ${f}`);
  }
}

/**
 * The bound on one open of a handle with `timeoutMs`: an open rides out transient failures until
 * 2 x timeoutMs pass after its first (src/jetstream/ride.ts), the request that failed first and the
 * try in flight at the end each take up to timeoutMs, and a try may make a few requests (connect,
 * find the stream; create, read back): 8 x timeoutMs covers them, with room.
 */
export const openBoundMs = (timeoutMs: number): number => 8 * timeoutMs + 2_000;

/**
 * Opens with `open` (a handle of `timeoutMs`), again while that fails with a coded error (the cluster
 * recovering, a dead handle's lease not yet expired), every 100 ms until `deadlineMs` pass; an open
 * that does not settle within openBoundMs(timeoutMs) is a hang and fails the test.
 */
export async function reopen<T>(open: () => Promise<T>, timeoutMs: number, deadlineMs: number, what: string): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await within(open(), openBoundMs(timeoutMs), `opening ${what}`);
    } catch (e) {
      const code = coded(e, `opening ${what}`);
      if (Date.now() > deadline) throw new Error(`${what} did not open within ${deadlineMs} ms (last: ${code} ${(e as Error).message})`);
      await new Promise((r) => setTimeout(r, 100)); // the retry's pace; the bound is the deadline
    }
  }
}

/** Kills every node of every cluster this file started and removes their directories (the after hook). */
export async function stopAllClusters(): Promise<void> {
  await Promise.all([...clusters].map((c) => c.stop()));
}

/**
 * The suite of a cluster fault file: prints its seed (SEED=... replays the choices), starts one
 * cluster before the first case and stops it after the last (then `cleanup`), and brings every node
 * back up before each case, also after a case that failed with a node down. `cluster()` is the
 * running cluster; `fresh()` the backend options of a new stream on it (3 replicas, the kit's timeoutMs
 * and leaseMs).
 */
export function clusterSuite(name: string, cleanup?: () => void): { test: Test; seed: number; rnd: () => number; cluster: () => Cluster; fresh: () => JetStreamBackendOptions } {
  const test = suite(name);
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  let running: Cluster | null = null;
  const cluster = (): Cluster => {
    if (running === null) throw new Error('the cluster is not started');
    return running;
  };
  test.before(async () => {
    process.stdout.write(`# seed ${seed} (SEED=${seed} replays the choices)\n`);
    running = await startCluster();
  });
  test.after(async () => {
    await stopAllClusters();
    cleanup?.();
  });
  test.before.each(async () => {
    for (const node of cluster().nodes) if (node.proc === null) await cluster().restart(node);
  });
  let n = 0;
  const fresh = (): JetStreamBackendOptions => ({
    servers: cluster().urls, stream: `cl-${process.pid}-${++n}`, replicas: 3, timeoutMs: TIMEOUT_MS, leaseMs: LEASE_MS,
  });
  return { test, seed, rnd: prng(seed), cluster, fresh };
}

/**
 * Waits until the log's stream, its leases bucket and (with `cursors`: a transactional consumer has
 * used it) its cursors bucket each have a leader and 2 current replicas. Which exist is the test's to
 * say: while the cluster recovers, asking the server may time out, which must not pass for "there".
 */
export async function waitRecovered(cluster: Cluster, stream: string, cursors: boolean): Promise<void> {
  const names = [stream, `KV_rl-${stream}-leases`, ...(cursors ? [`KV_rl-${stream}-cursors`] : [])];
  for (const name of names) await cluster.waitHealthy(name, RECOVERY_MS);
}

/** Kills `node` and waits until `stream` has a leader on another node. */
export async function killAndWaitLeader(cluster: Cluster, stream: string, node: ClusterNode): Promise<ClusterNode> {
  await cluster.kill(node);
  return cluster.waitLeader(stream, RECOVERY_MS, node);
}
