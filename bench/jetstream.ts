/**
 * One question: what the JetStream backend costs against plain @nats-io/jetstream on the same
 * server(s), 100 B records (issue target: at least 0.8x for both rows), on one node and on a 3-node
 * cluster with 3 replicas.
 *
 *   node --import tsx bench/jetstream.ts [--quick] [--dir <base>]
 *
 * A single-node nats-server (test/nats-kit.ts: 127.0.0.1, a free port, its own store, stopped at the
 * end), then a 3-node cluster on 127.0.0.1 (test/nats-cluster-kit.ts: each node its own ports and
 * store, stopped at the end); on each, per round, on a fresh stream each (R3 on the cluster, the
 * backend's buckets too):
 * 1. plain publish, pipelined (1,024 in flight), beside the backend's synchronous appends up to
 *    flush() (SyncPolicy.never; ERR_LOG_FULL answered by writable());
 * 2. the log's first consumer opened and closed, timed on its own: that open creates the cursors
 *    bucket, once per log (on the cluster an R3 stream, whose election took 150 to 700 ms in trials, as
 *    long as consuming 100,000 records); on the cluster the rows below wait until every replica of
 *    that bucket is current;
 * 3. one untimed plain read of each stream, so that no timed read is the first of its stream;
 * 4. four reads of all the records, in an order that turns by one place each round (so over 8 rounds
 *    each row runs twice at each place): a plain ordered consume of the plain stream reading each
 *    message's sequence and payload (no position kept); a plain durable consumer of the plain stream
 *    (AckPolicy.All) that acknowledges every 1,000th message and awaits the server's answer
 *    (`ackAck`), timed from its creation: the plain form of a position kept in the server every 1,000
 *    records; a clientTx consumer of the backend's stream on a fresh cursor committing every 1,000
 *    records (nonblockingProcess to the end; timed from its open); a nonTx consumer of the same stream
 *    (no cursor, no commits: what the pull and the records cost apart from the commits).
 * A row's x plain is the median over the rounds of its rate over the plain row's rate of the same
 * round, as the suite pairs each system with its raw cell: the clientTx row over the plain durable
 * row (both keep a position every 1,000 records, awaited), the nonTx row over the ordered one (neither
 * keeps one); the clientTx row's ratio over the ordered read is printed beside it.
 * On the cluster, before the consumer rows of a round, the plain stream's leader is moved (leader
 * step-downs, at most 10) to the node that leads the backend's stream, and both sides read through a
 * connection to that node: a stream read through another node than its leader pays a route hop, and
 * with the leaders placed at random the ratio of a round swung from 0.5x to 0.9x.
 * For scale, each round also appends the same records to a local log directory (SyncPolicy.never(),
 * up to flush()) and reads them with the same clientTx consumer: the local backend's rows, paired with
 * the same plain rows as the backend's.
 * The position stores are placed by the cluster as it likes: the plain durable consumer's raft group
 * and the backend's cursors bucket each elect their own leader, which may be another node than the
 * one read through (a route hop for its acks or commits), on both sides alike.
 * The server(s) are the limit both share; the three nodes of the cluster share this machine's cores.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream as natsJetStream, jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, type LogBackend } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { startCluster, stopAllClusters, type Cluster } from '../test/nats-cluster-kit.js';
import { startNats } from '../test/nats-kit.js';
import { log, n, nowMs, runBench, sleep, summarize } from './lib/run.js';
import { finish, row, type Table } from './lib/table.js';

const RECORD = new Uint8Array(100).fill(7);

interface Rates {
  plainPublish: number[];
  append: number[];
  plainConsume: number[];
  plainDurable: number[];
  clientTx: number[];
  nonTx: number[];
  /** The local backend, for scale: the same appends to a log directory, and the same clientTx read. */
  localAppend: number[];
  localClientTx: number[];
  /** The open of the log's first consumer, which creates the cursors bucket (ms). */
  firstOpenMs: number[];
}

/**
 * On the cluster: steps the plain stream's leader down until the node leading the backend's stream
 * leads it too (at most 10 step-downs); returns that node's URL, which both consumers then read through.
 */
