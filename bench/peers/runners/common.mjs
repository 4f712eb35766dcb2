import { execFileSync } from 'node:child_process';
// Shared by the throughput runners: each system runs in its own child process (plain node, no tsx),
// gets its cells as JSON in argv[2] and prints one JSON line with the results on stdout.
//
// A cell is { recordBytes, level, warmMs, measureMs, batchRecords, dir }. The runner's `open(cell)`
// returns a session { send(payload, n), settle(), close() }: send() issues n records (it may return a
// promise: the runner awaits it only when it says the batch must be waited for), settle() resolves
// once every record sent is acknowledged at the cell's level. A cell's figure is records over the time
// from the first send to settle() of the measured window, after a warm-up window on the same session.

export const now = () => Number(process.hrtime.bigint()) / 1e6;

/** Sends batches for about `ms`, keeping at most `inFlight` unsettled batch promises; then settles. */
async function window(session, payload, batchRecords, ms, inFlight) {
  const pending = [];
  let records = 0;
  const t0 = now();
  while (now() - t0 < ms) {
    const p = session.send(payload, batchRecords);
    records += batchRecords;
    if (p !== undefined) {
      pending.push(p);
      if (pending.length >= inFlight) await pending.shift();
    }
  }
  await Promise.all(pending);
  await session.settle();
  const seconds = (now() - t0) / 1000;
  return { records, seconds, recPerSec: records / seconds };
}

/**
 * Runs every cell of the spec with `system.open`, printing {cells: [...]} as the last stdout line. A
 * cell the system has no mode for comes back as { skipped: reason } (system.skip(cell) says why).
 */
export async function runCells(system) {
  const spec = JSON.parse(process.argv[2]);
  const out = [];
  for (const cell of spec.cells) {
    const reason = system.skip?.(cell, spec) ?? null;
    if (reason !== null) {
      out.push({ ...cell, skipped: reason });
      continue;
    }
    const payload = Buffer.alloc(cell.recordBytes, 0x61);
    // Write back what earlier cells left dirty in the page cache first: otherwise its writeback runs
    // during this cell and charges one system for another's bytes (64 KiB cells write gigabytes).
    execFileSync('sync');
    const session = await system.open(cell, spec);
    try {
      await window(session, payload, cell.batchRecords, cell.warmMs, system.inFlight ?? 4);
      const r = await window(session, payload, cell.batchRecords, cell.measureMs, system.inFlight ?? 4);
      out.push({ ...cell, ...r, diskBytes: session.diskBytes?.() ?? null });
    } finally {
      await session.close();
    }
  }
  console.log(JSON.stringify({ cells: out }));
}
