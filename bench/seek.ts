/**
 * One question: how long `Consumer.open` at `Whence.position(n)` plus reading record n takes, warm
 * (this process, after it read the log, as in the suite) and cold (a fresh process, files evicted from
 * the page cache), and what the file calls of a warm seek cost.
 *
 *   node --import tsx bench/seek.ts [--quick] [--dir <base>] [records] [warm seeks] [cold seeks] [rounds]
 *
 * The log is built and read as the suite builds its read log (100 B records, never, then read 3 times
 * per mode). The file calls are timed in extra seeks through wrappers around node:fs (which add a
 * little to each call), beside the reader's whole time per seek, against one raw 100 B
 * write+fdatasync of the same run for scale. A full run writes bench/results/seek.json.
 */
import { join } from 'node:path';
import { tinyOnce } from './lib/limits.js';
import { log, n, nowMs, one, runBench, summarize, type Percentiles } from './lib/run.js';
import { finish, row, type Row, type Table } from './lib/table.js';
import { coldSeek, readBoth, recordFsCalls, warmSeeks } from './lib/workloads.js';

await runBench('seek', 'reactive-log seek benchmark', async (b) => {
  const records = b.num(0, b.pick(5_000_000, 1_000_000));
  const seeks = b.num(1, b.pick(20_000, 1_000));
  const colds = b.num(2, b.pick(7, 3));
  const rounds = b.num(3, b.pick(3, 1));
  const dir = join(b.root, 'read');
  log(`raw fdatasync, then ${n(records)} records of 100 B, read 3 times per mode...`);
  const fsyncUs = 1e6 / tinyOnce(b.root, 'raw-tiny.bin', b.pick(1000, 300));
  await readBoth(dir, records, 3);

  log(`${rounds} rounds of ${n(seeks)} warm seeks, ${n(seeks)} seeks with their file calls timed, ${colds} cold seeks...`);
  const warm: Percentiles[] = [];
  for (let r = 0; r < rounds; r++) warm.push(await warmSeeks(dir, records, seeks));
  const stop = recordFsCalls(true);
  const t0 = nowMs();
  await warmSeeks(dir, records, seeks);
  const wholeUs = ((nowMs() - t0) * 1000) / seeks;
  const calls = stop();
  const cold = []; // last: a cold seek evicts the log's files from the page cache
  for (let i = 0; i < colds; i++) cold.push(await coldSeek(dir, Math.floor(Math.random() * records)));

  const callRows: Row[] = Object.entries(calls).sort((x, y) => y[1].ns - x[1].ns).filter(([, c]) => c.ns / seeks >= 50).map(([k, c]) =>
    row(`${k}: ${(c.calls / seeks).toFixed(2)} calls a seek, ${(c.ns / c.calls / 1000).toFixed(2)} µs a call`, 'warm', one(c.ns / seeks / 1000), 'µs a seek', { xPeer: c.ns / seeks / 1000 / wholeUs }));
  const allCallsUs = Object.values(calls).reduce((a, c) => a + c.ns, 0) / seeks / 1000;
  const p = (k: 'p50' | 'p99'): ReturnType<typeof summarize> => summarize(warm.map((w) => w[k]));
  const tables: Table[] = [{
    title: `Seek: Consumer.open at Whence.position(n) + reading record n (${n(records)}-record log)`,
    rows: [
      row('raw fdatasync (100 B append), for scale', '-', one(fsyncUs), 'µs', { xRaw: 1 }),
      row(`warm p50 (${rounds} rounds of ${n(seeks)})`, 'warm', p('p50'), 'µs', { xRaw: p('p50').median / fsyncUs, target: '< 20 µs', met: p('p50').median < 20 }),
      row('warm p99', 'warm', p('p99'), 'µs', { xRaw: p('p99').median / fsyncUs }),
      row(`cold (fresh process${cold.every((c) => c.evicted) ? ', files evicted from the page cache' : ''})`, 'cold', summarize(cold.map((c) => c.us)), 'µs', { xRaw: summarize(cold.map((c) => c.us)).median / fsyncUs }),
      row('warm seek with its file calls timed, mean', 'warm', one(wholeUs), 'µs a seek', { xPeer: 1 }),
      row('  all file calls', 'warm', one(allCallsUs), 'µs a seek', { xPeer: allCallsUs / wholeUs }),
      ...callRows,
    ],
    peer: 'x timed seek',
    notes: ['x raw: over one raw 100 B write+fdatasync. x timed seek: the share of the mean seek timed with its file calls (calls under 0.05 µs a seek left out).'],
  }];
  finish(b, tables, { config: { records, seeks, colds, rounds }, fsyncUs, warm, cold, calls, wholeUs });
});
