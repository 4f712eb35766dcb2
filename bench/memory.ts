/**
 * One question: how much memory a producer and a consumer hold while they move a large log, beside a
 * process that moves the same bytes raw.
 *
 *   node --import tsx bench/memory.ts [--quick] [--dir <base>]
 *
 * In fresh processes, peak resident memory (the kernel's maxRSS, every thread of the process):
 * 1. a producer appending 10 GiB of 1 KiB records (1 GiB in --quick; SyncPolicy.never, no retention):
 *    target under ringBytes + 64 MiB; beside 1 MiB writes of the same bytes from one buffer;
 * 2. a consumer reading that log with iter() from the oldest record: target under 64 MiB; beside
 *    1 MiB preads of the same segment files into one buffer.
 * The raw processes show what Node itself holds (its heap, code and threads) before any log work.
 * Each cell is plain `node` running bench/lib/memory-cell.mjs on dist/ (no TypeScript loader).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inChild, log, n, runBench, summarize } from './lib/run.js';
import { finish, row, target, type Row } from './lib/table.js';

/** What a cell of bench/lib/memory-cell.mjs prints. */
interface MemoryCell {
  /** Peak resident memory of the process, bytes. */
  readonly maxRssBytes: number;
  /** Records (producer, consumer) or bytes (raw cells) moved. */
  readonly moved: number;
  readonly seconds: number;
}

const CELL = fileURLToPath(new URL('./lib/memory-cell.mjs', import.meta.url));
/** Runs one cell in a fresh plain node process. */
const cell = (arg: Record<string, unknown>): Promise<MemoryCell> => inChild<MemoryCell>(CELL, [JSON.stringify(arg)], { timeoutMs: 1_800_000 });
const MiB = 1024 * 1024;
/** The producer's default ring (ProducerOptions.ringBytes). */
const RING_BYTES = 32 * MiB;

await runBench('memory', 'reactive-log memory benchmark: peak resident memory moving a large log', async (b) => {
  const cfg = b.pick({ bytes: 10 * 1024 * MiB, reps: 2 }, { bytes: 1024 * MiB, reps: 1 });
  const cells = { rawWrite: [] as MemoryCell[], producer: [] as MemoryCell[], rawRead: [] as MemoryCell[], consumer: [] as MemoryCell[] };
  for (let r = 0; r < cfg.reps; r++) {
    const dir = join(b.root, `log-${r}`);
    const rawDir = join(b.root, `raw-${r}`);
    mkdirSync(rawDir, { recursive: true });
    log(`round ${r + 1}: ${n(cfg.bytes / MiB)} MiB raw, then through a producer, then read back...`);
    cells.rawWrite.push(await cell({ cell: 'rawWrites', dir: rawDir, bytes: cfg.bytes }));
    cells.producer.push(await cell({ cell: 'producer', dir, bytes: cfg.bytes }));
    cells.rawRead.push(await cell({ cell: 'rawReads', dir }));
    cells.consumer.push(await cell({ cell: 'consumer', dir }));
    const expected = Math.floor(cfg.bytes / 1024);
    if (cells.consumer.at(-1)!.moved !== expected) throw new Error(`the consumer read ${cells.consumer.at(-1)!.moved} records of ${expected}`);
    rmSync(dir, { recursive: true, force: true });
    rmSync(rawDir, { recursive: true, force: true });
  }
  const mib = (cs: MemoryCell[]) => summarize(cs.map((c) => c.maxRssBytes / MiB));
  const rawW = mib(cells.rawWrite);
  const prod = mib(cells.producer);
  const rawR = mib(cells.rawRead);
  const cons = mib(cells.consumer);
  const rows: Row[] = [
    row('raw 1 MiB writes, one buffer', '-', rawW, 'MiB peak RSS', { xPeer: 1 }),
    row(`producer, ${n(cfg.bytes / MiB)} MiB of 1 KiB records`, 'never', prod, 'MiB peak RSS', { xPeer: prod.median / rawW.median, ...target('<', RING_BYTES / MiB + 64, prod.max) }),
    row('raw 1 MiB preads, one buffer', '-', rawR, 'MiB peak RSS', { xPeer: 1 }),
    row('consumer iter(), oldest to end', '-', cons, 'MiB peak RSS', { xPeer: cons.median / rawR.median, ...target('<', 64, cons.max) }),
  ];
  finish(b, [{
    title: `peak resident memory moving ${n(cfg.bytes / MiB)} MiB (default ring: ${RING_BYTES / MiB} MiB)`,
    rows,
    peer: 'x raw',
    notes: ['targets are checked against the largest of the rounds; x raw: over the raw process of the same direction (what Node itself holds).'],
  }], { config: cfg, cells });
});