async function alignLeaders(cluster: Cluster, plainStream: string, backendStream: string): Promise<string> {
  for (let i = 0; ; i++) {
    const target = await cluster.waitLeader(backendStream, 10_000);
    const leader = await cluster.waitLeader(plainStream, 10_000);
    if (leader === target) return target.url;
    if (i === 10) throw new Error(`the leader of ${plainStream} stayed off ${target.name} through 10 step-downs`);
    await cluster.nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${plainStream}`, undefined, { timeout: 5_000 });
    await cluster.waitLeader(plainStream, 10_000, leader);
  }
}

type ConsumeRow = 'plainConsume' | 'plainDurable' | 'clientTx' | 'nonTx';
const CONSUME_ROWS: readonly ConsumeRow[] = ['plainConsume', 'plainDurable', 'clientTx', 'nonTx'];

/** `xs` rotated left by `by` places. */
const rotate = <T>(xs: readonly T[], by: number): T[] => xs.map((_, i) => xs[(i + by) % xs.length]!);

/** Waits (at most 30 s) until every replica of `stream` is current and it has a leader. */
async function replicasCurrent(jsm: Awaited<ReturnType<typeof jetstreamManager>>, stream: string): Promise<void> {
  const until = nowMs() + 30_000;
  for (;;) {
    const c = (await jsm.streams.info(stream)).cluster;
    if (c?.leader !== undefined && (c.replicas ?? []).every((x) => x.current)) return;
    if (nowMs() > until) throw new Error(`the replicas of ${stream} were not all current within 30 s`);
    await sleep(20);
  }
}

/** A plain ordered consume of `stream`'s `count` messages, reading each one's sequence and payload: rec/s. */
async function plainConsume(nc: NatsConnection, stream: string, count: number): Promise<number> {
  const t0 = nowMs();
  const ordered = await natsJetStream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const messages = await ordered.consume({ max_messages: 1024 });
  let seen = 0;
  let read = 0; // each message's sequence and payload are read, as a consumer would
  for await (const m of messages) {
    read += m.seq + m.data.byteLength;
    if (++seen === count) break;
  }
  if (read === 0) throw new Error('the plain consume read nothing');
  return count / ((nowMs() - t0) / 1000);
}

/**
 * A plain durable consumer of `stream` (AckPolicy.All, a fresh one each time, deleted after) that
 * acknowledges every 1,000th message and awaits the server's answer before it reads on, timed from its
 * creation: rec/s. `max_ack_pending` is set past a pull plus a group, so the server never holds
 * deliveries back for acks.
 */
async function plainDurableConsume(nc: NatsConnection, stream: string, count: number): Promise<number> {
  const t0 = nowMs();
  const name = `plain${++cursors}`;
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(stream, { durable_name: name, ack_policy: AckPolicy.All, deliver_policy: DeliverPolicy.All, max_ack_pending: 10_000 });
  try {
    const consumer = await natsJetStream(nc).consumers.get(stream, name);
    const messages = await consumer.consume({ max_messages: 1024 });
    let seen = 0;
    let read = 0;
    for await (const m of messages) {
      read += m.seq + m.data.byteLength;
      if (++seen % 1000 === 0 || seen === count) {
        if (!(await m.ackAck())) throw new Error(`the server did not confirm the ack of message ${m.seq}`);
      }
      if (seen === count) break;
    }
    if (read === 0) throw new Error('the plain durable consume read nothing');
    const rate = count / ((nowMs() - t0) / 1000);
    const info = await jsm.consumers.info(stream, name);
    if (info.ack_floor.stream_seq !== count) throw new Error(`the plain durable consumer's ack floor is ${info.ack_floor.stream_seq}, not ${count}`);
    return rate;
  } finally {
    await jsm.consumers.delete(stream, name);
  }
}

/** A clientTx consumer committing every 1,000 records, timed from its open (a fresh cursor each time): rec/s. */
async function clientTxConsume(where: { backend: LogBackend } | { logDir: string }, count: number): Promise<number> {
  const t0 = nowMs();
  const c = await Consumer.open({ ...where, style: ConsumerStyle.clientTx(`bench${++cursors}`), commit: { everyRecords: 1000 } });
  const summary = await c.nonblockingProcess(null, () => 'commit');
  if (summary.committed !== count) throw new Error(`the consumer committed ${summary.committed} of ${count}`);
  const rate = count / ((nowMs() - t0) / 1000);
  await c.close();
  return rate;
}
let cursors = 0;

/** The same read without a cursor: what the pull and the records cost apart from the commits. rec/s. */
async function nonTxConsume(backend: LogBackend, count: number): Promise<number> {
  const t0 = nowMs();
  const nt = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const summary = await nt.nonblockingProcess(null, () => 'commit');
  if (summary.committed !== count) throw new Error(`the nonTx consumer read ${summary.committed} of ${count}`);
  const rate = count / ((nowMs() - t0) / 1000);
  await nt.close();
  return rate;
}

