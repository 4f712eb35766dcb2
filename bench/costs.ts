/**
 * One question: where an append's time goes. For 100 B, 1 KiB and 64 KiB records under `never` and
 * `always`, the CPU time per record of the producer's thread and of the writer thread (from
 * /proc/self/task/<tid>/stat), the wall time per record (to the last record written under `never`,
 * to the flush under `always`), records per frame (one write each) and
 * records per fsync, beside the raw writes of the same run per record of that size. The thread that
 * is busy for most of the wall time is the bound; when neither is, the disk is. Under `never`, beside
 * them, the floor of any per-record append into shared memory (bench/lib/append-floor.ts).
 *
 *   node --import tsx bench/costs.ts [--quick] [--dir <base>] [MiB per cell]
 *
 * A full run writes bench/results/costs.json; docs/performance.md ("The cost model") reads it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Producer, SyncPolicy } from '../dist/index.js';
import { bareAppendRate } from './lib/append-floor.js';
import { probeRawLimit } from './lib/limits.js';
import { log, n, repeat, runBench, summarize, type Summary } from './lib/run.js';
import { finish, row, type Row, type Table } from './lib/table.js';

const SIZES = [100, 1024, 65536] as const;
const POLICIES = ['never', 'always'] as const;
/** A thread busy for at least this share of the wall time is taken as the bound. */
const BUSY = 0.8;

/** CPU ns of each thread of this process (clock ticks of /proc, 10 ms each on Linux). */
function threadCpuNs(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) * 1e7); // utime, stime (fields 14, 15)
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

interface Cell {
  readonly wallNs: number;
  readonly producerNs: number;
  /** The busiest thread other than the producer's: the writer. */
  readonly writerNs: number;
  readonly recordsPerFrame: number;
  readonly recordsPerFsync: number;
}

async function cell(logDir: string, size: number, policy: (typeof POLICIES)[number], bytes: number): Promise<Cell> {
  const records = Math.max(1000, Math.floor(bytes / (size + 4)));
  const rec = Buffer.alloc(size, 0x61);
  const p = await Producer.open({
    logDir, maxTotalBytes: null, maxRecordBytes: Math.max(size, 1024),
    syncPolicy: policy === 'never' ? SyncPolicy.never() : SyncPolicy.always(),
  });
  try {
    const before = threadCpuNs();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < records; i++) p.append(rec);
    // `never` ends when every record is written (flush() would add the fsync of the whole run); `always` when it is durable.
    if (policy === 'never') while (p.writtenOffset < records) await new Promise((r) => setTimeout(r, 1));
    else await p.flush();
    const wall = Number(process.hrtime.bigint() - t0);
    const after = threadCpuNs();
    const stats = p.stats();
    const used = [...after].map(([tid, ns]) => [tid, ns - (before.get(tid) ?? 0)] as const);
    const producer = used.find(([tid]) => tid === process.pid)?.[1] ?? 0;
    const writer = Math.max(0, ...used.filter(([tid]) => tid !== process.pid).map(([, ns]) => ns));
    return {
      wallNs: wall / records, producerNs: producer / records, writerNs: writer / records,
      recordsPerFrame: stats.records / Math.max(1, stats.frames), recordsPerFsync: stats.records / Math.max(1, stats.fsyncs),
    };
  } finally {
    await p.close();
  }
}

function bound(wall: number, producer: number, writer: number): string {
  if (producer >= BUSY * wall && producer >= writer) return 'producer thread';
  if (writer >= BUSY * wall) return 'writer thread';
  return 'disk (neither thread busy)';
}

