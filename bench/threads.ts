/**
 * One question: what producers on several threads and consumers on several threads of the producer's
 * process cost and gain, side by side in one run.
 *
 *   node --import tsx bench/threads.ts [--quick] [--dir <base>] [--base <path to another build's dist/index.js>]
 *
 * 1. 100 B appends (SyncPolicy.never, up to the last flush) from the owner's thread, never shared, and
 *    from 1, 2 and 4 attached threads (producer.share() / Producer.attach): the aggregate rate (target:
 *    at 2 and 4 threads at least 0.9x one thread). With --base, the owner alone in that build too (the
 *    unshared path must not get slower). Beside the raw page-cache write rate of the same run.
 * 2. Fan-out: 1, 2 and 4 consumer threads reading from the oldest record while the producer appends
 *    (never); threads started after the producer opened wait on its shared memory, threads started
 *    before tail the files (target: the slowest shared-memory consumer at least 0.8x the producer's
 *    rate at 1 and 2 consumers), reading with `for await` or with a processing function
 *    (blockingProcess); beside them, as the ceiling, raw tail readers of the same files
 *    (bench/fixtures/raw-tail-reader.mjs).
 * Each cell runs in a fresh process, the cells of a round alternating; a cell's log is deleted once
 * measured, so no cell runs under the writeback of the ones before it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeRawLimit } from './lib/limits.js';
import { inFreshCell, log, n, runBench, summarize, type Summary } from './lib/run.js';
import { finish, row, target, type Row, type Table } from './lib/table.js';
import { ON_DISK_RECORD_BYTES } from './lib/workloads.js';
import type { FanOutRun, FanOutWait } from './lib/fanout.js';

const WORK = new URL('./lib/threads-workloads.ts', import.meta.url);
const CURRENT = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const THREADS = [0, 1, 2, 4] as const;
const FAN = [1, 2, 4] as const;
/** The raw multi-producer ring's cells (bench/fixtures/raw-ring.mjs): the ceiling of each design. */
const RAW_CELLS = [['plain', 1], ['lock', 2], ['add', 2], ['add64', 2], ['order', 2], ['lock', 4], ['add', 4], ['add64', 4], ['order', 4]] as const;
/** What each raw ring design does per append (bench/fixtures/raw-ring.mjs). */
const RAW_HOW: Record<string, string> = {
  lock: 'a spin lock around each append',
  add: 'one Atomics.add a reservation, published by its length word, no offsets',
  add64: 'one 64-bit Atomics.add a reservation giving offset and position, published by its length word',
  order: 'one Atomics.add a reservation, published in reservation order, offset taken at publish',
};