/** `count` appends of RECORD up to flush() under SyncPolicy.never() (ERR_LOG_FULL answered by writable()), timed from the first: rec/s. */
async function appendAll(where: { backend: LogBackend } | { logDir: string }, count: number): Promise<number> {
  const syncPolicy = SyncPolicy.never();
  const p = 'backend' in where ? await Producer.open({ backend: where.backend, syncPolicy }) : await Producer.open({ logDir: where.logDir, syncPolicy });
  try {
    const t0 = nowMs();
    for (let i = 0; i < count; i++) {
      try {
        p.append(RECORD);
      } catch (e) {
        if ((e as { code?: string }).code !== 'ERR_LOG_FULL') throw e;
        await p.writable({ bytes: RECORD.byteLength });
        i--;
      }
    }
    await p.flush();
    return count / ((nowMs() - t0) / 1000);
  } finally {
    await p.close();
  }
}

/** The rounds of both rows on the server(s) at `urls`, streams of `replicas` replicas (R3: on `cluster`). */
async function measure(urls: string[], replicas: 1 | 3, cfg: { n: number; reps: number }, tag: string, cluster?: Cluster): Promise<Rates> {
  const rates: Rates = { plainPublish: [], append: [], plainConsume: [], plainDurable: [], clientTx: [], nonTx: [], localAppend: [], localClientTx: [], firstOpenMs: [] };
  const nc = await connect({ servers: urls });
  try {
    const js = natsJetStream(nc);
    const jsm = await jetstreamManager(nc);
    for (let r = 0; r < cfg.reps; r++) {
      log(`${tag} round ${r + 1}: ${n(cfg.n)} records each way...`);
      const plainStream = `plain${tag}${r}`;
      await jsm.streams.add({ name: plainStream, subjects: [`p.${tag}.${r}`], num_replicas: replicas });
      let t0 = nowMs();
      const inFlight: Array<Promise<unknown>> = [];
      for (let i = 0; i < cfg.n; i++) {
        inFlight.push(js.publish(`p.${tag}.${r}`, RECORD));
        if (inFlight.length >= 1024) await inFlight.shift();
      }
      await Promise.all(inFlight);
      rates.plainPublish.push(cfg.n / ((nowMs() - t0) / 1000));

      const backend = jetstream({ servers: urls, stream: `rl${tag}${r}`, replicas });
      rates.append.push(await appendAll({ backend }, cfg.n));

      // The local backend, for scale: the same appends to a log directory, then the same clientTx read.
      const logDir = mkdtempSync(join(tmpdir(), 'rl-bench-jetstream-local-'));
      try {
        rates.localAppend.push(await appendAll({ logDir }, cfg.n));
        rates.localClientTx.push(await clientTxConsume({ logDir }, cfg.n));
      } finally {
        rmSync(logDir, { recursive: true, force: true });
      }

      // On the cluster, both sides read through the node that leads both streams (see the module comment).
      const readUrl = cluster === undefined ? null : await alignLeaders(cluster, plainStream, `rl${tag}${r}`);
      const readNc = readUrl === null ? nc : await connect({ servers: readUrl });
      const reader = readUrl === null ? backend : jetstream({ servers: readUrl, stream: `rl${tag}${r}`, replicas });

      // The log's first consumer creates its cursors bucket (on R3 a replicated stream: an election),
      // once per log; timed on its own, so the rows below measure consuming. On the cluster the rows
      // start once every replica of that bucket is current, so none of them meets its catch-up.
      t0 = nowMs();
      await (await Consumer.open({ backend: reader, style: ConsumerStyle.clientTx('first') })).close();
      rates.firstOpenMs.push(nowMs() - t0);
      if (cluster !== undefined) await replicasCurrent(jsm, `KV_rl-rl${tag}${r}-cursors`);

      // One untimed read of each stream first, so that every timed read finds the server's caches of
      // its stream as warm as the others do, whatever its place in the order.
      await plainConsume(readNc, plainStream, cfg.n);
      await plainConsume(readNc, `rl${tag}${r}`, cfg.n);
      const rows: Record<ConsumeRow, () => Promise<number>> = {
        plainConsume: () => plainConsume(readNc, plainStream, cfg.n),
        plainDurable: () => plainDurableConsume(readNc, plainStream, cfg.n),
        clientTx: () => clientTxConsume({ backend: reader }, cfg.n),
        nonTx: () => nonTxConsume(reader, cfg.n),
      };
      // The four rows take turns at each place in the order: a state of the server(s) that favours
      // the first or the last of a round weighs on each row alike over the rounds.
      for (const which of rotate(CONSUME_ROWS, r)) rates[which].push(await rows[which]());
      const x = (row: ConsumeRow): string => (rates[row][r]! / rates.plainConsume[r]!).toFixed(2);
      const xd = (rates.clientTx[r]! / rates.plainDurable[r]!).toFixed(2);
      log(`${tag} round ${r + 1}: append ${(rates.append[r]! / rates.plainPublish[r]!).toFixed(2)}x, clientTx ${xd}x of plain durable (${x('clientTx')}x of ordered), nonTx ${x('nonTx')}x of ordered`);
      if (readNc !== nc) await readNc.close();
    }
  } finally {
    await nc.close();
  }
  return rates;
}

