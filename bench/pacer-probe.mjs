// Diagnostic (docs/performance.md, "Consumer pools"): how the benchmark's pacer alone shapes the
// latency tail on a 2-core machine. A producer appends 100 B records at 100,000 rec/s, each stamped
// with its intended send time; a plain worker thread (no pool) waits on the producer's control block
// and reads them. Pacer "spin": the main thread spins between sends; "sleep": it sleeps 1 µs in
// Atomics.wait (about 70 µs with the kernel's timer slack) and sends what fell due in one burst.
// Reaches into the producer's control block (not public API): a probe, not a product path.
//   npm run build && node bench/pacer-probe.mjs [spin|sleep] [records]
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';

const mode = process.argv[2] ?? 'sleep';
if (mode !== 'spin' && mode !== 'sleep') throw new Error(`expected spin or sleep, got ${mode}`);
const N = Number(process.argv[3] ?? 300_000);
const WARM = Math.floor(N / 6);
const dir = mkdtempSync(join(tmpdir(), 'pacer-probe-'));
try {
  const p = await Producer.open({ logDir: dir, syncPolicy: SyncPolicy.never(), maxTotalBytes: null });
  const lat = new SharedArrayBuffer(8 * N);
  const cnt = new SharedArrayBuffer(8);
  const w = new Worker(new URL('./fixtures/pacer-probe-thread.mjs', import.meta.url), { workerData: { dir, control: p.local.shared.control, lat, cnt } });
  await new Promise((resolve) => w.once('message', resolve));
  const buf = Buffer.alloc(100, 1);
  const now = () => performance.timeOrigin + performance.now();
  const periodMs = 0.01;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const t0 = now() + 5;
  let i = 0;
  await new Promise((resolve) => {
    const tick = () => {
      let t = now();
      for (; i < N; i++) {
        const due = t0 + i * periodMs;
        if (due > t) break;
        buf.writeDoubleLE(due, 0);
        p.append(buf);
        if ((i & 63) === 0) t = now();
      }
      if (i >= N) return resolve();
      if (mode === 'sleep') Atomics.wait(nap, 0, 0, 0.001);
      setImmediate(tick);
    };
    setImmediate(tick);
  });
  const c32 = new Int32Array(cnt);
  while (Atomics.load(c32, 0) < N) await new Promise((r) => setTimeout(r, 5));
  Atomics.store(c32, 1, 1);
  await w.terminate();
  await p.close();
  const a = Array.from(new Float64Array(lat).subarray(WARM, N)).sort((x, y) => x - y);
  const q = (f) => a[Math.floor(f * (a.length - 1))].toFixed(0);
  console.log(`pacer ${mode}: latency µs p50 ${q(0.5)}  p99 ${q(0.99)}  p99.9 ${q(0.999)}  max ${q(1)} over ${a.length} records (first ${WARM} not counted)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
