/**
 * One question: how fast reactive-log appends, beside the raw writes of the same disk and the peers,
 * and what append() costs the caller's thread.
 *
 *   node --import tsx bench/append.ts [--quick] [--dir <base>] [--sizes 100,1024]
 *
 * 1. The suite's throughput matrix for the given record sizes (default 100 B): reactive-log, the peers
 *    and the raw writes in their own processes, never / periodic / always, alternating order.
 * 2. append() on the main thread, `never`: ns per append in a flat loop (the writer sets the pace once
 *    the ring is full) and in bursts that fit in an empty ring, against the raw page-cache write rate
 *    of the same run (the ceiling of `never`). Target: < 250 ns an append in the flat loop.
 * 3. append() of 4 KiB and 64 KiB records on the main thread (bursts into an empty ring), beside the
 *    fastest copy of the same bytes into shared memory (the physical limit of the producer's side) and
 *    the copy 4 bytes off alignment (what V8 copies byte by byte; src/ring/shared-copy.ts avoids it).
 * A full run writes bench/results/append.json.
 */
import { probeRawLimit } from './lib/limits.js';
import { matrixTables, runMatrix } from './lib/matrix.js';
import { ensurePeers } from './lib/peers.js';
import { log, n, repeat, runBench, summarize } from './lib/run.js';
import { printTable, printTargets, row, target, type Table } from './lib/table.js';
import { ON_DISK_RECORD_BYTES, appendCost, largeAppendCost } from './lib/workloads.js';

await runBench('append', 'reactive-log append benchmark', async (b) => {
  const cfg = b.pick(
    { probeReps: 5, probeMs: 1000, tp: { reps: 5, warmMs: 300, measureMs: 1000 }, reps: 7, appendN: 5_000_000, bursts: 5, burstN: 200_000 },
    { probeReps: 2, probeMs: 300, tp: { reps: 2, warmMs: 100, measureMs: 300 }, reps: 3, appendN: 1_000_000, bursts: 3, burstN: 100_000 },
  );
  const sizes = (b.flag('sizes') ?? '100').split(',').map(Number);

  log('peers and their servers...');
  const { ports, servers } = await ensurePeers(b.root);
  log(`append throughput, ${sizes.join(', ')} B: ${cfg.tp.reps} reps, ${cfg.tp.warmMs} ms warm-up + ${cfg.tp.measureMs} ms per cell...`);
  let matrix;
  try {
    matrix = await runMatrix(b.root, { ...cfg.tp, sizes }, ports);
  } finally {
    for (const s of servers) await s.stop();
  }

  log(`append() cost: raw page-cache writes, then ${cfg.reps} x ${n(cfg.appendN)} appends and ${cfg.bursts} bursts of ${n(cfg.burstN)}...`);
  const raw = probeRawLimit(b.root, cfg.probeReps, cfg.probeMs);
  const cacheRecs = raw.buffered1MiB.median / ON_DISK_RECORD_BYTES;
  const costs = await repeat(b.root, 'cost', cfg.reps, (d, r) => appendCost(d, r < 0 ? cfg.appendN / 5 : cfg.appendN, cfg.bursts, cfg.burstN), 1);
  const loop = summarize(costs.map((c) => c.loopNs));
  const burst = summarize(costs.flatMap((c) => c.burstNs));
  const cache = summarize(raw.buffered1MiB.samples.map((v) => v / ON_DISK_RECORD_BYTES));
  log(`append() of 4 KiB and 64 KiB records: ${cfg.reps} runs each...`);
  const large = [];
  for (const size of [4096, 65536]) {
    const runs = await repeat(b.root, `large-${size}`, cfg.reps, (d) => largeAppendCost(d, size, cfg.bursts), 0);
    const append = summarize(runs.map((r) => r.appendNs));
    const aligned = summarize(runs.map((r) => r.alignedCopyNs));
    const misaligned = summarize(runs.map((r) => r.misalignedCopyNs));
    large.push(
      row(`${size / 1024} KiB: copy into shared memory, same alignment`, '-', aligned, 'ns/record', { xRaw: 1 }),
      row(`${size / 1024} KiB: copy into shared memory, 4 bytes off`, '-', misaligned, 'ns/record', { xRaw: aligned.median / misaligned.median }),
      row(`${size / 1024} KiB: append()`, 'never', append, 'ns/append', { xRaw: aligned.median / append.median }),
    );
  }
  const tables: Table[] = [...matrixTables(matrix, sizes), {
    title: 'append() on the caller\'s thread (100 B, never)',
    rows: [
      row('raw 1 MiB writes, page cache', '-', cache, 'rec/s eq (B/s / 104)', { xRaw: 1 }),
      row(`append() in a flat loop of ${n(cfg.appendN)}`, 'never', loop, 'ns/append', { xRaw: 1e9 / loop.median / cacheRecs, ...target('<', 250, loop.median) }),
      row(`append() in bursts of ${n(cfg.burstN)} into an empty ring`, 'never', burst, 'ns/append', { xRaw: 1e9 / burst.median / cacheRecs }),
    ],
    notes: ['x raw: 1e9 / ns as rec/s over the raw page-cache write rate, 104 bytes a record (4-byte length + payload).'],
  }, {
    title: 'append() of large records on the caller\'s thread (never, bursts into an empty 64 MiB ring)',
    rows: large,
    notes: ['x raw: the aligned copy\'s time over the row\'s. Every second record lands 4 bytes off its source\'s alignment and is copied twice (once privately).'],
  }];
  for (const t of tables) printTable(t);
  printTargets(tables);
  log(`\nresults: ${b.writeResults({ config: { ...cfg, sizes }, raw, matrix, costs, tables })}`);
});