/** The median over the rounds of `row`'s rate over the plain row's rate of the same round. */
function pairedRatio(rows: readonly number[], plain: readonly number[]): number {
  return summarize(rows.map((x, i) => x / plain[i]!)).median;
}

function tables(rates: Rates, where: string, count: number): Table[] {
  const pub = summarize(rates.plainPublish);
  const app = summarize(rates.append);
  const con = summarize(rates.plainConsume);
  const tx = summarize(rates.clientTx);
  const appX = pairedRatio(rates.append, rates.plainPublish);
  const txX = pairedRatio(rates.clientTx, rates.plainDurable);
  const txOrderedX = pairedRatio(rates.clientTx, rates.plainConsume);
  return [
    {
      title: `appends, 100 B, ${where}, ${n(count)} records`,
      rows: [
        row('plain js.publish, 1,024 in flight', 'server ack', pub, 'rec/s', { xPeer: 1 }),
        row('backend append + flush()', 'server ack', app, 'rec/s', { xPeer: appX, target: '>= 0.8x plain', met: appX >= 0.8 }),
        row('(for scale) local backend append + flush(), never', 'page cache', summarize(rates.localAppend), 'rec/s', { xPeer: pairedRatio(rates.localAppend, rates.plainPublish) }),
      ],
      peer: 'x plain nats.js (median of the rounds\' ratios)',
    },
    {
      title: `consuming, 100 B, ${where}, ${n(count)} records`,
      rows: [
        row('plain ordered consume (no position kept)', '-', con, 'rec/s', { xPeer: 1 }),
        row('plain durable consumer, ackAck every 1,000', 'consumer ack', summarize(rates.plainDurable), 'rec/s', { xPeer: pairedRatio(rates.plainDurable, rates.plainConsume) }),
        row('backend clientTx, commit every 1,000', 'KV commit', tx, 'rec/s', { xPeer: txX, target: '>= 0.8x plain durable', met: txX >= 0.8 }),
        row('backend nonTx (no cursor, no commit)', '-', summarize(rates.nonTx), 'rec/s', { xPeer: pairedRatio(rates.nonTx, rates.plainConsume) }),
        row('(for scale) local backend clientTx, commit every 1,000', 'cursor file', summarize(rates.localClientTx), 'rec/s', { xPeer: pairedRatio(rates.localClientTx, rates.plainDurable) }),
        row('(once per log: the first Consumer.open, creating the cursors bucket)', '-', summarize(rates.firstOpenMs), 'ms'),
      ],
      peer: 'x plain nats.js (median of the rounds\' ratios)',
      notes: [
        'x plain: the durable row and the nonTx row over the ordered consume of the same round; the clientTx rows (backend, local) over the plain durable consumer of the same round (both keep a position every 1,000 records and await it).',
        `backend clientTx over the plain ordered consume (which keeps no position): ${txOrderedX.toFixed(2)}x.`,
      ],
    },
  ];
}

await runBench('jetstream', 'reactive-log JetStream backend beside plain nats.js', async (b) => {
  const cfg = b.pick({ n: 100_000, reps: 8 }, { n: 20_000, reps: 1 });
  const server = await startNats();
  let single: Rates;
  try {
    single = await measure([server.url], 1, cfg, 's');
  } finally {
    await server.stop();
  }
  const cluster = await startCluster();
  let r3: Rates;
  try {
    r3 = await measure(cluster.urls, 3, cfg, 'c', cluster);
  } finally {
    await stopAllClusters();
  }
  finish(b, [...tables(single, 'single-node nats-server', cfg.n), ...tables(r3, '3-node cluster on loopback, R3', cfg.n)], { config: cfg, rates: single, ratesR3: r3 });
});
