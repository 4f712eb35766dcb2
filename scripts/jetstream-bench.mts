// JetStream backend vs plain @nats-io/jetstream on the same server (single node): 100 B records.
// Belongs in bench/ (kept here until bench/ is free to change); run after a build:
//   node --import tsx scripts/jetstream-bench.mts   (N=100000 REPS=3 by default; needs nats-server on PATH)
import { startNats } from '../test/nats-kit.ts';
import { connect } from '@nats-io/transport-node';
import { jetstream as natsJs, jetstreamManager, DeliverPolicy } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';

const N = Number(process.env.N ?? 100_000);
const REPS = Number(process.env.REPS ?? 3);
const rec = new Uint8Array(100).fill(7);
const s = await startNats();
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
try {
  const nc = await connect({ servers: s.url });
  const js = natsJs(nc);
  const jsm = await jetstreamManager(nc);
  const rows: Record<string, number[]> = { plainPub: [], rlAppend: [], plainConsume: [], rlClientTx: [] };
  for (let r = 0; r < REPS; r++) {
    // plain publish, pipelined, window 1024
    const plainStream = `plain${r}`;
    await jsm.streams.add({ name: plainStream, subjects: [`p.${r}`] });
    let t0 = performance.now();
    const inflight: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) {
      inflight.push(js.publish(`p.${r}`, rec));
      if (inflight.length >= 1024) await inflight.shift();
    }
    await Promise.all(inflight);
    rows.plainPub!.push(N / ((performance.now() - t0) / 1000));
    // reactive-log append + flush
    const backend = jetstream({ servers: s.url, stream: `rl${r}` });
    const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
    t0 = performance.now();
    for (let i = 0; i < N; i++) {
      try { p.append(rec); } catch (e) { if ((e as { code?: string }).code === 'ERR_LOG_FULL') { await p.writable({ bytes: 100 }); i--; } else throw e; }
    }
    await p.flush();
    rows.rlAppend!.push(N / ((performance.now() - t0) / 1000));
    await p.close();
    // plain consume: ordered consumer from the start
    t0 = performance.now();
    const oc = await js.consumers.get(plainStream, { deliver_policy: DeliverPolicy.All });
    const msgs = await oc.consume({ max_messages: 1024 });
    let n = 0;
    for await (const _m of msgs) { if (++n === N) break; }
    rows.plainConsume!.push(N / ((performance.now() - t0) / 1000));
    // reactive-log clientTx, group commit every 1000
    t0 = performance.now();
    const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('bench'), commit: { everyRecords: 1000 } });
    const sum = await c.nonblockingProcess(null, () => 'commit');
    if (sum.committed !== N) throw new Error(`committed ${sum.committed}`);
    rows.rlClientTx!.push(N / ((performance.now() - t0) / 1000));
    await c.close();
  }
  await nc.close();
  const f = (x: number) => Math.round(x).toLocaleString('en');
  console.log(`N=${N} x ${REPS}, single node nats-server, 100 B, medians (rec/s)`);
  console.log(`append pipelined+flush: plain ${f(med(rows.plainPub!))}  reactive-log ${f(med(rows.rlAppend!))}  ratio ${(med(rows.rlAppend!) / med(rows.plainPub!)).toFixed(2)}  [${rows.rlAppend!.map(f).join(', ')} vs ${rows.plainPub!.map(f).join(', ')}]`);
  console.log(`consume: plain ordered consume ${f(med(rows.plainConsume!))}  reactive-log clientTx(everyRecords 1000) ${f(med(rows.rlClientTx!))}  ratio ${(med(rows.rlClientTx!) / med(rows.plainConsume!)).toFixed(2)}  [${rows.rlClientTx!.map(f).join(', ')} vs ${rows.plainConsume!.map(f).join(', ')}]`);
} finally {
  await s.stop();
}