await runBench('costs', 'reactive-log append cost model', async (b) => {
  const mib = b.num(0, b.pick(256, 64));
  const reps = b.pick(5, 2);
  log('raw writes: 1 MiB to the page cache, 1 MiB + fdatasync...');
  const raw = probeRawLimit(b.root, b.pick(3, 1), b.pick(1000, 300));
  const cells: Record<string, Cell[]> = {};
  const floors: Record<string, Summary> = {};
  const tables: Table[] = [];
  for (const policy of POLICIES) {
    const rawBps = policy === 'never' ? raw.buffered1MiB.median : raw.seq1MiB.median;
    const rows: Row[] = [];
    for (const size of SIZES) {
      log(`${size} B, ${policy}: ${reps} x ${mib} MiB...`);
      const runs = await repeat(b.root, `${policy}-${size}`, reps, (d) => cell(d, size, policy, mib * 1024 * 1024), 1);
      cells[`${policy}-${size}`] = runs;
      const m = (f: (c: Cell) => number): Summary => summarize(runs.map(f));
      const wall = m((c) => c.wallNs);
      const rawNs = ((size + 4) / rawBps) * 1e9;
      const prod = m((c) => c.producerNs);
      const writer = m((c) => c.writerNs);
      const per = `${n(Math.round(m((c) => c.recordsPerFrame).median))} records a frame, ${n(Math.round(m((c) => c.recordsPerFsync).median))} a fsync`;
      rows.push(row(`${size} B: raw 1 MiB writes${policy === 'always' ? ' + fdatasync' : ''}, per record`, policy, summarize([rawNs]), 'ns/record', { xRaw: 1 }));
      if (policy === 'never') {
        // What any per-record append into shared memory costs the calling thread (bench/lib/append-floor.ts).
        for (const placement of ['aligned', 'ring'] as const) {
          const floor = summarize(bareAppendRate(size, placement, Math.max(1000, Math.floor((mib * 1024 * 1024) / (size + 4))), reps).map((r) => 1e9 / r));
          floors[`${size}-${placement}`] = floor;
          const what = placement === 'aligned'
            ? 'floor: a bare append loop into shared memory, per record'
            : 'the same loop, data at 4 mod 8 from an 8-aligned source (copied byte by byte)';
          rows.push(row(`${size} B: ${what}`, '-', floor, 'ns/record', { xRaw: rawNs / floor.median }));
        }
      }
      rows.push(
        row(`${size} B: wall time per record (${per})`, policy, wall, 'ns/record', { xRaw: rawNs / wall.median }),
        row(`${size} B: producer thread CPU`, policy, prod, 'ns/record', { xPeer: prod.median / wall.median }),
        row(`${size} B: writer thread CPU`, policy, writer, 'ns/record', { xPeer: writer.median / wall.median }),
        row(`${size} B: bound: ${bound(wall.median, prod.median, writer.median)}`, policy, null, ''),
      );
    }
    tables.push({
      title: `Where an append's time goes, ${policy}`,
      rows,
      peer: 'busy',
      notes: [
        'x raw: the raw write time of the record\'s bytes (with its 4-byte length) over the wall time per record (above 1: faster than the raw cell).',
        ...(policy === 'never' ? [
          'floor: the least a per-record append into a SharedArrayBuffer ring does on the calling thread (length word, copy at the source\'s alignment, one Atomics.store; no checks, no writer): its x raw is the most any such append can reach against the raw cell.',
          'data at 4 mod 8 from a source at 0 mod 8: a record whose bytes lie off its source\'s alignment; V8 copies into shared memory byte by byte when the two differ modulo 8. reactive-log\'s ring starts 4 bytes into its buffer, so a run of records 4 mod 8 bytes long (100 B) lands aligned, and for other lengths the placement turns with each record (src/ring/ring-memory.ts); records of 160 B or more off alignment go through a private buffer at the ring\'s alignment (src/ring/shared-copy.ts).',
        ] : []),
        `busy: the thread's CPU time over the wall time. A thread busy for ${BUSY * 100}% or more is the bound; /proc counts CPU time in 10 ms ticks.`,
      ],
    });
  }
  finish(b, tables, { config: { mib, reps }, raw, cells, floors });
});