await runBench('threads', 'reactive-log threads benchmark: producers and consumers on several threads', async (b) => {
  const cfg = b.pick({ reps: 5, n: 2_000_000, fanN: 1_000_000, probeMs: 1000 }, { reps: 2, n: 400_000, fanN: 200_000, probeMs: 300 });
  const base = b.flag('base');
  if (base !== null && !existsSync(base)) throw new Error(`--base ${base}: no such file`);
  const rates = new Map<string, number[]>();
  const fans = new Map<string, FanOutRun[]>();
  const add = <T>(m: Map<string, T[]>, k: string, v: T): void => void m.set(k, [...(m.get(k) ?? []), v]);

  log(`appends of ${n(cfg.n)} x 100 B from the owner and from 1/2/4 attached threads, fan-out of ${n(cfg.fanN)} to 1/2/4 threads, ${cfg.reps} rounds...`);
  for (let r = 0; r < cfg.reps; r++) {
    for (const threads of THREADS) {
      add(rates, `current ${threads}`, await inFreshCell<number>(WORK, 'threadAppendRate', { dist: CURRENT, dir: join(b.root, `a-${threads}-${r}`), n: cfg.n, threads }));
    }
    for (const [mode, threads] of RAW_CELLS) {
      add(rates, `raw ${mode} ${threads}`, await inFreshCell<number>(WORK, 'rawThreadAppendRate', { dir: join(b.root, `raw-${mode}-${threads}-${r}`), n: cfg.n, threads, mode }));
    }
    if (base !== null) add(rates, 'base 0', await inFreshCell<number>(WORK, 'threadAppendRate', { dist: base, dir: join(b.root, `base-${r}`), n: cfg.n, threads: 0 }));
    for (const consumers of FAN) {
      for (const wait of ['shared', 'process', 'files', 'raw'] as const) {
        add(fans, `${wait} ${consumers}`, await inFreshCell<FanOutRun>(WORK, 'fanOutCell', { dir: join(b.root, `f-${wait}-${consumers}-${r}`), consumers, n: cfg.fanN, wait }));
      }
    }
  }
  const raw = probeRawLimit(b.root, 3, cfg.probeMs);
  const rawRecs = raw.buffered1MiB.median / ON_DISK_RECORD_BYTES;

  const s = (k: string): Summary => summarize(rates.get(k)!);
  const alone = s('current 0');
  const appendRows: Row[] = [
    row('raw 1 MiB writes, page cache', '-', summarize(raw.buffered1MiB.samples.map((v) => v / ON_DISK_RECORD_BYTES)), 'rec/s eq (B/s / 104)', { xRaw: 1 }),
    row('owner thread, not shared', 'never', alone, 'rec/s', { xRaw: alone.median / rawRecs, xPeer: 1 }),
  ];
  if (base !== null) appendRows.push(row('owner thread, base build', 'never', s('base 0'), 'rec/s', { xRaw: s('base 0').median / rawRecs, xPeer: s('base 0').median / alone.median }));
  for (const k of [1, 2, 4]) {
    const agg = s(`current ${k}`);
    const goal = k === 1 ? {} : target('>=', 0.9 * alone.median, agg.median);
    appendRows.push(row(`${k} attached thread${k > 1 ? 's' : ''}, aggregate`, 'never', agg, 'rec/s', { xRaw: agg.median / rawRecs, xPeer: agg.median / alone.median, ...goal }));
  }
  const rawAlone = s('raw plain 1');
  appendRows.push(row('raw ring, one thread, no lock', 'never', rawAlone, 'rec/s', { xRaw: rawAlone.median / rawRecs, xPeer: rawAlone.median / alone.median }));
  for (const [mode, k] of RAW_CELLS.slice(1)) {
    const agg = s(`raw ${mode} ${k}`);
    const how = RAW_HOW[mode]!;
    appendRows.push(row(`raw ring, ${k} threads, ${how} (${(agg.median / rawAlone.median).toFixed(2)}x one thread)`, 'never', agg, 'rec/s', { xRaw: agg.median / rawRecs, xPeer: agg.median / alone.median }));
  }
  const fanRows: Row[] = [];
  for (const consumers of FAN) {
    for (const wait of ['shared', 'process', 'files', 'raw'] as FanOutWait[]) {
      const runs = fans.get(`${wait} ${consumers}`)!;
      const ratios = runs.map((f) => f.slowestConsumerRecPerSec / f.producerRecPerSec);
      const slowest = summarize(runs.map((f) => f.slowestConsumerRecPerSec));
      const ratio = summarize(ratios).median;
      const goal = (wait === 'shared' || wait === 'process') && consumers <= 2 ? target('>=', 0.8, ratio) : {};
      const how = { shared: 'shared memory, for await', process: 'shared memory, blockingProcess', files: 'tailing files, for await', raw: 'raw tail reader, no reactive-log' }[wait];
      fanRows.push(row(`${consumers} consumer${consumers > 1 ? 's' : ''}, ${how}`, 'never', slowest, 'rec/s slowest', { xPeer: ratio, ...goal }));
    }
  }
  const tables: Table[] = [
    { title: 'appends, 100 B, from several threads', rows: appendRows, peer: 'x owner alone', notes: ['x raw: rec/s over the raw page-cache write rate (104 bytes a record).', 'Two cores: the writer thread needs one of them, so more producer threads cannot add throughput here.', 'Raw ring rows: the same appends without reactive-log (bench/fixtures/raw-ring.mjs), the ceiling of each design of a multi-producer ring on this machine; x owner alone is over reactive-log\'s owner thread.'] },
    { title: `fan-out of ${n(cfg.fanN)} records to consumer threads while the producer appends`, rows: fanRows, peer: 'x producer (slowest / producer rate, median of ratios)', notes: ['Target on the ratio: at least 0.8 for 1 and 2 shared-memory consumers (for await, and a processing function: blockingProcess with a handler that checks the offset and commits).', 'Raw tail reader rows: threads that tail the same files beside the same producer without reactive-log (bench/fixtures/raw-tail-reader.mjs: 1 MiB preads into fresh buffers, each frame\'s CRC-32, a view per record, a 100 µs nap at the end of the data): the ceiling of any consumer of these files that checks every frame (consumers in the producer\'s process take its writer\'s fresh frames unchecked).'] },
  ];
  finish(b, tables, { config: { ...cfg, base }, raw, rates: Object.fromEntries(rates), fans: Object.fromEntries(fans) });
});
