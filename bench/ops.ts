/**
 * One question: what operating a log costs the log: appends with every diagnostics channel subscribed
 * against none, and a warm inspectLog on a log of about 1 GiB.
 *
 *   node --import tsx bench/ops.ts [--quick] [--dir <base>]
 *
 * 1. 100 B appends (SyncPolicy.never, 8 MiB segments, so rolls publish events), cells alternating in
 *    fresh processes: subscribed at least 0.95x unsubscribed (target), beside the raw page-cache
 *    write rate of the same run.
 * 2. inspectLog on a log of 10,000,000 records of 100 B (about 1 GiB; 1,000,000 in --quick), warm:
 *    under 20 ms (target), beside one directory listing plus one stat per segment measured on the same
 *    log (the least any inspection of the files costs).
 * 3. A control call (producer.segments(), comlink to the writer thread) with the writer idle and after
 *    10,000 appends, beside a plain MessagePort round trip to a worker thread (the floor of any call
 *    to another thread).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { probeRawLimit } from './lib/limits.js';
import { inFreshProcess, log, n, nowMs, runBench, summarize } from './lib/run.js';
import { finish, row, target, type Row, type Table } from './lib/table.js';
import { ON_DISK_RECORD_BYTES } from './lib/workloads.js';

const WORK = new URL('./lib/ops-workloads.ts', import.meta.url);

/** One readdir of the log and one stat per file: a floor for any inspection of its files, ms. */
function listingFloorMs(dir: string, reps: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = nowMs();
    for (const f of readdirSync(dir)) statSync(join(dir, f));
    out.push(nowMs() - t0);
  }
  return out;
}

await runBench('ops', 'reactive-log operations benchmark: diagnostics channels and inspectLog', async (b) => {
  const cfg = b.pick({ reps: 5, n: 2_000_000, logRecords: 10_000_000, inspectReps: 50, probeMs: 1000, callReps: 500 }, { reps: 2, n: 400_000, logRecords: 1_000_000, inspectReps: 20, probeMs: 300, callReps: 100 });
  const rates = new Map<boolean, number[]>([[false, []], [true, []]]);
  log(`appends of ${n(cfg.n)} x 100 B, channels subscribed or not, ${cfg.reps} rounds...`);
  for (let r = 0; r < cfg.reps; r++) {
    for (const subscribed of [false, true]) {
      rates.get(subscribed)!.push(await inFreshProcess<number>(WORK, 'channelAppendRate', { dir: join(b.root, `ch-${subscribed}-${r}`), n: cfg.n, subscribed }));
    }
  }
  const raw = probeRawLimit(b.root, 3, cfg.probeMs);
  const rawRecs = raw.buffered1MiB.median / ON_DISK_RECORD_BYTES;

  log(`a log of ${n(cfg.logRecords)} records for inspectLog...`);
  const logDir = join(b.root, 'inspect');
  const logBytes = await inFreshProcess<number>(WORK, 'writeLog', { dir: logDir, n: cfg.logRecords });
  const inspect = summarize(await inFreshProcess<number[]>(WORK, 'inspectCost', { dir: logDir, warm: 5, reps: cfg.inspectReps }));
  listingFloorMs(logDir, 5);
  const floor = summarize(listingFloorMs(logDir, cfg.inspectReps));

  log('control calls...');
  const portFloor = summarize(await inFreshProcess<number[]>(WORK, 'portRoundTripCost', { warm: 200, reps: cfg.callReps }));
  const idleCall = summarize(await inFreshProcess<number[]>(WORK, 'controlCallCost', { dir: join(b.root, 'call-idle'), warm: 20, reps: cfg.callReps, appendsBetween: 0 }));
  const busyCall = summarize(await inFreshProcess<number[]>(WORK, 'controlCallCost', { dir: join(b.root, 'call-busy'), warm: 20, reps: cfg.callReps, appendsBetween: 10_000 }));

  const off = summarize(rates.get(false)!);
  const on = summarize(rates.get(true)!);
  const appendRows: Row[] = [
    row('raw 1 MiB writes, page cache', '-', summarize(raw.buffered1MiB.samples.map((v) => v / ON_DISK_RECORD_BYTES)), 'rec/s eq (B/s / 104)', { xRaw: 1 }),
    row('append, no subscriber', 'never', off, 'rec/s', { xRaw: off.median / rawRecs, xPeer: 1 }),
    row('append, every channel subscribed', 'never', on, 'rec/s', { xRaw: on.median / rawRecs, xPeer: on.median / off.median, ...target('>=', 0.95 * off.median, on.median) }),
  ];
  const tables: Table[] = [
    { title: 'appends, 100 B, with diagnostics channels', rows: appendRows, peer: 'x no subscriber', notes: ['x raw: rec/s over the raw page-cache write rate (104 bytes a record).'] },
    {
      title: `inspectLog, warm, log of ${n(cfg.logRecords)} records (${(logBytes / 2 ** 30).toFixed(2)} GiB)`,
      rows: [
        row('readdir + stat per file', '-', floor, 'ms', { xPeer: 1 }),
        row('inspectLog', '-', inspect, 'ms', { xPeer: inspect.median / floor.median, ...target('<', 20, inspect.median) }),
      ],
      peer: 'x listing floor',
    },
    {
      title: 'control calls to the writer thread (producer.segments())',
      rows: [
        row('MessagePort round trip to a worker', '-', portFloor, 'µs', { xPeer: 1 }),
        row('segments(), writer idle', 'never', idleCall, 'µs', { xPeer: idleCall.median / portFloor.median }),
        row('segments(), after 10,000 appends', 'never', busyCall, 'µs', { xPeer: busyCall.median / portFloor.median }),
      ],
      peer: 'x port round trip',
      notes: ['after 10,000 appends: the call waits for the writer to finish the group of records it is writing.'],
    },
  ];
  finish(b, tables, { config: cfg, raw, rates: { unsubscribed: rates.get(false), subscribed: rates.get(true) }, inspectMs: inspect, floorMs: floor, logBytes, callUs: { portFloor, idleCall, busyCall } });
});
