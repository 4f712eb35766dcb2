/**
 * The workloads of bench/threads.ts, each run in a fresh process (run.ts inFreshProcess) against the
 * library build named by `dist`: 100-byte appends from the owner's thread alone (the producer never
 * shared) or from 1, 2 or 4 attached worker threads (producer.share() / Producer.attach), all
 * released at once; records per second from the release to the last flush. And fan-out to thread
 * consumers that wait on the producer's shared memory or tail the files.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { fanOut, type FanOutRun, type FanOutWait } from './fanout.js';
import { nowMs } from './run.js';

type Lib = typeof import('../../dist/index.js');
const load = async (dist: string): Promise<Lib> => (await import(pathToFileURL(dist).href)) as Lib;
const APPENDER = new URL('../fixtures/attached-appender.mjs', import.meta.url);

export interface ThreadsArg {
  readonly dist: string;
  readonly dir: string;
  /** Records in all. */
  readonly n: number;
  /** 0: the owner appends, unshared; k > 0: k attached threads, n / k records each. */
  readonly threads: number;
}

/** Aggregate records per second (SyncPolicy.never, up to the flush that covers the last record). */
export async function threadAppendRate(a: ThreadsArg): Promise<number> {
  const { Producer, SyncPolicy } = await load(a.dist);
  const p = await Producer.open({ logDir: a.dir, syncPolicy: SyncPolicy.never(), maxTotalBytes: null });
  try {
    if (a.threads === 0) {
      const record = Buffer.alloc(100, 0x61);
      const t0 = nowMs();
      for (let i = 0; i < a.n; i++) p.append(record);
      await p.flush();
      return a.n / ((nowMs() - t0) / 1000);
    }
    const token = p.share();
    const barrier = new SharedArrayBuffer(4);
    const each = Math.floor(a.n / a.threads);
    const workers = Array.from({ length: a.threads }, () => new Worker(APPENDER, { workerData: { dist: a.dist, token, n: each, barrier } }));
    const message = (w: Worker): Promise<Record<string, number>> => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    await Promise.all(workers.map(message));
    const done = workers.map(message);
    const t0 = nowMs();
    Atomics.store(new Int32Array(barrier), 0, 1);
    Atomics.notify(new Int32Array(barrier), 0);
    await Promise.all(done);
    const rate = (each * a.threads) / ((nowMs() - t0) / 1000);
    await Promise.all(workers.map((w) => w.terminate()));
    return rate;
  } finally {
    await p.close();
  }
}

/** Fan-out to `consumers` thread consumers while the producer appends n records (bench/lib/fanout.ts). */
export async function fanOutCell(a: { dir: string; consumers: number; n: number; wait: FanOutWait }): Promise<FanOutRun> {
  return fanOut(a.dir, 'threads', a.consumers, a.n, a.wait);
}

const RAW_RING = new URL('../fixtures/raw-ring.mjs', import.meta.url);

export interface RawThreadsArg {
  readonly dir: string;
  readonly n: number;
  readonly threads: number;
  /** bench/fixtures/raw-ring.mjs: 'plain' (one thread, no lock), 'lock', 'add', 'add64' or 'order'. */
  readonly mode: 'plain' | 'lock' | 'add' | 'add64' | 'order';
}

/**
 * The raw multi-producer ceiling: `threads` worker threads append n records of 100 B in all into a
 * 16 MiB shared ring, a writer thread writes them to a page-cache file (bench/fixtures/raw-ring.mjs);
 * records per second from the release to the last record written.
 */
export async function rawThreadAppendRate(a: RawThreadsArg): Promise<number> {
  mkdirSync(a.dir, { recursive: true });
  const ctrl = new SharedArrayBuffer(64);
  const ring = new SharedArrayBuffer(104 * 161_319); // about 16 MiB, whole records
  const each = Math.floor(a.n / a.threads);
  const message = (w: Worker): Promise<unknown> => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
  const writer = new Worker(RAW_RING, { workerData: { role: 'writer', mode: a.mode, ctrl, ring, path: join(a.dir, 'raw.log') } });
  await message(writer);
  const producers = Array.from({ length: a.threads }, () => new Worker(RAW_RING, { workerData: { role: 'producer', mode: a.mode, ctrl, ring, n: each } }));
  await Promise.all(producers.map(message));
  const done = producers.map(message);
  const written = message(writer);
  const i32 = new Int32Array(ctrl);
  const t0 = nowMs();
  Atomics.store(i32, 5, 1);
  Atomics.notify(i32, 5);
  await Promise.all(done);
  Atomics.store(i32, 4, 1);
  const { bytes } = (await written) as { bytes: number };
  const ms = nowMs() - t0;
  if (bytes !== each * a.threads * 104) throw new Error(`raw ring: ${bytes} bytes written, ${each * a.threads * 104} appended`);
  await Promise.all([writer, ...producers].map((w) => w.terminate()));
  return (each * a.threads) / (ms / 1000);
}
