/**
 * Seeks only: one question, how long `Consumer.open` at `Whence.position(n)` plus reading record n
 * takes, warm (this process, after it read the log once, as in the suite) and cold (a fresh process,
 * files evicted from the page cache). The log is built and read as `bench/suite.ts` builds its read
 * log (100 B records, SyncPolicy.never, then `reps` in-process and file-mode passes: 3 in the quick
 * suite, 5 in the full one), and the seeks are the suite's `warmSeeks` and `coldSeek`.
 *
 * Usage: node --import tsx bench/seek.ts [records=1000000] [warm seeks=1000] [cold seeks=3] [rounds=1] [reps=3]
 * Run `npm run build` first: the workloads load dist/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coldSeek, warmSeeks } from './lib/suite-extra.js';
import { readBoth } from './lib/workloads.js';

const [records = 1_000_000, seeks = 1_000, colds = 3, rounds = 1, reps = 3] = process.argv.slice(2).map(Number);
const root = mkdtempSync(join(tmpdir(), 'rlog-seek-'));
const fmt = (us: number): string => us.toFixed(1).padStart(8);
try {
  const dir = join(root, 'read');
  await readBoth(dir, records, reps);
  console.log(`${records.toLocaleString('en')} records of 100 B, read ${reps} times; ${seeks.toLocaleString('en')} warm seeks per round`);
  console.log('| round | p50 µs | p90 µs | p99 µs | max µs |');
  console.log('| ---: | ---: | ---: | ---: | ---: |');
  for (let r = 1; r <= rounds; r++) {
    const w = await warmSeeks(dir, records, seeks);
    console.log(`| ${r} | ${fmt(w.p50)} | ${fmt(w.p90)} | ${fmt(w.p99)} | ${fmt(w.max)} |`);
  }
  const cold: number[] = [];
  for (let i = 0; i < colds; i++) cold.push((await coldSeek(dir, Math.floor(Math.random() * records))).ms * 1000);
  if (cold.length > 0) console.log(`cold (fresh process, evicted): ${cold.map((us) => us.toFixed(0)).join(', ')} µs`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
