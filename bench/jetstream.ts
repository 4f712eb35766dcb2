/**
 * One question: what the JetStream backend costs against plain @nats-io/jetstream on the same
 * server, 100 B records (issue target: at least 0.8x for both rows).
 *
 *   node --import tsx bench/jetstream.ts [--quick] [--dir <base>]
 *
 * A single-node nats-server (test/nats-kit.ts: 127.0.0.1, a free port, its own store, stopped at the
 * end), then per round, on a fresh stream each:
 * 1. plain publish, pipelined (1,024 in flight), beside the backend's synchronous appends up to
 *    flush() (SyncPolicy.never; ERR_LOG_FULL answered by writable());
 * 2. a plain ordered consume of the plain stream, beside a clientTx consumer of the backend's stream
 *    committing every 1,000 records (nonblockingProcess to the end).
 * The server is the limit both share; R3 rows are not measured yet.
 */
import { connect } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream as natsJetStream, jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { startNats } from '../test/nats-kit.js';
import { log, n, nowMs, runBench, summarize } from './lib/run.js';
import { finish, row, target } from './lib/table.js';

const RECORD = new Uint8Array(100).fill(7);

await runBench('jetstream', 'reactive-log JetStream backend beside plain nats.js', async (b) => {
  const cfg = b.pick({ n: 100_000, reps: 3 }, { n: 20_000, reps: 1 });
  const server = await startNats();
  const rates = { plainPublish: [] as number[], append: [] as number[], plainConsume: [] as number[], clientTx: [] as number[] };
  try {
    const nc = await connect({ servers: server.url });
    const js = natsJetStream(nc);
    const jsm = await jetstreamManager(nc);
    for (let r = 0; r < cfg.reps; r++) {
      log(`round ${r + 1}: ${n(cfg.n)} records each way...`);
      const plainStream = `plain${r}`;
      await jsm.streams.add({ name: plainStream, subjects: [`p.${r}`] });
      let t0 = nowMs();
      const inFlight: Array<Promise<unknown>> = [];
      for (let i = 0; i < cfg.n; i++) {
        inFlight.push(js.publish(`p.${r}`, RECORD));
        if (inFlight.length >= 1024) await inFlight.shift();
      }
      await Promise.all(inFlight);
      rates.plainPublish.push(cfg.n / ((nowMs() - t0) / 1000));

      const backend = jetstream({ servers: server.url, stream: `rl${r}` });
      const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
      t0 = nowMs();
      for (let i = 0; i < cfg.n; i++) {
        try {
          p.append(RECORD);
        } catch (e) {
          if ((e as { code?: string }).code !== 'ERR_LOG_FULL') throw e;
          await p.writable({ bytes: RECORD.byteLength });
          i--;
        }
      }
      await p.flush();
      rates.append.push(cfg.n / ((nowMs() - t0) / 1000));
      await p.close();

      t0 = nowMs();
      const ordered = await js.consumers.get(plainStream, { deliver_policy: DeliverPolicy.All });
      const messages = await ordered.consume({ max_messages: 1024 });
      let seen = 0;
      for await (const _m of messages) if (++seen === cfg.n) break;
      rates.plainConsume.push(cfg.n / ((nowMs() - t0) / 1000));

      t0 = nowMs();
      const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('bench'), commit: { everyRecords: 1000 } });
      const summary = await c.nonblockingProcess(null, () => 'commit');
      if (summary.committed !== cfg.n) throw new Error(`the consumer committed ${summary.committed} of ${cfg.n}`);
      rates.clientTx.push(cfg.n / ((nowMs() - t0) / 1000));
      await c.close();
    }
    await nc.close();
  } finally {
    await server.stop();
  }
  const pub = summarize(rates.plainPublish);
  const app = summarize(rates.append);
  const con = summarize(rates.plainConsume);
  const tx = summarize(rates.clientTx);
  finish(b, [
    {
      title: `appends, 100 B, single-node nats-server, ${n(cfg.n)} records`,
      rows: [
        row('plain js.publish, 1,024 in flight', 'server ack', pub, 'rec/s', { xPeer: 1 }),
        row('backend append + flush()', 'server ack', app, 'rec/s', { xPeer: app.median / pub.median, ...target('>=', 0.8 * pub.median, app.median) }),
      ],
      peer: 'x plain nats.js',
    },
    {
      title: `consuming, 100 B, single-node nats-server, ${n(cfg.n)} records`,
      rows: [
        row('plain ordered consume', '-', con, 'rec/s', { xPeer: 1 }),
        row('backend clientTx, commit every 1,000', 'KV commit', tx, 'rec/s', { xPeer: tx.median / con.median, ...target('>=', 0.8 * con.median, tx.median) }),
      ],
      peer: 'x plain nats.js',
    },
  ], { config: cfg, rates });
});
