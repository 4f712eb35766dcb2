/**
 * Fan-out to 1/2/4 consumers (worker threads waiting on the producer's shared memory or tailing the
 * files, or one consumer with a pool) while a producer appends, and a slow transactional consumer held against blockingMinimumRetention.
 */
import { mkdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../../dist/index.js';
import { nowMs, sleep } from './run.js';
import { RECORD_BYTES } from './workloads.js';

const READER = new URL('../fixtures/fanout-reader.mjs', import.meta.url);
/** The raw ceiling of a fan-out consumer that checks every frame: the same files tailed without reactive-log (CRC checked, views handed out). */
const RAW_READER = new URL('../fixtures/raw-tail-reader.mjs', import.meta.url);
const COMMIT_HANDLER = new URL('../fixtures/commit-handler.mjs', import.meta.url);

interface ReaderDone {
  readonly ms: number;
  readonly count: number;
  readonly gaps: number;
}

async function startReader(data: Record<string, unknown>, fixture = READER): Promise<{ go: () => void; done: Promise<ReaderDone>; worker: Worker }> {
  const worker = new Worker(fixture, { workerData: data });
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  await ready;
  const done = new Promise<ReaderDone>((resolve, reject) => {
    worker.once('message', (m: ReaderDone) => resolve(m));
    worker.once('error', reject);
  });
  return { go: () => worker.postMessage('go'), done, worker };
}

/** Appends n 100-byte records (never) in chunks, yielding between them; returns ms until all written. */
async function produce(p: Producer, n: number): Promise<number> {
  const buf = Buffer.alloc(RECORD_BYTES, 0x66);
  const t0 = nowMs();
  for (let i = 0; i < n; i += 10_000) {
    for (let j = 0; j < 10_000 && i + j < n; j++) p.append(buf);
    await new Promise((r) => setImmediate(r));
  }
  while (p.writtenOffset < n) await sleep(1);
  return nowMs() - t0;
}

/**
 * How thread consumers wait for records: on the producer's shared memory (threads started after it
 * opened find it in their environment data) or on the files (threads started before it opened); or
 * 'raw': threads that tail the files without reactive-log (bench/fixtures/raw-tail-reader.mjs), the
 * ceiling of any consumer of these files that checks every frame beside this producer; or 'process': as
 * 'shared', the consumers reading with a processing function (blockingProcess) instead of `for await`.
 */
export type FanOutWait = 'shared' | 'files' | 'raw' | 'process';

export interface FanOutRun {
  readonly mode: 'threads' | 'pool';
  readonly consumers: number;
  /** Producer: records/s until everything was written, with the consumers running. */
  readonly producerRecPerSec: number;
  /** Records/s of the slowest consumer (from go to its last record). */
  readonly slowestConsumerRecPerSec: number;
}

/**
 * `consumers` nonTx readers in worker threads (mode threads) or one consumer with a pool of that many
 * workers running a commit-only handler module (mode pool), all from the oldest record, while the
 * producer appends n records; 0 consumers is the producer alone.
 */
export async function fanOut(logDir: string, mode: 'threads' | 'pool', consumers: number, n: number, wait: FanOutWait = 'shared'): Promise<FanOutRun> {
  const readers: Array<Awaited<ReturnType<typeof startReader>>> = [];
  if (mode === 'threads' && wait === 'files') {
    // Threads started before the producer opens do not get its shared memory: they tail the files.
    mkdirSync(logDir, { recursive: true });
    for (let k = 0; k < consumers; k++) readers.push(await startReader({ logDir, n, clientTx: false, spinUs: 0 }));
  }
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), maxTotalBytes: null });
  try {
    let poolDone: Promise<number> | null = null;
    let poolConsumer: Consumer | null = null;
    if (mode === 'threads') {
      if (wait === 'shared' || wait === 'process') for (let k = 0; k < consumers; k++) readers.push(await startReader({ logDir, n, clientTx: false, spinUs: 0, process: wait === 'process' }));
      if (wait === 'raw') for (let k = 0; k < consumers; k++) readers.push(await startReader({ logDir, n }, RAW_READER));
    } else if (consumers > 0) {
      poolConsumer = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    }
    const t0 = nowMs();
    for (const r of readers) r.go();
    if (poolConsumer !== null) {
      const c = poolConsumer;
      poolDone = c.blockingProcess(n, COMMIT_HANDLER, { workers: consumers }).then(() => nowMs() - t0);
    }
    const producerMs = await produce(p, n);
    const consumerMs = [...(await Promise.all(readers.map((r) => r.done))).map((d) => d.ms), ...(poolDone ? [await poolDone] : [])];
    await poolConsumer?.close();
    const slowest = consumerMs.length > 0 ? Math.max(...consumerMs) : NaN;
    return { mode, consumers, producerRecPerSec: n / (producerMs / 1000), slowestConsumerRecPerSec: n / (slowest / 1000) };
  } finally {
    await Promise.all(readers.map((r) => r.worker.terminate()));
    await p.close();
  }
}

export interface SlowRun {
  readonly records: number;
  readonly consumed: number;
  readonly gaps: number;
  readonly producerRecPerSec: number;
  readonly consumerRecPerSec: number;
  /** Longest single append() call, ms: how long the producer was held back at most. */
  readonly longestAppendMs: number;
  readonly logBytesLimit: number;
}

/**
 * A clientTx consumer in a worker thread that spins `spinUs` per record, against a producer limited to
 * `maxTotalBytes` (1 MiB segments) with blockingMinimumRetention: the producer must be held back
 * (longest append) and the consumer must get every record, in order, with no gap.
 */
export async function slowConsumer(logDir: string, n: number, spinUs: number, maxTotalBytes: number): Promise<SlowRun> {
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), maxTotalBytes, fileRollSize: 1024 * 1024, blockingMinimumRetention: 1, appendTimeoutMs: 120_000 });
  let reader: Awaited<ReturnType<typeof startReader>> | null = null;
  try {
    p.append(Buffer.alloc(RECORD_BYTES, 0x67)); // the log must exist before the consumer opens its cursor
    await p.flush();
    reader = await startReader({ logDir, n: n + 1, clientTx: true, spinUs });
    reader.go();
    const buf = Buffer.alloc(RECORD_BYTES, 0x67);
    let longest = 0;
    const t0 = nowMs();
    for (let i = 0; i < n; i++) {
      const a = nowMs();
      p.append(buf);
      const d = nowMs() - a;
      if (d > longest) longest = d;
      if ((i & 4095) === 0) await new Promise((r) => setImmediate(r));
    }
    await p.flush();
    const producerMs = nowMs() - t0;
    const done = await reader.done;
    return { records: n, consumed: done.count - 1, gaps: done.gaps, producerRecPerSec: n / (producerMs / 1000), consumerRecPerSec: done.count / (done.ms / 1000), longestAppendMs: longest, logBytesLimit: maxTotalBytes };
  } finally {
    await reader?.worker.terminate();
    await p.close();
  }
}
