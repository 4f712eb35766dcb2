/**
 * One question: how fast another process appends through the funnel (`Producer.connect`), beside
 * the owner's own append rate in the same run.
 *
 *   node --import tsx bench/funnel.ts [--quick] [--dir <base>]
 *
 * Each cell runs in a fresh process (its log deleted once measured), the rows alternating round by
 * round:
 * 1. the owner appending 100 B records itself (SyncPolicy.never, up to flush);
 * 2. a remote producer in a second process appending 100 B records pipelined (no await per
 *    record) through an owner in the cell's process, then flush() (target: at least 1,000,000 rec/s):
 *    every append issued at once, and in windows of 8,192 (the previous window's last append is
 *    awaited after each window, which bounds the records held in memory);
 * 3. the physical limit: the same bytes through a Unix socket from one process to another.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inFreshCell, log, n, runBench, summarize } from './lib/run.js';
import { finish, row, target, type Table } from './lib/table.js';

const RECORDS = new URL('./lib/records-workloads.ts', import.meta.url);
const FUNNEL = new URL('./lib/funnel-workloads.ts', import.meta.url);
const CURRENT = fileURLToPath(new URL('../dist/index.js', import.meta.url));

await runBench('funnel', 'reactive-log funnel benchmark: appends from another process', async (b) => {
  const cfg = b.pick({ reps: 5, n: 1_000_000 }, { reps: 2, n: 300_000 });
  const owner: number[] = [];
  const remote: number[] = [];
  const windowed: number[] = [];
  const raw: number[] = [];
  log(`appends of ${n(cfg.n)} x 100 B, ${cfg.reps} rounds, cells alternating...`);
  for (let r = 0; r < cfg.reps; r++) {
    owner.push(await inFreshCell<number>(RECORDS, 'appendRate', { dist: CURRENT, dir: join(b.root, `owner-${r}`), n: cfg.n, kind: 'plain' }));
    remote.push(await inFreshCell<number>(FUNNEL, 'remoteRate', { dir: join(b.root, `remote-${r}`), n: cfg.n, window: 0 }));
    windowed.push(await inFreshCell<number>(FUNNEL, 'remoteRate', { dir: join(b.root, `windowed-${r}`), n: cfg.n, window: 8192 }));
    raw.push(await inFreshCell<number>(FUNNEL, 'socketRate', { dir: join(b.root, `raw-${r}`), n: cfg.n }));
  }
  const lim = summarize(raw);
  const own = summarize(owner);
  const far = summarize(remote);
  const win = summarize(windowed);
  const tables: Table[] = [{
    title: 'appends, 100 B, SyncPolicy.never, up to flush()',
    rows: [
      row('raw: the same bytes through a Unix socket', '-', lim, 'rec/s eq (104 B)', { xRaw: 1 }),
      row('owner: producer.append', 'never', own, 'rec/s', { xPeer: 1 }),
      row('remote process: pipelined, all at once', 'never', far, 'rec/s', { xRaw: far.median / lim.median, xPeer: far.median / own.median, ...target('>=', 1_000_000, far.median) }),
      row('remote process: pipelined, windows of 8,192', 'never', win, 'rec/s', { xRaw: win.median / lim.median, xPeer: win.median / own.median, ...target('>=', 1_000_000, win.median) }),
    ],
    peer: 'x owner',
    notes: ['x raw: rec/s over the rate of the same bytes (100 B records with their 4-byte lengths) sent through a Unix socket from one process to another and only counted.'],
  }];
  finish(b, tables, { config: cfg, owner, remote, windowed, raw });
});
